"""Scoring one expression: frame means of J, F, A and R, as ``eval_revos.py`` / ``eval_mevis.py`` do.

Per frame: J = region IoU (1 when both masks are empty), F = DAVIS boundary F-measure, A = pixel
accuracy, R = ReVOS robustness against the video foreground; each is averaged over every frame of
the expression (unrounded, in [0, 1]).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from visa_eval import bitmask, region
from visa_eval.boundary import DEFAULT_BOUND_TH, boundary_radius, packed_boundary_f


@dataclass(frozen=True)
class ExpressionScores:
    """Frame means of one expression, in [0, 1]; ``r`` and ``a`` are NaN when not computed."""

    j: float
    f: float
    a: float = float("nan")
    r: float = float("nan")

    @classmethod
    def zero(cls) -> ExpressionScores:
        """The official score of an expression whose prediction is missing or unreadable."""
        return cls(0.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True)
class FrameScores:
    """Per-frame values (``float64[T]`` each) of one expression."""

    j: np.ndarray
    f: np.ndarray
    a: np.ndarray | None = None
    r: np.ndarray | None = None

    def means(self) -> ExpressionScores:
        nan = float("nan")
        return ExpressionScores(
            float(self.j.mean()),
            float(self.f.mean()),
            nan if self.a is None else float(self.a.mean()),
            nan if self.r is None else float(self.r.mean()),
        )


def score_frames(
    pred: np.ndarray,
    gt: np.ndarray,
    foreground: np.ndarray | None = None,
    *,
    legacy_png_values: bool = False,
    bound_th: float = DEFAULT_BOUND_TH,
) -> FrameScores:
    """Per-frame J, F (and A, R when ``foreground`` is given) of ``[T, H, W]`` masks.

    Args:
        pred: predicted masks, bool or the raw PNG values (uint8).
        gt: target masks, bool or the summed object masks (uint8, 2 on overlaps).
        foreground: the video foreground ``[T, H, W]`` for R (ReVOS); None skips A and R.
        legacy_png_values: compute A and R on the raw values exactly like the official tool
            (0/255 PNGs weigh each false-positive pixel 255 in R). J and F never depend on it.
    """
    pred, gt = np.asarray(pred), np.asarray(gt)
    if pred.shape != gt.shape or gt.ndim != 3:
        raise ValueError(f"prediction {pred.shape} and target {gt.shape} must both be [T, H, W]")
    if foreground is not None and np.shape(foreground) != gt.shape:
        raise ValueError(f"foreground {np.shape(foreground)} and target {gt.shape} differ in shape")
    _, height, width = gt.shape
    pred_bits, gt_bits = bitmask.pack(pred), bitmask.pack(gt)
    if foreground is None or not legacy_png_values:
        area = None if foreground is None else bitmask.count_per_frame(bitmask.pack(np.asarray(foreground)))
        return score_packed(pred_bits, gt_bits, (height, width), area, bound_th=bound_th)
    j, f = (
        region.packed_region_iou(pred_bits, gt_bits),
        _packed_f(pred_bits, gt_bits, (height, width), bound_th),
    )
    return FrameScores(j, f, region.legacy_accuracy(pred, gt), region.legacy_robustness(pred, gt, foreground))


def score_packed(
    pred: np.ndarray,
    gt: np.ndarray,
    size: tuple[int, int],
    foreground_area: np.ndarray | None = None,
    *,
    bound_th: float = DEFAULT_BOUND_TH,
) -> FrameScores:
    """Per-frame J, F (and boolean A, R when ``foreground_area`` is given) of packed masks.

    Args:
        pred, gt: ``uint64[T, H, K]`` (:func:`visa_eval.bitmask.pack`) of frames of ``size = (H, W)``.
        foreground_area: the video foreground's pixel count per frame (``int64[T]``) for R.
    """
    height, width = size
    j = region.packed_region_iou(pred, gt)
    f = _packed_f(pred, gt, size, bound_th)
    if foreground_area is None:
        return FrameScores(j, f)
    return FrameScores(
        j,
        f,
        region.packed_accuracy(pred, gt, height * width),
        region.packed_robustness(pred, gt, foreground_area),
    )


def _packed_f(pred: np.ndarray, gt: np.ndarray, size: tuple[int, int], bound_th: float) -> np.ndarray:
    return packed_boundary_f(pred, gt, *size, boundary_radius(*size, bound_th))


def score_expression(
    pred: np.ndarray,
    gt: np.ndarray,
    foreground: np.ndarray | None = None,
    *,
    legacy_png_values: bool = False,
) -> ExpressionScores:
    """Frame means of J, F, A and R of one expression (see :func:`score_frames`)."""
    return score_frames(pred, gt, foreground, legacy_png_values=legacy_png_values).means()
