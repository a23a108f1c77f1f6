"""Read-only ``key -> value`` access to a big JSON object file (``mask_dict.json``), loaded on first use.

Without a cache folder the file is parsed into memory once per process. With one, it is indexed
once into an Arrow IPC file (one row per key, the value kept as JSON text) that every process and
DataLoader worker memory-maps, so start-up is fast and the pages are shared. The cache file's name
holds the source's path hash, size and modification time: editing the source makes a new cache
(the stale one is deleted). Nothing is written next to the source.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from visa_core.annotations import read_json
from visa_core.errors import DataFormatError


class JsonObjectStore:
    """The top-level object of ``path``, read lazily; picklable (workers reopen it)."""

    def __init__(self, path: Path, dataset: str, cache_dir: Path | None = None) -> None:
        self.path = Path(path)
        self.dataset = dataset
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._data: dict[str, Any] | None = None
        self._rows: dict[str, int] | None = None
        self._values: Any = None

    def get(self, key: str) -> Any | None:
        """The value stored under ``key``, or None when the file has no such key."""
        if self.cache_dir is None:
            return self._in_memory().get(key)
        rows = self._arrow_rows()
        row = rows.get(key)
        return None if row is None else json.loads(self._values[row].as_py())

    def __contains__(self, key: str) -> bool:
        if self.cache_dir is None:
            return key in self._in_memory()
        return key in self._arrow_rows()

    def keys(self) -> list[str]:
        """Every top-level key, in file order."""
        return list(self._in_memory() if self.cache_dir is None else self._arrow_rows())

    def cache_path(self) -> Path:
        """Where the Arrow index of the current version of the source lives."""
        assert self.cache_dir is not None
        stat = self.path.stat()
        digest = hashlib.sha1(str(self.path.resolve()).encode()).hexdigest()[:16]
        return self.cache_dir / f"{self.path.stem}-{digest}-{stat.st_size}-{stat.st_mtime_ns}.arrow"

    def _in_memory(self) -> dict[str, Any]:
        if self._data is None:
            self._data = self._parse()
        return self._data

    def _parse(self) -> dict[str, Any]:
        data = read_json(self.path, self.dataset)
        if not isinstance(data, dict):
            raise DataFormatError(f"{self.dataset}: {self.path} should hold a JSON object at the top level")
        return data

    def _arrow_rows(self) -> dict[str, int]:
        if self._rows is None:
            import pyarrow as pa

            if not self.path.is_file():
                raise DataFormatError(f"{self.dataset}: annotation file {self.path} does not exist")
            cache = self.cache_path()
            if not cache.is_file():
                self._build_cache(cache)
            table = pa.ipc.open_file(pa.memory_map(str(cache), "r")).read_all()
            self._rows = {key: row for row, key in enumerate(table.column("key").to_pylist())}
            self._values = table.column("value")
        return self._rows

    def _build_cache(self, cache: Path) -> None:
        import pyarrow as pa

        data = self._parse()
        table = pa.table(
            {
                "key": pa.array(list(data), type=pa.string()),
                "value": pa.array([json.dumps(v) for v in data.values()], type=pa.large_string()),
            }
        )
        cache.parent.mkdir(parents=True, exist_ok=True)
        for stale in cache.parent.glob(cache.name.rsplit("-", 2)[0] + "-*.arrow"):
            stale.unlink(missing_ok=True)
        partial = cache.with_name(cache.name + ".partial")
        with pa.OSFile(str(partial), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        partial.replace(cache)

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "dataset": self.dataset, "cache_dir": self.cache_dir}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"], state["dataset"], state["cache_dir"])  # type: ignore[misc]
