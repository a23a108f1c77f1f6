"""The slow reference: the official per-frame algorithms written out plainly, one frame at a time.

This module follows ``davis2017/metrics.py`` (``db_eval_iou``, ``f_measure``, ``_seg2bmap``) and
VISA's ``tools/metrics.py`` (``get_r2vos_accuracy``, ``get_r2vos_robustness``) step by step, with
the dilation written as its definition (OR of the boundary shifted by every disk offset) because
OpenCV is not a dependency. It is the tests' exactness oracle, independent of the fast code, and
not used for scoring. It is no speed baseline (the OR over the disk's offsets is far slower than
the official tools' ``cv2.dilate``): ``benchmarks/official_revos_eval.py`` is.
"""

from __future__ import annotations

import numpy as np

from visa_eval.boundary import DEFAULT_BOUND_TH, disk


def reference_iou(gt: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """``db_eval_iou`` for ``[T, H, W]`` inputs (non-zero = foreground), frame by frame."""
    values = np.zeros(len(gt))
    for t in range(len(gt)):
        g, p = gt[t].astype(bool), pred[t].astype(bool)
        union = np.sum(g | p)
        values[t] = 1 if union == 0 else np.sum(g & p) / union
    return values


def reference_seg2bmap(seg: np.ndarray) -> np.ndarray:
    """``_seg2bmap`` of one ``[H, W]`` mask: the half-pixel-offset boundary, never on the image border."""
    seg = seg.astype(bool)
    east = np.zeros_like(seg)
    south = np.zeros_like(seg)
    south_east = np.zeros_like(seg)
    east[:, :-1] = seg[:, 1:]
    south[:-1, :] = seg[1:, :]
    south_east[:-1, :-1] = seg[1:, 1:]
    boundary = (seg ^ east) | (seg ^ south) | (seg ^ south_east)
    boundary[-1, :] = seg[-1, :] ^ east[-1, :]
    boundary[:, -1] = seg[:, -1] ^ south[:, -1]
    boundary[-1, -1] = False
    return boundary


def reference_dilate(mask: np.ndarray, structure: np.ndarray) -> np.ndarray:
    """Binary dilation of ``[H, W]`` by a centred odd-sized ``structure``; outside the image is empty."""
    height, width = mask.shape
    radius_y, radius_x = structure.shape[0] // 2, structure.shape[1] // 2
    out = np.zeros_like(mask, dtype=bool)
    for dy, dx in zip(*np.nonzero(structure), strict=True):
        oy, ox = dy - radius_y, dx - radius_x
        # out[y, x] |= mask[y + oy, x + ox]
        out[max(0, -oy) : height - max(0, oy), max(0, -ox) : width - max(0, ox)] |= mask[
            max(0, oy) : height - max(0, -oy), max(0, ox) : width - max(0, -ox)
        ]
    return out


def reference_f_measure(pred: np.ndarray, gt: np.ndarray, bound_th: float = DEFAULT_BOUND_TH) -> float:
    """``f_measure`` of one ``[H, W]`` frame."""
    bound_pix = bound_th if bound_th >= 1 else np.ceil(bound_th * np.linalg.norm(pred.shape))
    pred_boundary = reference_seg2bmap(pred)
    gt_boundary = reference_seg2bmap(gt)
    structure = disk(int(bound_pix))
    pred_dilated = reference_dilate(pred_boundary, structure)
    gt_dilated = reference_dilate(gt_boundary, structure)
    n_pred, n_gt = np.sum(pred_boundary), np.sum(gt_boundary)
    if n_pred == 0 and n_gt > 0:
        precision, recall = 1, 0
    elif n_pred > 0 and n_gt == 0:
        precision, recall = 0, 1
    elif n_pred == 0 and n_gt == 0:
        precision, recall = 1, 1
    else:
        precision = np.sum(pred_boundary & gt_dilated) / float(n_pred)
        recall = np.sum(gt_boundary & pred_dilated) / float(n_gt)
    if precision + recall == 0:
        return 0.0
    return float(2 * precision * recall / (precision + recall))


def reference_boundary_f(gt: np.ndarray, pred: np.ndarray, bound_th: float = DEFAULT_BOUND_TH) -> np.ndarray:
    """``db_eval_boundary`` for ``[T, H, W]`` inputs, frame by frame."""
    return np.array([reference_f_measure(pred[t], gt[t], bound_th) for t in range(len(gt))], dtype=np.float64)


def reference_accuracy(gt: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """``get_r2vos_accuracy``: ``mean(gt == pred)`` per frame on the values given."""
    return np.array([np.mean(g == p) for g, p in zip(gt, pred, strict=True)])


def reference_robustness(gt: np.ndarray, pred: np.ndarray, foreground: np.ndarray) -> np.ndarray:
    """``get_r2vos_robustness`` per frame on uint8 values (``(1 - gt) * pred`` wraps around)."""
    values = []
    for g, p, fg in zip(gt.astype(np.uint8), pred.astype(np.uint8), foreground.astype(np.uint8), strict=True):
        negative = ((1 - g) * p).sum()
        positive = fg.sum()
        values.append(max(1 - negative / (positive + 1e-6), 0.0))
    return np.array(values)


def reference_scores(
    gt: np.ndarray, pred: np.ndarray, foreground: np.ndarray
) -> tuple[float, float, float, float]:
    """One expression as ``eval_revos.py`` scores it: frame means of J, F, A and R (unrounded)."""
    return (
        float(reference_iou(gt, pred).mean()),
        float(reference_boundary_f(gt, pred).mean()),
        float(reference_accuracy(gt, pred).mean()),
        float(reference_robustness(gt, pred, foreground).mean()),
    )
