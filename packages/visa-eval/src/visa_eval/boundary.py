"""The DAVIS boundary F-measure, vectorised over whole videos with bit-packed masks.

Identical to ``davis2017/metrics.py`` (``db_eval_boundary`` / ``f_measure`` / ``_seg2bmap``):

* boundary map: a pixel is on the boundary when it differs from its east, south or south-east
  neighbour; in the last row only east counts, in the last column only south, and the bottom-right
  pixel is never a boundary (so the image border is never a boundary);
* tolerance radius ``ceil(bound_th * ||(H, W)||)`` in float64, dilation by the disk
  ``dy² + dx² <= r²`` (``skimage.morphology.disk``), matching by presence within the radius;
* precision / recall / F with the toolkit's cases for empty boundaries.

The dilation is separable: the disk is a stack of horizontal runs of half-width
``floor(sqrt(r² - dy²))``, so each run is a one-pixel horizontal dilation repeated on 64-pixel
words, then OR-ed with a row offset ``dy``. See :mod:`visa_eval.reference` for the plain per-frame
version used to check it.
"""

from __future__ import annotations

import math

import numpy as np

from visa_eval import bitmask

DEFAULT_BOUND_TH = 0.008


def boundary_radius(height: int, width: int, bound_th: float = DEFAULT_BOUND_TH) -> int:
    """Tolerance radius in pixels: ``bound_th`` if >= 1, else ``ceil(bound_th * hypot(H, W))`` in float64."""
    if bound_th >= 1:
        if bound_th != int(bound_th):
            raise ValueError(f"bound_th >= 1 must be a whole number of pixels, got {bound_th}")
        return int(bound_th)
    return int(np.ceil(bound_th * np.linalg.norm((height, width))))


def disk(radius: int) -> np.ndarray:
    """``bool[2r+1, 2r+1]``: the offsets with ``dy² + dx² <= r²`` (``skimage.morphology.disk``)."""
    offsets = np.arange(-radius, radius + 1)
    return (offsets[:, None] ** 2 + offsets[None, :] ** 2) <= radius**2


def disk_half_widths(radius: int) -> list[int]:
    """Half-width of the disk's row at ``|dy| = 0 .. r``: the largest ``w`` with ``w² + dy² <= r²``."""
    return [math.isqrt(radius * radius - dy * dy) for dy in range(radius + 1)]


def packed_boundary_map(packed: np.ndarray, width: int) -> np.ndarray:
    """``_seg2bmap`` of every frame of a packed video (``uint64[T, H, K]`` in and out).

    Equivalent formulation: compare each pixel with its east, south and south-east neighbours,
    where a neighbour past the last row or column is the pixel itself (edge replication).
    """
    last_bit = np.uint64(1) << np.uint64((width - 1) % bitmask.WORD_BITS)
    east = bitmask.from_next_column(packed)
    east[..., -1] |= packed[..., -1] & last_bit
    south = np.empty_like(packed)
    south[:, :-1] = packed[:, 1:]
    south[:, -1] = packed[:, -1]
    south_east = np.empty_like(east)
    south_east[:, :-1] = east[:, 1:]
    south_east[:, -1] = east[:, -1]
    return (packed ^ east) | (packed ^ south) | (packed ^ south_east)


def packed_dilate_disk(packed: np.ndarray, radius: int) -> np.ndarray:
    """Dilate every frame of a packed video by :func:`disk` (``radius``); outside the frame is empty."""
    half_widths = disk_half_widths(radius)
    runs = [packed]
    for _ in range(half_widths[0]):
        previous = runs[-1]
        runs.append(previous | bitmask.from_next_column(previous) | bitmask.from_previous_column(previous))
    dilated = runs[half_widths[0]].copy()
    height = packed.shape[1]
    for dy in range(1, min(radius, height - 1) + 1):
        run = runs[half_widths[dy]]
        dilated[:, : height - dy] |= run[:, dy:]
        dilated[:, dy:] |= run[:, : height - dy]
    return dilated


