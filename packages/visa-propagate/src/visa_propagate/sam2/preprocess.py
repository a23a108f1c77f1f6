"""SAM 2 input and output conversions done without torchvision (imports torch).

Frames are resized (bilinear, antialiased) to the model's square input and normalised with the
ImageNet mean and standard deviation, as ``Sam2VideoVideoProcessor`` does; key-frame masks are
resized the way ``Sam2VideoProcessor.process_new_mask_for_video_frame`` does.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def frame_to_pixels(frame: np.ndarray, size: tuple[int, int]) -> torch.Tensor:
    """``uint8[H, W, 3]`` RGB -> normalised ``float32[3, S_h, S_w]``."""
    pixels = torch.as_tensor(np.array(frame, dtype=np.float32)).permute(2, 0, 1)[None] / 255.0
    pixels = F.interpolate(pixels, size=size, mode="bilinear", align_corners=False, antialias=True)
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return ((pixels - mean) / std)[0]


def mask_to_input(mask: np.ndarray, size: tuple[int, int]) -> torch.Tensor:
    """``bool[H, W]`` -> ``float32[1, 1, S_h, S_w]`` of 0/1 (antialiased resize, threshold 0.5)."""
    tensor = torch.from_numpy(np.ascontiguousarray(mask)).float()[None, None]
    if tuple(tensor.shape[-2:]) == tuple(size):
        return tensor
    resized = F.interpolate(tensor, size=size, mode="bilinear", align_corners=False, antialias=True)
    return (resized >= 0.5).float()


def logits_to_masks(logits: torch.Tensor, size: tuple[int, int], original: tuple[int, int]) -> np.ndarray:
    """Low-resolution logits ``[N, 1, h, w]`` -> ``bool[N, H, W]`` at the original size.

    Upsampled to the model input size, then to the original size (bilinear), and thresholded at 0,
    as ``Sam2VideoProcessor.post_process_masks``.
    """
    logits = F.interpolate(logits.float(), size=size, mode="bilinear", align_corners=False)
    logits = F.interpolate(logits, size=original, mode="bilinear", align_corners=False)
    return (logits[:, 0] > 0).cpu().numpy()
