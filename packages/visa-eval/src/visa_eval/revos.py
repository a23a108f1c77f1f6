"""ReVOS evaluation exactly as VISA's ``tools/eval_revos.py``, plus the no-target subset it drops.

Use from a training script (no command line needed)::

    from visa_eval import revos

    truth = revos.RevosGroundTruth.open("data/ReVOS", split="valid")
    results = []
    for video, expression in truth.expressions():
        pred = my_model_masks(video.video_id, expression.exp_id)          # bool[T, H, W]
        scores = revos.score_expression(pred, truth.target(video, expression), truth.foreground(video))
        results.append(revos.ExpressionResult(video.video_id, expression.exp_id, scores, expression.type_id))
    summary = revos.summarise(results)
    print(revos.format_table(summary))          # J, F, J&F, A, R per referring / reasoning / overall
    summary.overall["JF"], summary.overall["R"]  # x100 numbers, as published

Aggregation (``eval_revos.py``): per expression ``J = round(100 j, 2)``, ``F``, ``JF = round(100 (j +
f) / 2, 2)``, ``A``, ``R`` with numpy's rounding (half to even after scaling); per type the mean of
the rounded values, ``JF = (J + F) / 2``; ``overall`` = mean of the referring (type 0) and reasoning
(type 1) means. No-target expressions (type 2) are excluded from those numbers, as officially, and
reported on their own under ``no_target``. Expressions whose prediction is missing or wrongly sized
score 0 and count in the means (the official policy); they are listed in ``problems``.

Masks are booleans by default; ``legacy_png_values`` reproduces the official A and R on raw 0/255
PNG values (see :mod:`visa_eval.region`).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from visa_core.annotations import ExpressionEntry, VideoEntry, read_json, read_meta_expressions
from visa_eval.groundtruth import foreground_values
from visa_eval.runner import ExpressionResult, VideoTargets, score_videos
from visa_eval.scoring import ExpressionScores, score_expression

__all__ = [
    "ExpressionResult",
    "ExpressionScores",
    "RevosGroundTruth",
    "RevosSummary",
    "evaluate",
    "format_table",
    "rounded_row",
    "score_expression",
    "summarise",
    "write_csv",
    "write_json",
]

METRICS = ("J", "F", "A", "R", "JF")
TYPE_NAMES = {0: "referring", 1: "reason", 2: "no_target"}
CSV_COLUMNS = ("video_name", "exp_id", "exp", "videxp", "J", "F", "JF", "A", "R", "type_id")


def round2(value: float) -> float:
    """``round(np.float64(value), 2)``: numpy rounding (scale by 100, round half to even, unscale)."""
    return float(np.round(np.float64(value), 2))


def rounded_row(result: ExpressionResult) -> dict[str, Any]:
    """The official per-expression CSV row (x100, two decimals)."""
    s = result.scores
    j, f = np.float64(s.j), np.float64(s.f)
    return {
        "video_name": result.video,
        "exp_id": result.exp_id,
        "exp": result.text,
        "videxp": f"{result.video}_{result.exp_id}",
        "J": round2(100 * j),
        "F": round2(100 * f),
        "JF": round2(100 * (j + f) / 2),
        "A": round2(100 * np.float64(s.a)),
        "R": round2(100 * np.float64(s.r)),
        "type_id": result.type_id,
    }


@dataclass(frozen=True)
class RevosSummary:
    """The ReVOS table (x100): ``referring``, ``reason``, ``overall`` and ``no_target``, each J/F/A/R/JF."""

    referring: dict[str, float]
    reason: dict[str, float]
    overall: dict[str, float]
    no_target: dict[str, float]
    counts: dict[str, int]
    problems: list[str] = field(default_factory=list)
    legacy_png_values: bool = False

    def as_json(self) -> dict[str, Any]:
        """The official JSON (``referring`` / ``reason`` / ``overall``) plus labelled extras."""
        return {
            "referring": self.referring,
            "reason": self.reason,
            "overall": self.overall,
            "no_target (type_id 2, excluded from the official numbers above)": self.no_target,
            "expression_counts": self.counts,
            "missing_or_invalid_predictions (scored 0 and counted, as officially)": self.problems,
            "pixel_values": "raw PNG values (official)" if self.legacy_png_values else "boolean masks",
        }


def _category(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    if not rows:
        return {key: math.nan for key in METRICS}
    means = {key: float(np.array([row[key] for row in rows]).mean()) for key in ("J", "F", "A", "R")}
    means["JF"] = (means["J"] + means["F"]) / 2
    return {key: means[key] for key in METRICS}


def summarise(results: Sequence[ExpressionResult], *, legacy_png_values: bool = False) -> RevosSummary:
    """Aggregate per-expression results into the ReVOS table (see the module docstring)."""
    rows = [rounded_row(r) for r in results]
    by_type = {
        name: [row for row in rows if row["type_id"] == type_id] for type_id, name in TYPE_NAMES.items()
    }
    unknown = [r for r in results if r.type_id not in TYPE_NAMES]
    if unknown:
        names = ", ".join(f"{r.video}/{r.exp_id}" for r in unknown[:5])
        raise ValueError(
            f"ReVOS expressions need type_id 0, 1 or 2; these have {unknown[0].type_id!r}: {names}"
        )
    referring, reason = _category(by_type["referring"]), _category(by_type["reason"])
    overall = {key: (referring[key] + reason[key]) / 2 for key in METRICS}
    return RevosSummary(
        referring=referring,
        reason=reason,
        overall=overall,
        no_target=_category(by_type["no_target"]),
        counts={name: len(group) for name, group in by_type.items()},
        problems=[str(r.problem) for r in results if r.problem is not None],
        legacy_png_values=legacy_png_values,
    )


def format_table(summary: RevosSummary) -> str:
    """A plain-text table of the summary, rows referring / reasoning / overall / no-target."""
    lines = [f"{'subset':<28}{'J':>8}{'F':>8}{'J&F':>8}{'A':>8}{'R':>8}{'n':>7}"]
    entries = [
        ("referring", summary.referring, summary.counts["referring"]),
        ("reasoning", summary.reason, summary.counts["reason"]),
        ("overall", summary.overall, summary.counts["referring"] + summary.counts["reason"]),
        ("no-target (not in overall)", summary.no_target, summary.counts["no_target"]),
    ]
    for name, values, count in entries:
        cells = "".join(f"{values[key]:>8.2f}" for key in ("J", "F", "JF", "A", "R"))
        lines.append(f"{name:<28}{cells}{count:>7}")
    if summary.problems:
        lines.append(f"{len(summary.problems)} expression(s) scored 0 (missing or invalid predictions):")
        lines.extend(f"  {problem}" for problem in summary.problems)
    return "\n".join(lines)


def write_json(summary: RevosSummary, path: Path) -> None:
    """The summary JSON (official keys first, unrounded means)."""
    path.write_text(json.dumps(summary.as_json(), indent=4) + "\n", encoding="utf-8")


def write_csv(results: Sequence[ExpressionResult], path: Path) -> None:
    """The per-expression CSV with the official columns (rounded values), in meta-file order."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rounded_row(r) for r in results)


