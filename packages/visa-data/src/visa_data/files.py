"""Reading dataset annotation files with errors that name the dataset, the file and the item."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from visa_core.errors import DataFormatError


def read_json(path: Path, dataset: str) -> Any:
    """Parse ``path``; a missing file or malformed JSON is a :class:`DataFormatError` naming both."""
    if not path.is_file():
        raise DataFormatError(f"{dataset}: annotation file {path} does not exist")
    try:
        with path.open("r", encoding="utf-8") as handle:
            return json.load(handle)
    except json.JSONDecodeError as error:
        raise DataFormatError(
            f"{dataset}: {path} is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from error


def require_key(mapping: Any, key: str, dataset: str, path: Path, item: str) -> Any:
    """``mapping[key]``, or a :class:`DataFormatError` naming the dataset, file, item and key."""
    if not isinstance(mapping, dict):
        raise DataFormatError(
            f"{dataset}: {path}: {item} should be a JSON object, got {type(mapping).__name__}"
        )
    if key not in mapping:
        raise DataFormatError(f"{dataset}: {path}: {item} has no field {key!r}")
    return mapping[key]


def decode_rle(rle: Any, size: tuple[int, int], dataset: str, path: Path, item: str) -> np.ndarray:
    """Decode one COCO RLE (``{"size": [H, W], "counts": str | list}``) into ``bool[H, W]``.

    ``size`` is the frame's ``(H, W)``; an RLE of another size, or one pycocotools cannot decode,
    is a :class:`DataFormatError` naming the dataset, file and item.
    """
    from pycocotools import mask as mask_utils

    if not isinstance(rle, dict) or "size" not in rle or "counts" not in rle:
        raise DataFormatError(f"{dataset}: {path}: {item} is not a COCO RLE with 'size' and 'counts'")
    height, width = (int(v) for v in rle["size"])
    if (height, width) != tuple(size):
        raise DataFormatError(
            f"{dataset}: {path}: {item} is an RLE of {width}x{height} but its frame is {size[1]}x{size[0]}"
        )
    counts = rle["counts"]
    try:
        if isinstance(counts, list):
            rle = mask_utils.frPyObjects(rle, height, width)
        elif isinstance(counts, str):
            rle = {"size": [height, width], "counts": counts.encode("ascii")}
        decoded = mask_utils.decode(rle)
    except Exception as error:  # pycocotools raises bare exceptions
        raise DataFormatError(f"{dataset}: {path}: {item} is a corrupt RLE: {error}") from error
    if decoded.shape[:2] != (height, width):
        raise DataFormatError(f"{dataset}: {path}: {item} decodes to {decoded.shape}, not {height}x{width}")
    return decoded.astype(bool)


def encode_rle(mask: np.ndarray) -> dict[str, Any]:
    """Encode ``bool[H, W]`` as a JSON-ready COCO RLE (``counts`` as a str)."""
    from pycocotools import mask as mask_utils

    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as compact JSON, creating parent folders; written to a temporary file first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", encoding="utf-8") as handle:
        json.dump(data, handle, separators=(",", ":"))
    partial.replace(path)


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
