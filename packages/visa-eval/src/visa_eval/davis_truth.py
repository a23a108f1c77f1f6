"""Ref-DAVIS17 ground truth: ``<root>/<split>/Annotations/<video>/<frame>.png`` (palette indices,
the object id) with ``<root>/meta_expressions/<split>/meta_expressions.json`` (``obj_id``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from visa_core.annotations import VideoEntry, read_label_png
from visa_core.errors import DataFormatError
from visa_eval import bitmask

DATASET = "Ref-DAVIS17"


class DavisTargets:
    """The targets of one Ref-DAVIS17 video: ``Annotations == obj_id`` per expression."""

    def __init__(self, video: VideoEntry, annotations: Path) -> None:
        self.video = video
        self.folder = annotations / video.video_id
        self._labels: np.ndarray | None = None

    def labels(self) -> np.ndarray:
        """``uint8[T, H, W]`` palette indices of every frame (read once; all the first frame's size)."""
        if self._labels is None:
            frames: list[np.ndarray] = []
            for frame in self.video.frames:
                size = frames[0].shape if frames else None
                frames.append(read_label_png(self.folder / f"{frame}.png", DATASET, size))
            self._labels = np.stack(frames)
        return self._labels

    def size(self) -> tuple[int, int] | None:
        labels = self.labels()
        return int(labels.shape[1]), int(labels.shape[2])

    def target(self, exp_id: str, size: tuple[int, int]) -> np.ndarray:
        expression = next(e for e in self.video.expressions if e.exp_id == exp_id)
        if len(expression.obj_ids) != 1:
            raise DataFormatError(f"{DATASET} {self.video.video_id}/{exp_id}: expected one obj_id")
        return self.labels() == expression.obj_ids[0]

    def target_bits(self, exp_id: str, size: tuple[int, int]) -> np.ndarray:
        return bitmask.pack(self.target(exp_id, size))

    def foreground(self, size: tuple[int, int]) -> None:
        return None

    def foreground_area(self, size: tuple[int, int]) -> None:
        return None
