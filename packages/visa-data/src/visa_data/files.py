"""Counting the items a dataset loader leaves out, with errors that name the dataset and the item.

The annotation formats themselves are read by :mod:`visa_core.annotations`.
"""

from __future__ import annotations

from visa_core.errors import DataFormatError


class SkipLog:
    """Counts items a loader leaves out where the original code silently skipped them.

    With ``strict=True`` the first such item is a :class:`DataFormatError` instead. ``counts``
    maps each reason to how many items it left out; :meth:`report` logs one warning per reason.
    """

    def __init__(self, dataset: str, strict: bool) -> None:
        self.dataset = dataset
        self.strict = strict
        self.counts: dict[str, int] = {}
        self.examples: dict[str, str] = {}

    def skip(self, reason: str, detail: str, count: int = 1) -> None:
        """Leave ``count`` items out for ``reason`` (``detail`` names the file and the first item)."""
        if self.strict:
            raise DataFormatError(f"{self.dataset}: {detail} ({reason}; strict=True makes this an error)")
        self.counts[reason] = self.counts.get(reason, 0) + count
        self.examples.setdefault(reason, detail)

    def report(self) -> None:
        """Log one warning per reason with its count and a first example."""
        import logging

        logger = logging.getLogger(f"visa_data.{self.dataset}")
        for reason, count in self.counts.items():
            logger.warning(
                "%s: skipped %d item(s): %s (first: %s); pass strict=True to make this an error",
                self.dataset,
                count,
                reason,
                self.examples[reason],
            )
