"""Frame preprocessing for the two image encoders.

CLIP: shortest side -> ``size`` (bicubic; the long side truncated, not rounded), centre crop
``size``, scale to [0, 1], CLIP mean/std: transformers 4.31's ``CLIPImageProcessor``, which the
original ran, to the bit. SAM: longest side -> ``size`` (bilinear),
normalise with pixel mean/std on the 0-255 scale, zero-pad bottom/right to ``size x size``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
SAM_MEAN = (123.675, 116.28, 103.53)
SAM_STD = (58.395, 57.12, 57.375)


def _check_frame(frame: np.ndarray) -> None:
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        got = f"{frame.dtype}{list(frame.shape)}" if isinstance(frame, np.ndarray) else type(frame).__name__
        raise ValueError(f"a frame must be uint8[H, W, 3] RGB, got {got}")


def shortest_side_shape(height: int, width: int, size: int) -> tuple[int, int]:
    """Size after resizing the shortest side to ``size``: the long side is ``int(size * long /
    short)``, truncated as 4.31's ``get_resize_output_image_size`` did (854 x 480 -> 398 x 224)."""
    if width <= height:
        return int(size * height / width), size
    return size, int(size * width / height)


def clip_preprocess(frame: np.ndarray, size: int, mean=CLIP_MEAN, std=CLIP_STD) -> torch.Tensor:
    """``uint8[H, W, 3]`` -> ``float32[3, size, size]`` for the CLIP tower."""
    _check_frame(frame)
    new_h, new_w = shortest_side_shape(*frame.shape[:2], size)
    image = Image.fromarray(frame).resize((new_w, new_h), Image.Resampling.BICUBIC)
    top, left = (new_h - size) // 2, (new_w - size) // 2
    cropped = np.asarray(image)[top : top + size, left : left + size]
    array = (cropped * (1 / 255)).astype(np.float32)  # 4.31's rescale: float64 product, then float32
    array = (array - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    return torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))


def longest_side_shape(height: int, width: int, size: int) -> tuple[int, int]:
    """Size after resizing the longest side to ``size`` (SAM's ``ResizeLongestSide`` rounding)."""
    scale = size / max(height, width)
    return int(height * scale + 0.5), int(width * scale + 0.5)


@dataclass(frozen=True)
class SamInput:
    """One frame ready for SAM: ``pixel_values`` ``float32[3, S, S]``, the resized and original sizes."""

    pixel_values: torch.Tensor
    resized_size: tuple[int, int]
    original_size: tuple[int, int]


def sam_preprocess(frame: np.ndarray, size: int, mean=SAM_MEAN, std=SAM_STD) -> SamInput:
    """``uint8[H, W, 3]`` -> resized (longest side ``size``), normalised, zero-padded SAM input."""
    _check_frame(frame)
    height, width = frame.shape[:2]
    new_h, new_w = longest_side_shape(height, width, size)
    image = Image.fromarray(frame).resize((new_w, new_h), Image.Resampling.BILINEAR)
    array = (np.asarray(image, dtype=np.float32) - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    padded = np.zeros((size, size, 3), dtype=np.float32)
    padded[:new_h, :new_w] = array
    return SamInput(
        pixel_values=torch.from_numpy(padded.transpose(2, 0, 1).copy()),
        resized_size=(new_h, new_w),
        original_size=(height, width),
    )
