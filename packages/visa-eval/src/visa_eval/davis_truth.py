"""Ref-DAVIS17 ground truth: ``<root>/<split>/Annotations/<video>/<frame>.png`` (palette indices,
the object id) with ``<root>/meta_expressions/<split>/meta_expressions.json`` (``obj_id``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from visa_core.errors import DataFormatError
from visa_eval.groundtruth import VideoMeta


class DavisTargets:
    """The targets of one Ref-DAVIS17 video: ``Annotations == obj_id`` per expression."""

    def __init__(self, video: VideoMeta, annotations: Path) -> None:
        self.video = video
        self.folder = annotations / video.video
        self._labels: np.ndarray | None = None

    def labels(self) -> np.ndarray:
        """``uint8[T, H, W]`` palette indices of every frame (read once)."""
        if self._labels is None:
            from PIL import Image

            frames = []
            for frame in self.video.frames:
                path = self.folder / f"{frame}.png"
                if not path.is_file():
                    raise DataFormatError(f"Ref-DAVIS17 annotation {path} does not exist")
                with Image.open(path) as image:
                    frames.append(np.asarray(image, dtype=np.uint8))
            if len({f.shape for f in frames}) > 1:
                raise DataFormatError(f"{self.folder}: annotation frames differ in size")
            self._labels = np.stack(frames)
        return self._labels

    def size(self) -> tuple[int, int] | None:
        labels = self.labels()
        return int(labels.shape[1]), int(labels.shape[2])

    def target(self, exp_id: str, size: tuple[int, int]) -> np.ndarray:
        expression = next(e for e in self.video.expressions if e.exp_id == exp_id)
        if len(expression.obj_ids) != 1:
            raise DataFormatError(f"Ref-DAVIS17 {self.video.video}/{exp_id}: expected one obj_id")
        return self.labels() == int(expression.obj_ids[0])

    def foreground(self, size: tuple[int, int]) -> None:
        return None
