"""Per-frame region measures: J (IoU), A (pixel accuracy) and ReVOS robustness R.

J is ``db_eval_iou`` of the DAVIS toolkit; A and R are ``get_r2vos_accuracy`` and
``get_r2vos_robustness`` of VISA's ``tools/metrics.py``. All return ``float64[T]`` for ``[T, H, W]``
inputs and are bit-identical to the official code.

Two readings of the pixel values:

* boolean (default): every mask is foreground / background (non-zero = foreground). A is the
  fraction of pixels where prediction and ground truth agree; R counts false-positive pixels.
* legacy raw values (``legacy_*``): the official arithmetic on the stored uint8 values. With the
  0/255 PNGs that VISA writes, each false-positive pixel weighs 255 in R and a foreground pixel
  never agrees with a ground truth of 1 in A; overlapping objects (ground truth 2) wrap around in
  uint8. Use it only to reproduce published numbers.
"""

from __future__ import annotations

import numpy as np

from visa_eval import bitmask

ROBUSTNESS_EPS = 1e-6


def iou_from_counts(intersection: np.ndarray, union: np.ndarray) -> np.ndarray:
    """``intersection / union`` per frame, 1 where the union is empty (``db_eval_iou``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        j = np.asarray(intersection) / np.asarray(union)
    j[np.asarray(union) == 0] = 1
    return j


def packed_region_iou(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Per-frame J of packed masks (``uint64[T, H, K]``)."""
    return iou_from_counts(bitmask.count_per_frame(pred & gt), bitmask.count_per_frame(pred | gt))


def region_iou(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Per-frame J of ``[T, H, W]`` masks (non-zero = foreground): ``float64[T]``."""
    pred, gt = frame_stacks(pred, gt)
    return packed_region_iou(bitmask.pack(pred), bitmask.pack(gt))


def packed_accuracy(pred: np.ndarray, gt: np.ndarray, pixels: int) -> np.ndarray:
    """Per-frame boolean pixel accuracy of packed masks over ``pixels = H * W`` pixels."""
    return (pixels - bitmask.count_per_frame(pred ^ gt)) / np.float64(pixels)


def accuracy(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Per-frame fraction of pixels where the boolean masks agree: ``float64[T]``."""
    pred, gt = frame_stacks(pred, gt)
    return packed_accuracy(bitmask.pack(pred), bitmask.pack(gt), gt.shape[1] * gt.shape[2])


def robustness_from_counts(false_positives: np.ndarray, foreground: np.ndarray) -> np.ndarray:
    """``max(1 - false_positives / (foreground + 1e-6), 0)`` per frame (``get_r2vos_robustness``)."""
    return np.maximum(1 - np.asarray(false_positives) / (np.asarray(foreground) + ROBUSTNESS_EPS), 0.0)


def packed_robustness(pred: np.ndarray, gt: np.ndarray, foreground_area: np.ndarray) -> np.ndarray:
    """Per-frame R of packed masks; ``foreground_area`` is the video foreground's pixel count per frame."""
    return robustness_from_counts(bitmask.count_per_frame(pred & ~gt), foreground_area)


def robustness(pred: np.ndarray, gt: np.ndarray, foreground: np.ndarray) -> np.ndarray:
    """Per-frame ReVOS robustness with boolean masks: ``float64[T]``.

    ``foreground`` is the video foreground ``[T, H, W]`` (union of every object referred to by any
    expression of the video, ``mask_dict_foreground.json``), not the expression's target.
    """
    pred, gt = frame_stacks(pred, gt)
    foreground = np.asarray(foreground)
    if foreground.shape != gt.shape:
        raise ValueError(f"foreground {foreground.shape} and ground truth {gt.shape} differ in shape")
    area = np.count_nonzero(foreground.reshape(len(foreground), -1), axis=1)
    return packed_robustness(bitmask.pack(pred), bitmask.pack(gt), area)


def legacy_accuracy(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """``mean(gt == pred)`` per frame on raw uint8 values (the official A)."""
    pred, gt = frame_stacks(pred, gt)
    return np.array([np.mean(g == p) for g, p in zip(gt, pred, strict=True)], dtype=np.float64)


def legacy_robustness(pred: np.ndarray, gt: np.ndarray, foreground: np.ndarray) -> np.ndarray:
    """The official R on raw uint8 values: ``(1 - gt) * pred`` wraps around in uint8, then is summed.

    ``gt`` is the per-frame sum of the expression's object masks (2 where two objects overlap) and
    ``foreground`` the stored foreground values, both uint8.
    """
    pred, gt = frame_stacks(pred, gt)
    pred, gt = pred.astype(np.uint8, copy=False), gt.astype(np.uint8, copy=False)
    false_positives = ((np.uint8(1) - gt) * pred).reshape(len(gt), -1).sum(axis=1, dtype=np.uint64)
    area = np.asarray(foreground, dtype=np.uint8).reshape(len(gt), -1).sum(axis=1, dtype=np.uint64)
    return robustness_from_counts(false_positives, area)


def frame_stacks(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both masks as ``[T, H, W]`` arrays (a single ``[H, W]`` frame gains the T axis).

    Raises:
        ValueError: the shapes differ or are not ``[T, H, W]``.
    """
    pred, gt = np.asarray(pred), np.asarray(gt)
    if pred.ndim == 2:
        pred = pred[None]
    if gt.ndim == 2:
        gt = gt[None]
    if pred.shape != gt.shape or pred.ndim != 3:
        raise ValueError(f"prediction {pred.shape} and ground truth {gt.shape} must both be [T, H, W]")
    return pred, gt