class RevosGroundTruth:
    """A ReVOS split: ``meta_expressions_<split>_.json``, ``mask_dict.json``, ``mask_dict_foreground.json``"""

    def __init__(self, root: Path, split: str = "valid") -> None:
        self.root = Path(root)
        self.meta_path = self.root / f"meta_expressions_{split}_.json"
        self.mask_path = self.root / "mask_dict.json"
        self.foreground_path = self.root / "mask_dict_foreground.json"
        self.videos = read_meta_expressions(self.meta_path)
        self.mask_dict = read_json(self.mask_path, what="ReVOS mask file")
        self.foreground_dict = read_json(self.foreground_path, what="ReVOS foreground file")
        self._targets: dict[str, VideoTargets] = {}

    @classmethod
    def open(cls, root: str | Path, split: str = "valid") -> RevosGroundTruth:
        return cls(Path(root), split)

    def expressions(self) -> Iterator[tuple[VideoEntry, ExpressionEntry]]:
        """Every (video, expression) of the split, in file order."""
        for video in self.videos:
            for expression in video.expressions:
                yield video, expression

    def targets(self, video: VideoEntry) -> VideoTargets:
        """The decoded masks of ``video`` (kept until :meth:`release`)."""
        if video.video_id not in self._targets:
            self._targets[video.video_id] = VideoTargets(
                video, self.mask_dict, self.mask_path, self.foreground_dict, self.foreground_path
            )
        return self._targets[video.video_id]

    def size(self, video: VideoEntry) -> tuple[int, int]:
        size = self.targets(video).size()
        if size is None:
            raise ValueError(f"{self.meta_path}: video {video.video_id!r} has no mask and no height/width")
        return size

    def target(self, video: VideoEntry, expression: ExpressionEntry) -> np.ndarray:
        """``bool[T, H, W]``: the union of the expression's objects."""
        return self.targets(video).target(expression.exp_id, self.size(video)) > 0

    def foreground(self, video: VideoEntry) -> np.ndarray:
        """``bool[T, H, W]``: the video foreground used by R."""
        return foreground_values(self.foreground_dict, video, self.size(video), self.foreground_path) > 0

    def release(self, video: VideoEntry) -> None:
        """Forget the decoded masks of ``video``."""
        self._targets.pop(video.video_id, None)


def evaluate(
    pred_dir: Path,
    root: Path,
    split: str = "valid",
    *,
    workers: int | None = None,
    legacy_png_values: bool = False,
    progress: bool = True,
) -> tuple[RevosSummary, list[ExpressionResult]]:
    """Score ``pred_dir/<video>/<exp_id>/<frame>.png`` against a ReVOS split; returns the summary and rows."""
    truth = RevosGroundTruth(root, split)
    results = score_videos(
        Path(pred_dir),
        truth.videos,
        lambda video: VideoTargets(
            video, truth.mask_dict, truth.mask_path, truth.foreground_dict, truth.foreground_path
        ),
        workers=workers,
        legacy_png_values=legacy_png_values,
        progress=progress,
    )
    return summarise(results, legacy_png_values=legacy_png_values), results
