"""MeViS and Ref-DAVIS17 summaries: every expression pooled, as ``eval_mevis.py`` / ``eval_davis17.py``.

``J = mean(j)``, ``F = mean(f)`` over all expressions (unrounded, in [0, 1]), ``J&F = (J + F) / 2``;
no type split. The official MeViS tool drops an expression whose frame PNG is missing (its worker
dies); here every missing or invalid prediction scores 0, counts, and is listed in ``problems``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from visa_eval.runner import ExpressionResult


@dataclass(frozen=True)
class PooledSummary:
    """``J``, ``F`` and ``J&F`` in [0, 1] over ``count`` expressions."""

    J: float
    F: float
    count: int
    problems: list[str] = field(default_factory=list)

    @property
    def JF(self) -> float:
        return (self.J + self.F) / 2

    def as_json(self) -> dict[str, Any]:
        """``{"J", "F", "J&F"}`` in [0, 1] (MeViS), the x100 rounded values (VISA) and the extras."""
        return {
            "J": self.J,
            "F": self.F,
            "J&F": self.JF,
            "x100_rounded (VISA tools)": {
                "J": round(100 * self.J, 2),
                "F": round(100 * self.F, 2),
                "J&F": round(100 * self.JF, 2),
            },
            "expressions": self.count,
            "missing_or_invalid_predictions (scored 0 and counted)": self.problems,
        }


def summarise_pooled(results: Sequence[ExpressionResult]) -> PooledSummary:
    """Pool all expressions (see the module docstring)."""
    if not results:
        raise ValueError("no expressions to summarise")
    return PooledSummary(
        J=float(np.mean([r.scores.j for r in results])),
        F=float(np.mean([r.scores.f for r in results])),
        count=len(results),
        problems=[str(r.problem) for r in results if r.problem is not None],
    )


def format_pooled(summary: PooledSummary) -> str:
    """``J  F  J&F`` (x100) and the problems."""
    lines = [
        f"{'J':>8}{'F':>8}{'J&F':>8}{'n':>7}",
        f"{100 * summary.J:>8.2f}{100 * summary.F:>8.2f}{100 * summary.JF:>8.2f}{summary.count:>7}",
    ]
    if summary.problems:
        lines.append(f"{len(summary.problems)} expression(s) scored 0 (missing or invalid predictions):")
        lines.extend(f"  {p}" for p in summary.problems)
    return "\n".join(lines)


def write_pooled_csv(results: Sequence[ExpressionResult], path: Path) -> None:
    """Per expression: video, expression id, text, unrounded j and f."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["video_name", "exp_id", "exp", "J", "F"])
        for r in results:
            writer.writerow([r.video, r.exp_id, r.text, repr(r.scores.j), repr(r.scores.f)])


def write_pooled_json(summary: PooledSummary, path: Path) -> None:
    path.write_text(json.dumps(summary.as_json(), indent=4) + "\n", encoding="utf-8")
