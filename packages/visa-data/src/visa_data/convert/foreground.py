"""ReVOS's ``mask_dict_foreground.json``: per video, the union of every annotated object per frame.

Format: ``{video_id: {"masks_rle": [COCO RLE per frame], "foreground_ratio": [float per frame]}}``
(the ratio is the foreground's share of the frame's pixels).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from visa_core.annotations import VideoEntry, encode_rle, read_meta_expressions, write_json
from visa_core.errors import DataFormatError
from visa_data.video.masks import MaskDictMasks


def foreground_entry(foreground: np.ndarray) -> dict[str, Any]:
    """The json entry of one video from its foreground ``bool[T, H, W]``."""
    return {
        "masks_rle": [encode_rle(frame) for frame in foreground],
        "foreground_ratio": [float(frame.mean()) for frame in foreground],
    }


def make_foreground(
    meta_expressions: Sequence[Path],
    mask_dict: Path,
    out: Path,
    frames_dir: Path | None = None,
    dataset: str = "revos",
) -> int:
    """Write the foreground file of every video listed in ``meta_expressions``; return the video count.

    A video's frame size comes from its ``height`` / ``width`` in the meta file, else from its first
    frame in ``frames_dir/<video>/``. Expressions of a video found in several files are all used.
    """
    from tqdm.auto import tqdm

    videos: dict[str, list[VideoEntry]] = {}
    for path in meta_expressions:
        for video in read_meta_expressions(path, dataset, order="id"):
            videos.setdefault(video.video_id, []).append(video)
    masks = MaskDictMasks(mask_dict, dataset)
    entries = {}
    for video_id in tqdm(sorted(videos), desc="foreground", unit="video"):
        listed = videos[video_id]
        size = _frame_size(listed[0], frames_dir, dataset)
        foreground = np.zeros((len(listed[0].frames), *size), dtype=bool)
        for video in listed:
            if video.frames != listed[0].frames:
                raise DataFormatError(
                    f"{dataset}: video {video_id!r} lists different frames in different files"
                )
            for expression in video.expressions:
                foreground |= masks.masks(video, expression, size)[0]
        entries[video_id] = foreground_entry(foreground)
    write_json(out, entries)
    return len(entries)


def _frame_size(video: VideoEntry, frames_dir: Path | None, dataset: str) -> tuple[int, int]:
    if video.size is not None:
        return video.size
    if frames_dir is None or not video.frames:
        raise DataFormatError(
            f"{dataset}: video {video.video_id!r} has no height/width in its meta file; "
            "pass the frames folder"
        )
    from PIL import Image

    path = frames_dir / video.video_id / f"{video.frames[0]}.jpg"
    if not path.is_file():
        raise DataFormatError(f"{dataset}: frame {path} of video {video.video_id!r} does not exist")
    with Image.open(path) as image:
        return image.height, image.width
