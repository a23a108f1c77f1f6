"""Where the ground-truth masks of a video dataset come from.

* :class:`MaskDictMasks`: ``mask_dict.json`` (MeViS, ReVOS, LV-VIS and the converters' output):
  ``{str(anno_id): [per-frame COCO RLE or null]}``; null means the object is not in that frame.
* :class:`PngMasks`: palette PNGs ``Annotations/<video>/<frame>.png`` whose value is the object id
  (Ref-YouTube-VOS, DAVIS17); a frame without a PNG is marked as not annotated.
* :class:`ForegroundMasks`: ReVOS's ``mask_dict_foreground.json``, ``{video: {"masks_rle": [...]}}``.

Every source returns ``bool[T, H, W]`` (the union of the expression's objects) and ``bool[T]``
(which frames are annotated).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from visa_core.annotations import ExpressionEntry, VideoEntry, decode_frames, read_label_png
from visa_core.errors import DataFormatError
from visa_data.video.json_store import JsonObjectStore


class MaskSource(Protocol):
    """Ground truth of one dataset split."""

    def masks(
        self, video: VideoEntry, expression: ExpressionEntry, size: tuple[int, int]
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(bool[T, H, W] union of the expression's objects, bool[T] annotated)``."""
        ...

    def annotated_frames(self, video: VideoEntry) -> int:
        """How many of the video's frames have ground truth."""
        ...


class MaskDictMasks:
    """Masks from a ``mask_dict.json``; every listed frame is annotated (null = object absent)."""

    def __init__(self, path: Path, dataset: str, cache_dir: Path | None = None) -> None:
        self.path = path
        self.dataset = dataset
        self.store = JsonObjectStore(path, dataset, cache_dir)

    def masks(
        self, video: VideoEntry, expression: ExpressionEntry, size: tuple[int, int]
    ) -> tuple[np.ndarray, np.ndarray]:
        num_frames = len(video.frames)
        union = np.zeros((num_frames, *size), dtype=bool)
        item = f"video {video.video_id!r} expression {expression.exp_id!r}"
        for anno_id in expression.anno_ids:
            per_frame = self.store.get(anno_id)
            if per_frame is None:
                if expression.type_id == 2:  # a no-target expression may name no real object
                    continue
                raise DataFormatError(
                    f"{self.dataset}: {self.path}: {item} points at anno_id {anno_id}, "
                    "which the file does not hold"
                )
            items = [
                f"anno_id {anno_id} frame {t} ({frame!r} of {item})" for t, frame in enumerate(video.frames)
            ]
            track = f"anno_id {anno_id} ({item})"
            union |= decode_frames(per_frame, size, self.dataset, self.path, track, items, exact=True) > 0
        return union, np.ones(num_frames, dtype=bool)

    def annotated_frames(self, video: VideoEntry) -> int:
        return len(video.frames)


class PngMasks:
    """Masks from palette PNGs in ``folder/<video>/<frame>.png`` (pixel value = object id)."""

    def __init__(self, folder: Path, dataset: str) -> None:
        self.folder = folder
        self.dataset = dataset

    def frame_path(self, video: VideoEntry, frame: str) -> Path:
        return self.folder / video.video_id / f"{frame}.png"

    def masks(
        self, video: VideoEntry, expression: ExpressionEntry, size: tuple[int, int]
    ) -> tuple[np.ndarray, np.ndarray]:
        num_frames = len(video.frames)
        union = np.zeros((num_frames, *size), dtype=bool)
        annotated = np.zeros(num_frames, dtype=bool)
        seen = set()
        for t, frame in enumerate(video.frames):
            path = self.frame_path(video, frame)
            if not path.is_file():
                continue
            annotated[t] = True
            labels = read_label_png(path, self.dataset, size)
            for obj_id in expression.obj_ids:
                hit = labels == obj_id
                if hit.any():
                    seen.add(obj_id)
                    union[t] |= hit
        unknown = sorted(set(expression.obj_ids) - seen)
        if annotated.any() and unknown:
            raise DataFormatError(
                f"{self.dataset}: {self.folder / video.video_id}: video {video.video_id!r} expression "
                f"{expression.exp_id!r} points at object {unknown[0]}, which no annotation PNG contains"
            )
        return union, annotated

    def annotated_frames(self, video: VideoEntry) -> int:
        return sum(self.frame_path(video, frame).is_file() for frame in video.frames)


class ForegroundMasks:
    """ReVOS's per-video foreground (union of every annotated object), ``bool[T, H, W]``."""

    def __init__(self, path: Path, dataset: str, cache_dir: Path | None = None) -> None:
        self.path = path
        self.dataset = dataset
        self.store = JsonObjectStore(path, dataset, cache_dir)

    def foreground(self, video: VideoEntry, size: tuple[int, int]) -> np.ndarray:
        item = f"video {video.video_id!r}"
        entry = self.store.get(video.video_id)
        if entry is None:
            raise DataFormatError(f"{self.dataset}: {self.path} has no foreground for {item}")
        rles = entry.get("masks_rle") if isinstance(entry, dict) else None
        if rles is None:
            raise DataFormatError(
                f"{self.dataset}: {self.path}: {item} should have 'masks_rle' with one RLE per frame "
                f"({len(video.frames)} frames)"
            )
        items = [f"{item} frame {t}" for t in range(len(video.frames))]
        track = f"{item} 'masks_rle'"
        return decode_frames(rles, size, self.dataset, self.path, track, items, exact=True) > 0
