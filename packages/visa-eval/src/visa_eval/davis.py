"""The DAVIS 2017 statistics (``davis2017/utils.py:db_statistics``) and the semi-supervised protocol.

Per object: ``Mean = nanmean(values)``, ``Recall = nanmean(values > 0.5)``, ``Decay = nanmean(first
quarter) - nanmean(last quarter)`` with the toolkit's inclusive, overlapping bins whose indices are
cast to uint8 (so Decay is wrong past 256 frames, as in the toolkit). The semi-supervised task drops
the first and last frames. Global numbers average the per-object statistics over all objects.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np


def db_statistics(per_frame_values: np.ndarray) -> tuple[float, float, float]:
    """``(Mean, Recall, Decay)`` of one object's per-frame values (``float64[T]``)."""
    values = np.asarray(per_frame_values, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        mean = np.nanmean(values)
        recall = np.nanmean(values > 0.5)
    ids = (np.round(np.linspace(1, len(values), 5) + 1e-10) - 1).astype(np.uint8)
    bins = [values[ids[i] : ids[i + 1] + 1] for i in range(4)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        decay = np.nanmean(bins[0]) - np.nanmean(bins[3])
    return float(mean), float(recall), float(decay)


def semi_supervised_frames(per_frame_values: np.ndarray) -> np.ndarray:
    """The frames the semi-supervised task scores: all but the first and the last."""
    return np.asarray(per_frame_values)[1:-1]


def global_statistics(
    j_per_object: Sequence[np.ndarray], f_per_object: Sequence[np.ndarray]
) -> dict[str, float]:
    """``J&F-Mean``, ``J-Mean``, ``J-Recall``, ``J-Decay``, ``F-...`` averaged over every object."""
    j_stats = np.array([db_statistics(v) for v in j_per_object])
    f_stats = np.array([db_statistics(v) for v in f_per_object])
    result = {}
    for name, stats in (("J", j_stats), ("F", f_stats)):
        for column, label in enumerate(("Mean", "Recall", "Decay")):
            result[f"{name}-{label}"] = float(np.mean(stats[:, column]))
    result = {"J&F-Mean": (result["J-Mean"] + result["F-Mean"]) / 2, **result}
    return result
