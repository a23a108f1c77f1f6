"""Conversions between video frames / masks (numpy, original size) and XMem's tensors.

XMem resizes every frame so that its shorter side is ``size`` pixels (bilinear, the long side
rounded down), normalises it with the ImageNet mean and standard deviation, resizes prompt masks
with nearest-neighbour sampling, and maps probabilities back to the original size bilinearly
before taking the arg-max.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def processing_size(height: int, width: int, size: int) -> tuple[int, int]:
    """``(h, w)`` with the shorter side equal to ``size``; ``size < 0`` keeps ``(height, width)``."""
    if size < 0:
        return height, width
    short, long = min(height, width), max(height, width)
    scaled_long = int(size * long / short)
    return (size, scaled_long) if height <= width else (scaled_long, size)


def frame_to_tensor(frame: np.ndarray, size_hw: tuple[int, int], device: torch.device) -> torch.Tensor:
    """``uint8[H, W, 3]`` RGB -> normalised ``float32[3, h, w]`` on ``device``."""
    image = torch.from_numpy(np.ascontiguousarray(frame)).to(device).permute(2, 0, 1).float().div_(255)
    if tuple(image.shape[-2:]) != tuple(size_hw):
        image = F.interpolate(image[None], size=size_hw, mode="bilinear", align_corners=False)[0]
    mean = torch.tensor(IMAGENET_MEAN, device=device).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=device).view(3, 1, 1)
    return (image - mean) / std


def masks_to_tensor(masks: np.ndarray, size_hw: tuple[int, int], device: torch.device) -> torch.Tensor:
    """``bool[N, H, W]`` -> ``float32[N, h, w]`` (nearest-neighbour resize) on ``device``."""
    tensor = torch.from_numpy(np.ascontiguousarray(masks)).to(device).float()
    if tuple(tensor.shape[-2:]) != tuple(size_hw):
        tensor = F.interpolate(tensor[None], size=size_hw, mode="nearest")[0]
    return tensor


def probabilities_to_masks(prob: torch.Tensor, original_hw: tuple[int, int]) -> np.ndarray:
    """``float[1 + N, h, w]`` (background first) -> ``bool[N, H, W]``: one label per pixel."""
    if tuple(prob.shape[-2:]) != tuple(original_hw):
        prob = F.interpolate(prob[None].float(), size=original_hw, mode="bilinear", align_corners=False)[0]
    labels = prob.argmax(dim=0)
    objects = torch.arange(1, prob.shape[0], device=labels.device).view(-1, 1, 1)
    return (labels.unsqueeze(0) == objects).cpu().numpy()