def f_from_counts(
    n_pred: np.ndarray, n_gt: np.ndarray, pred_matched: np.ndarray, gt_matched: np.ndarray
) -> np.ndarray:
    """Per-frame F from boundary sizes and matched counts, with the toolkit's empty-boundary cases.

    The float64 operations are those of ``f_measure`` (``2 * P * R / (P + R)``), so the values are
    bit-identical.
    """
    n_pred = np.asarray(n_pred, dtype=np.int64)
    n_gt = np.asarray(n_gt, dtype=np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(n_pred > 0, pred_matched / n_pred.astype(np.float64), 1.0)
        recall = np.where(n_gt > 0, gt_matched / n_gt.astype(np.float64), 1.0)
    precision = np.where((n_pred > 0) & (n_gt == 0), 0.0, precision)
    recall = np.where((n_pred == 0) & (n_gt > 0), 0.0, recall)
    total = precision + recall
    with np.errstate(divide="ignore", invalid="ignore"):
        f = 2 * precision * recall / total
    return np.where(total == 0, 0.0, f)


def boundary_window(boundary: np.ndarray, radius: int) -> tuple[slice, slice] | None:
    """Rows and words of a packed video that hold every set bit of ``boundary`` (over all frames)
    and everything within ``radius`` pixels of one, or None when no bit is set."""
    rows = np.flatnonzero(np.any(boundary, axis=(0, 2)))
    if len(rows) == 0:
        return None
    words = np.flatnonzero(np.any(boundary, axis=(0, 1)))
    margin = -(-radius // bitmask.WORD_BITS)
    height, width = boundary.shape[1:]
    return (
        slice(max(0, rows[0] - radius), min(height, rows[-1] + radius + 1)),
        slice(max(0, words[0] - margin), min(width, words[-1] + margin + 1)),
    )


def packed_boundary_f(pred: np.ndarray, gt: np.ndarray, height: int, width: int, radius: int) -> np.ndarray:
    """Per-frame F (``float64[T]``) of packed prediction and ground truth (``uint64[T, H, K]``).

    Matches can only lie within ``radius`` of a ground-truth boundary pixel, so both dilations run
    on that window (:func:`boundary_window`) with the outside taken as empty: the prediction's
    boundary inside the window is all that reaches the ground truth's boundary.
    """
    pred_boundary = packed_boundary_map(pred, width)
    gt_boundary = packed_boundary_map(gt, width)
    n_pred, n_gt = bitmask.count_per_frame(pred_boundary), bitmask.count_per_frame(gt_boundary)
    window = boundary_window(gt_boundary, radius)
    if window is None:
        return f_from_counts(n_pred, n_gt, np.zeros_like(n_pred), np.zeros_like(n_gt))
    pred_near, gt_near = pred_boundary[:, window[0], window[1]], gt_boundary[:, window[0], window[1]]
    pred_matched = bitmask.count_per_frame(pred_near & packed_dilate_disk(gt_near, radius))
    gt_matched = bitmask.count_per_frame(gt_near & packed_dilate_disk(pred_near, radius))
    return f_from_counts(n_pred, n_gt, pred_matched, gt_matched)


def boundary_f(pred: np.ndarray, gt: np.ndarray, bound_th: float = DEFAULT_BOUND_TH) -> np.ndarray:
    """Per-frame DAVIS boundary F-measure of ``[T, H, W]`` masks (non-zero = foreground): ``float64[T]``."""
    pred, gt = _as_video(pred, "pred"), _as_video(gt, "gt")
    if pred.shape != gt.shape:
        raise ValueError(f"prediction {pred.shape} and ground truth {gt.shape} differ in shape")
    _, height, width = gt.shape
    radius = boundary_radius(height, width, bound_th)
    return packed_boundary_f(bitmask.pack(pred), bitmask.pack(gt), height, width, radius)


def boundary_map(masks: np.ndarray) -> np.ndarray:
    """``_seg2bmap`` of ``[H, W]`` or ``[T, H, W]`` masks: ``bool`` of the same shape."""
    video = _as_video(masks, "masks")
    return bitmask.unpack(packed_boundary_map(bitmask.pack(video), video.shape[2]), video.shape[2]).reshape(
        masks.shape
    )


def _as_video(masks: np.ndarray, name: str) -> np.ndarray:
    masks = np.asarray(masks)
    if masks.ndim == 2:
        return masks[None]
    if masks.ndim != 3:
        raise ValueError(f"{name} must be [H, W] or [T, H, W], got shape {masks.shape}")
    return masks
