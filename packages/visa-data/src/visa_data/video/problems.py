"""Counted warnings for items a loader leaves out, or errors with ``strict=True``."""

from __future__ import annotations

import warnings
from collections import Counter

from visa_core.errors import DataFormatError


class DataWarning(UserWarning):
    """Items of a dataset were left out; the message says how many, which kind, and an example."""


class ProblemLog:
    """Collects left-out items by kind; :meth:`emit` warns once per kind with the count."""

    def __init__(self, dataset: str, strict: bool) -> None:
        self.dataset = dataset
        self.strict = strict
        self.counts: Counter[str] = Counter()
        self.examples: dict[str, str] = {}

    def skip(self, kind: str, example: str) -> None:
        """Record one left-out item of ``kind`` (e.g. "videos with fewer than 2 frames")."""
        if self.strict:
            raise DataFormatError(f"{self.dataset}: {example} ({kind}; strict=True makes this an error)")
        self.counts[kind] += 1
        self.examples.setdefault(kind, example)

    def emit(self) -> None:
        for kind, count in self.counts.items():
            warnings.warn(
                f"{self.dataset}: left out {count} {kind}, e.g. {self.examples[kind]} "
                "(pass strict=True to make this an error)",
                DataWarning,
                stacklevel=3,
            )
