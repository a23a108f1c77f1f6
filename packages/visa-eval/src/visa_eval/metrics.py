"""The ``metric`` components: ``j``, ``f``, ``j_and_f``, ``a``, ``r``, ``giou`` and ``ciou``.

Each is a :class:`visa_core.Metric` usable on its own::

    metric = visa_core.build("metric", "j_and_f")
    metric.update(pred, target, key="video/0")   # bool[T, H, W] each
    metric.compute()                              # {"j": ..., "f": ..., "j_and_f": ...} in [0, 1]

``j``, ``f``, ``j_and_f``, ``a`` and ``r`` score each query as the frame mean (as the official
evaluators do) and average over queries (MeViS pooling, unrounded); ``r`` needs the video
foreground as ``extras={"foreground": bool[T, H, W]}``. ``giou`` and ``ciou`` treat every frame as
one image mask (LISA); ``extras={"ignore": bool[T, H, W]}`` marks ignored pixels (label 255).
Sums use ``math.fsum`` so results do not depend on update or merge order.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from visa_core.errors import VisaError
from visa_core.interfaces import Metric
from visa_eval import lisa, region
from visa_eval.boundary import DEFAULT_BOUND_TH, boundary_f


class _QueryMeanMetric(Metric):
    """Keeps one row of values per query; ``compute`` averages each column over queries."""

    columns: ClassVar[tuple[str, ...]]

    def __init__(self, config: Any = None, /, **options: Any) -> None:
        super().__init__(config, **options)
        self._rows: list[tuple[str, dict[str, float]]] = []

    def update(
        self, pred: np.ndarray, target: np.ndarray, *, key: str = "", extras: Mapping[str, Any] | None = None
    ) -> None:
        pred, target = _check_pair(self.name, pred, target, key)
        self._rows.append((key, self._score(pred, target, extras or {})))

    def _score(self, pred: np.ndarray, target: np.ndarray, extras: Mapping[str, Any]) -> dict[str, float]:
        raise NotImplementedError

    def compute(self) -> dict[str, float]:
        count = len(self._rows)
        return {
            column: (math.fsum(row[column] for _, row in self._rows) / count if count else math.nan)
            for column in self.columns
        }

    def per_query(self) -> list[tuple[str, dict[str, float]]]:
        """``(key, values)`` of every update, in update order."""
        return list(self._rows)

    def reset(self) -> None:
        self._rows.clear()

    def merge(self, other: Metric) -> None:
        if type(other) is not type(self) or other.config != self.config:
            raise TypeError(
                f"metric {self.name!r} can only merge a {type(self).__name__} with the same options"
            )
        self._rows.extend(other._rows)  # type: ignore[attr-defined]


class RegionSimilarity(_QueryMeanMetric):
    """J: region IoU per frame (1 when both masks are empty), frame mean per query, mean over queries."""

    name: ClassVar[str] = "j"
    columns = ("j",)

    def _score(self, pred, target, extras):
        return {"j": float(region.region_iou(pred, target).mean())}


class BoundaryF(_QueryMeanMetric):
    """F: the DAVIS boundary F-measure (seg2bmap, disk of radius ceil(bound_th * diagonal))."""

    name: ClassVar[str] = "f"
    columns = ("f",)

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Config:
        """``bound_th``: tolerance as a fraction of the frame diagonal (< 1) or in pixels (>= 1)."""

        bound_th: float = DEFAULT_BOUND_TH

    def _score(self, pred, target, extras):
        return {"f": float(boundary_f(pred, target, self.config.bound_th).mean())}


class JAndF(_QueryMeanMetric):
    """J&F: J and F of each query; ``j_and_f = (J + F) / 2`` of the means."""

    name: ClassVar[str] = "j_and_f"
    columns = ("j", "f")

    def _score(self, pred, target, extras):
        return {
            "j": float(region.region_iou(pred, target).mean()),
            "f": float(boundary_f(pred, target).mean()),
        }

    def compute(self) -> dict[str, float]:
        result = super().compute()
        return {**result, "j_and_f": (result["j"] + result["f"]) / 2}


class PixelAccuracy(_QueryMeanMetric):
    """A: fraction of pixels where the boolean prediction and target agree (ReVOS accuracy)."""

    name: ClassVar[str] = "a"
    columns = ("a",)

    def _score(self, pred, target, extras):
        return {"a": float(region.accuracy(pred, target).mean())}


class Robustness(_QueryMeanMetric):
    """R: ReVOS robustness, max(1 - false positives / (video foreground + 1e-6), 0) per frame."""

    name: ClassVar[str] = "r"
    columns = ("r",)

    def _score(self, pred, target, extras):
        foreground = extras.get("foreground")
        if foreground is None:
            raise VisaError(
                "metric 'r' needs the video foreground: update(..., extras={'foreground': bool[T, H, W]}) "
                "(mask_dict_foreground.json for ReVOS)"
            )
        return {"r": float(region.robustness(pred, target, foreground).mean())}


class _LisaMetric(Metric):
    """Accumulates LISA's per-mask intersection / union / IoU; each frame is one mask."""

    def __init__(self, config: Any = None, /, **options: Any) -> None:
        super().__init__(config, **options)
        self._ious: list[float] = []
        self._intersection = 0
        self._union = 0

    def update(
        self, pred: np.ndarray, target: np.ndarray, *, key: str = "", extras: Mapping[str, Any] | None = None
    ) -> None:
        pred, target = _check_pair(self.name, pred, target, key)
        ignore = (extras or {}).get("ignore")
        intersection, union = lisa.intersection_union(pred, target, ignore)
        self._ious.extend(lisa.mask_ious(intersection, union).tolist())
        self._intersection += int(intersection.sum())
        self._union += int(union.sum())

    def reset(self) -> None:
        self._ious.clear()
        self._intersection = self._union = 0

    def merge(self, other: Metric) -> None:
        if type(other) is not type(self):
            raise TypeError(f"metric {self.name!r} can only merge a {type(self).__name__}")
        self._ious.extend(other._ious)  # type: ignore[attr-defined]
        self._intersection += other._intersection  # type: ignore[attr-defined]
        self._union += other._union  # type: ignore[attr-defined]


class GeneralizedIoU(_LisaMetric):
    """gIoU (LISA): mean per-mask IoU, I/(U+1e-5) (+1 if U=0), over count + 1e-5 masks; 255 ignored."""

    name: ClassVar[str] = "giou"

    def compute(self) -> dict[str, float]:
        return {"giou": lisa.giou(math.fsum(self._ious), len(self._ious))}


class CumulativeIoU(_LisaMetric):
    """cIoU (LISA): total intersection over total union (+1e-10) of all masks; 255 ignored."""

    name: ClassVar[str] = "ciou"

    def compute(self) -> dict[str, float]:
        return {"ciou": lisa.ciou(self._intersection, self._union)}


METRICS: tuple[type[Metric], ...] = (
    RegionSimilarity,
    BoundaryF,
    JAndF,
    PixelAccuracy,
    Robustness,
    GeneralizedIoU,
    CumulativeIoU,
)


def _check_pair(name: str, pred: np.ndarray, target: np.ndarray, key: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        return region.frame_stacks(pred, target)
    except ValueError as error:
        raise VisaError(f"metric {name!r}, query {key!r}: {error} of the same shape") from error
