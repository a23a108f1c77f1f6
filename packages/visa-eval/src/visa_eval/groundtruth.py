"""The ground-truth masks of ``meta_expressions`` + ``mask_dict`` datasets, as the evaluators need them.

* ``mask_dict.json``: ``{str(anno_id): [COCO RLE or null per frame]}`` (ReVOS, MeViS).
* ``mask_dict_foreground.json`` (ReVOS): ``{video: {"masks_rle": [RLE per frame], ...}}``.

The files are read by :mod:`visa_core.annotations`; masks stay ``uint8`` so that objects that
overlap sum (2 where two do), as the official ``eval_revos.py`` computes them for its 0/255
"legacy" semantics. Each RLE is decoded once per video (:class:`VideoMasks`). Errors name the file
and the item.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from visa_core.annotations import ExpressionEntry, VideoEntry, decode_frames, rle_size
from visa_core.errors import DataFormatError
from visa_eval import bitmask, rle_bits


@dataclass
class VideoMasks:
    """The object masks of one video, decoded on first use and kept for the video's expressions.

    ``mask_dict`` maps ``str(anno_id)`` to one RLE (or null) per frame of ``video``.
    """

    video: VideoEntry
    mask_dict: Mapping[str, Sequence[Any]]
    source: Path
    _decoded: dict[str, np.ndarray] = field(default_factory=dict)
    _packed: dict[str, np.ndarray] = field(default_factory=dict)

    def frame_size(self) -> tuple[int, int] | None:
        """``(H, W)`` from the first non-null RLE of any object of the video, else the meta size."""
        for expression in self.video.expressions:
            for anno_id in expression.anno_ids:
                frames = self._frames_of(anno_id)
                for t, rle in enumerate(frames if isinstance(frames, list) else []):
                    if rle is not None:
                        return rle_size(rle, None, self.source, self._item(anno_id, t))
        return self.video.size

    def object_masks(self, anno_id: str, size: tuple[int, int]) -> np.ndarray:
        """``uint8[T, H, W]`` of one object (0 on frames whose RLE is null)."""
        if anno_id not in self._decoded:
            items = [self._item(anno_id, t) for t in range(len(self.video.frames))]
            track = f"anno_id {anno_id} (video {self.video.video_id!r})"
            self._decoded[anno_id] = decode_frames(
                self._frames_of(anno_id), size, None, self.source, track, items
            )
        return self._decoded[anno_id]

    def target_values(self, expression: ExpressionEntry, size: tuple[int, int]) -> np.ndarray:
        """``uint8[T, H, W]``: the sum of the expression's object masks (2 where two overlap)."""
        total = np.zeros((len(self.video.frames), *size), dtype=np.uint8)
        for anno_id in expression.anno_ids:
            total += self.object_masks(anno_id, size)
        return total

    def target_bits(self, expression: ExpressionEntry, size: tuple[int, int]) -> np.ndarray:
        """``uint64[T, H, K]`` (:mod:`visa_eval.bitmask`): the union of the expression's objects.

        Each object's RLEs are decoded once, straight into bits (:mod:`visa_eval.rle_bits`).
        """
        total = np.zeros((len(self.video.frames), size[0], -(-size[1] // bitmask.WORD_BITS)), dtype=np.uint64)
        for anno_id in expression.anno_ids:
            if anno_id not in self._packed:
                items = [self._item(anno_id, t) for t in range(len(self.video.frames))]
                track = f"anno_id {anno_id} (video {self.video.video_id!r})"
                self._packed[anno_id] = rle_bits.packed_frames(
                    self._frames_of(anno_id), size, self.source, track, items
                )
            total |= self._packed[anno_id]
        return total

    def _frames_of(self, anno_id: str) -> Sequence[Any]:
        if anno_id not in self.mask_dict:
            raise DataFormatError(
                f"{self.source}: no masks for anno_id {anno_id} (video {self.video.video_id!r})"
            )
        return self.mask_dict[anno_id]

    def _item(self, anno_id: str, frame: int) -> str:
        return f"anno_id {anno_id} frame {frame} ({self.video.video_id}/{self.video.frames[frame]})"


def _foreground_entry(
    foreground_dict: Mapping[str, Any], video: VideoEntry, source: Path
) -> tuple[Any, str, list[str]]:
    entry = foreground_dict.get(video.video_id)
    if not isinstance(entry, dict) or "masks_rle" not in entry:
        raise DataFormatError(f"{source}: no 'masks_rle' for video {video.video_id!r}")
    items = [f"foreground of {video.video_id}/{frame}" for frame in video.frames]
    return entry["masks_rle"], f"foreground of video {video.video_id!r}", items


def foreground_area(
    foreground_dict: Mapping[str, Any], video: VideoEntry, size: tuple[int, int], source: Path
) -> np.ndarray:
    """``int64[T]``: pixels of a ReVOS video foreground per frame (a list of RLEs counts their union)."""
    rles, track, items = _foreground_entry(foreground_dict, video, source)
    return bitmask.count_per_frame(rle_bits.packed_frames(rles, size, source, track, items))


def foreground_values(
    foreground_dict: Mapping[str, Any], video: VideoEntry, size: tuple[int, int], source: Path
) -> np.ndarray:
    """``uint8[T, H, W]``: a ReVOS video foreground (``mask_dict_foreground.json[video]["masks_rle"]``).

    A frame's entry may be a list of RLEs; they are summed, as ``eval_revos.py`` does.
    """
    rles, track, items = _foreground_entry(foreground_dict, video, source)
    return decode_frames(rles, size, None, source, track, items)
