"""LISA's image metrics gIoU and cIoU (``train_ds.py validate``, ``utils/utils.py``).

Per mask (``intersectionAndUnionGPU`` with ``ignore_index=255``): pixels whose target is 255 leave
the intersection, the predicted area and the target area; ``U = area_pred + area_target - I``
(foreground class). ``gIoU`` = sum over masks of ``I / (U + 1e-5)`` (+1 when ``U = 0``) divided by
``count + 1e-5`` (``AverageMeter.all_reduce``), so a perfect non-empty mask scores slightly below 1;
``cIoU = sum(I) / (sum(U) + 1e-10)``. LISA accumulates in float32; this is float64 (differences
around 1e-7 on ReasonSeg-sized sets).
"""

from __future__ import annotations

import numpy as np

IGNORE_INDEX = 255


def intersection_union(
    pred: np.ndarray, target: np.ndarray, ignore: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-mask foreground intersection and union (``int64[N]`` each) of ``[N, H, W]`` masks.

    ``target`` is 0/1 with 255 for ignored pixels (LISA's ground truth), or boolean with the ignored
    pixels given separately as ``ignore``.
    """
    pred, target = np.asarray(pred), np.asarray(target)
    if pred.ndim == 2:
        pred, target = pred[None], target[None]
        ignore = None if ignore is None else np.asarray(ignore)[None]
    if pred.shape != target.shape:
        raise ValueError(f"prediction {pred.shape} and target {target.shape} differ in shape")
    ignored = target == IGNORE_INDEX if target.dtype != np.bool_ else np.zeros(target.shape, dtype=bool)
    if ignore is not None:
        ignored = ignored | np.asarray(ignore, dtype=bool)
    valid = ~ignored
    pred_fg = (pred != 0) & valid
    target_fg = (target == 1) & valid if target.dtype != np.bool_ else target & valid
    axes = (1, 2)
    intersection = np.count_nonzero(pred_fg & target_fg, axis=axes).astype(np.int64)
    union = (
        np.count_nonzero(pred_fg, axis=axes) + np.count_nonzero(target_fg, axis=axes) - intersection
    ).astype(np.int64)
    return intersection, union


def mask_ious(intersection: np.ndarray, union: np.ndarray) -> np.ndarray:
    """Per-mask IoU as LISA's gIoU accumulates it: ``I / (U + 1e-5)``, plus 1 where ``U = 0``."""
    intersection, union = np.asarray(intersection, dtype=np.float64), np.asarray(union, dtype=np.float64)
    return intersection / (union + 1e-5) + (union == 0)


def giou(iou_sum: float, count: int) -> float:
    """``sum / (count + 1e-5)`` (``AverageMeter.all_reduce``)."""
    return iou_sum / (count + 1e-5)


def ciou(intersection_sum: int, union_sum: int) -> float:
    """``sum(I) / (sum(U) + 1e-10)``."""
    return intersection_sum / (union_sum + 1e-10)
