"""Reading and writing the JSON annotation files of the published datasets.

Every error is a :class:`~visa_core.errors.DataFormatError` whose message starts with
:func:`where`: the dataset (when the caller names one), the file and the item at fault.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from visa_core.errors import DataFormatError


def where(dataset: str | None, path: Path | str, item: str | None = None) -> str:
    """``"<dataset>: <path>: <item>"``, the start of an error message (``None`` parts left out)."""
    parts = [part for part in (dataset, str(path), item) if part is not None]
    return ": ".join(parts)


def read_json(
    path: Path,
    dataset: str | None = None,
    *,
    what: str = "annotation file",
    fallback_encoding: str | None = None,
) -> Any:
    """Parse the JSON file ``path`` (UTF-8, else ``fallback_encoding`` when given).

    Raises:
        DataFormatError: the file is missing (the message calls it ``what``), is not text in
            the encoding, or is not valid JSON (with the line and column).
    """
    prefix = f"{dataset}: " if dataset else ""
    if not path.is_file():
        raise DataFormatError(f"{prefix}{what} {path} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        if fallback_encoding is None:
            raise DataFormatError(f"{prefix}{path} is not UTF-8 text ({error})") from error
        text = path.read_text(encoding=fallback_encoding, errors="replace")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise DataFormatError(
            f"{prefix}{path} is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from error


def require_key(mapping: Any, key: str, dataset: str | None, path: Path, item: str) -> Any:
    """``mapping[key]``; a non-object or a missing key is a :class:`DataFormatError` naming ``item``."""
    if not isinstance(mapping, dict):
        raise DataFormatError(
            f"{where(dataset, path, item)} should be a JSON object, got {type(mapping).__name__}"
        )
    if key not in mapping:
        raise DataFormatError(f"{where(dataset, path, item)} has no field {key!r}")
    return mapping[key]


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as compact JSON, creating parent folders; written to a temporary file first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", encoding="utf-8") as handle:
        json.dump(data, handle, separators=(",", ":"))
    partial.replace(path)
