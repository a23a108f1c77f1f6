"""A cached, memory-mapped Arrow index of a large conversation json (Hugging Face ``datasets``).

The json is parsed once into rows (``id``, ``files``, ``kind``, ``roles``, ``texts``) saved with
``Dataset.save_to_disk`` under the cache folder; later runs open it with ``load_from_disk``, which
memory-maps the Arrow file instead of parsing the json again. The cache entry's name holds a
fingerprint of the source's resolved path, size and modification time (and the row format
version), so an edited or replaced file is re-indexed; older entries of the same source are removed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from visa_core.annotations import read_json
from visa_core.errors import ComponentOptionError

INDEX_VERSION = "1"
"""Bump when the row format changes: every cached index is rebuilt."""

SKIPS_FILE = "visa_skips.json"

Rows = list[dict[str, Any]]
Skips = dict[str, dict[str, Any]]
"""reason -> ``{"count": int, "example": str}``: entries the conversion left out."""


def default_cache_dir() -> Path:
    """``$VISA_CACHE_DIR/datasets``, else ``$XDG_CACHE_HOME/visa/datasets`` (``~/.cache``)."""
    if os.environ.get("VISA_CACHE_DIR"):
        return Path(os.environ["VISA_CACHE_DIR"]) / "datasets"
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "visa" / "datasets"


def resolve_cache_dir(cache_dir: Path | str | None, dataset_root: Path, dataset: str) -> Path:
    """The cache folder to use; one inside the dataset folder is refused (loaders never write there)."""
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    resolved, root = folder.expanduser().resolve(), dataset_root.expanduser().resolve()
    if resolved == root or root in resolved.parents:
        raise ComponentOptionError(
            f"{dataset}: cache_dir {folder} lies inside the dataset folder {dataset_root}; "
            "loaders never write into dataset folders, choose another cache_dir"
        )
    return folder


def fingerprint(source: Path) -> str:
    """Hash of the source's resolved path, size, modification time and :data:`INDEX_VERSION`."""
    stat = source.stat()
    key = f"{source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{INDEX_VERSION}"
    return hashlib.sha256(key.encode()).hexdigest()[:20]


@dataclass
class JsonIndex:
    """The rows of one source json (a memory-mapped ``datasets.Dataset``) and what was left out."""

    rows: Any
    skips: Skips
    path: Path


def open_index(
    source: Path, cache_dir: Path, dataset: str, convert: Callable[[Any, Path], tuple[Rows, Skips]]
) -> JsonIndex:
    """Open the cached index of ``source``, building it first when missing or stale.

    ``convert(parsed_json, source)`` turns the json into rows and skip counts; it raises
    :class:`~visa_core.errors.DataFormatError` on malformed entries (nothing is cached then).
    """
    import datasets

    if not source.is_file():
        read_json(source, dataset)  # raises the dataset's missing-file error
    prefix = f"{dataset}-{source.stem}-{hashlib.sha256(str(source.resolve()).encode()).hexdigest()[:8]}"
    entry = cache_dir / f"{prefix}-{fingerprint(source)}"
    if not (entry / SKIPS_FILE).is_file():
        rows, skips = convert(read_json(source, dataset), source)
        _write_entry(entry, rows, skips)
        for stale in cache_dir.glob(f"{prefix}-*"):
            if stale != entry and (stale / SKIPS_FILE).is_file():
                shutil.rmtree(stale, ignore_errors=True)
    skips = json.loads((entry / SKIPS_FILE).read_text(encoding="utf-8"))
    return JsonIndex(rows=datasets.load_from_disk(str(entry)), skips=skips, path=entry)


def _write_entry(entry: Path, rows: Rows, skips: Skips) -> None:
    import datasets

    features = datasets.Features(
        {
            "id": datasets.Value("string"),
            "files": datasets.Sequence(datasets.Value("string")),
            "kind": datasets.Value("string"),
            "roles": datasets.Sequence(datasets.Value("string")),
            "texts": datasets.Sequence(datasets.Value("string")),
        }
    )
    entry.parent.mkdir(parents=True, exist_ok=True)
    partial = entry.with_name(f"{entry.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    table = datasets.Dataset.from_list(rows, features=features)
    table.save_to_disk(str(partial))
    (partial / SKIPS_FILE).write_text(json.dumps(skips), encoding="utf-8")
    try:
        partial.rename(entry)
    except OSError:  # another process finished the same entry first
        shutil.rmtree(partial, ignore_errors=True)
