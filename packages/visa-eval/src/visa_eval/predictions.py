"""Reading prediction PNGs in the official layout ``PRED_DIR/<video>/<expression>/<frame>.png``.

Pixel values: a grey (mode ``L``) PNG gives its values; a palette PNG gives its indices by default
(non-zero = foreground, as the DAVIS toolkit reads it) and, with ``legacy_values``, its grey level
as ``cv2.imread(..., IMREAD_GRAYSCALE)`` does (converted with Pillow's ITU-R 601-2 luma, which can
differ from OpenCV's by one grey level for colour PNGs; exact for ``L`` PNGs, which VISA writes).
A missing or wrongly sized frame is a :class:`PredictionProblem` naming the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class PredictionProblem:
    """Why an expression's prediction cannot be scored (it is then scored 0, as the official tool does)."""

    video: str
    expression: str
    message: str

    def __str__(self) -> str:
        return f"{self.video}/{self.expression}: {self.message}"


def read_png_values(path: Path, legacy_values: bool = False) -> np.ndarray:
    """``uint8[H, W]`` of one prediction PNG (see the module docstring for palette PNGs)."""
    from PIL import Image

    with Image.open(path) as image:
        if image.mode == "P" and not legacy_values:
            return np.asarray(image, dtype=np.uint8)
        if image.mode == "L":
            return np.asarray(image, dtype=np.uint8)
        if image.mode in ("I;16", "I;16B", "I"):
            return (np.asarray(image).astype(np.uint32) >> 8).astype(np.uint8)
        return np.asarray(image.convert("L"), dtype=np.uint8)


def read_expression(
    pred_dir: Path,
    video: str,
    expression: str,
    frames: Sequence[str],
    size: tuple[int, int],
    legacy_values: bool = False,
) -> np.ndarray | PredictionProblem:
    """``uint8[T, H, W]`` of one expression's predictions, or the problem that prevents scoring it."""
    video_dir = pred_dir / video
    if not video_dir.is_dir():
        return PredictionProblem(video, expression, f"video folder {video_dir} is missing")
    folder = video_dir / expression
    out = np.zeros((len(frames), *size), dtype=np.uint8)
    missing = []
    for t, frame in enumerate(frames):
        path = folder / f"{frame}.png"
        if not path.is_file():
            missing.append(frame)
            continue
        values = read_png_values(path, legacy_values)
        if values.shape != size:
            return PredictionProblem(
                video,
                expression,
                f"{path} is {values.shape[1]}x{values.shape[0]}, the ground truth is {size[1]}x{size[0]}",
            )
        out[t] = values
    if missing:
        shown = ", ".join(f"{name}.png" for name in missing[:5]) + (" ..." if len(missing) > 5 else "")
        return PredictionProblem(
            video, expression, f"{len(missing)} of {len(frames)} frames missing in {folder}: {shown}"
        )
    return out
