"""Integrity of weight files without loading them: safetensors headers and torch zip archives.

A truncated or foreign file is found from its header (safetensors: the declared tensor byte
ranges against the file size; ``torch.save`` archives: the zip central directory at the end).
"""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path
from typing import Any

SAFETENSORS_MAX_HEADER = 100_000_000


def read_safetensors_header(path: Path) -> dict[str, Any]:
    """The JSON header of a safetensors file: tensor name -> ``{"dtype", "shape", "data_offsets"}``
    (``__metadata__`` dropped).

    Raises:
        ValueError: not a safetensors file, or truncated (the message says which).
    """
    size = path.stat().st_size
    with path.open("rb") as stream:
        prefix = stream.read(8)
        if len(prefix) < 8:
            raise ValueError(f"{size} bytes, too short for a safetensors header")
        (length,) = struct.unpack("<Q", prefix)
        if length > min(SAFETENSORS_MAX_HEADER, size - 8):
            raise ValueError(f"header of {length} bytes declared in a file of {size} bytes")
        try:
            header = json.loads(stream.read(length))
        except ValueError as error:
            raise ValueError(f"unreadable header ({error})") from None
    if not isinstance(header, dict):
        raise ValueError("the header is not a JSON object")
    header.pop("__metadata__", None)
    ends = [int(entry["data_offsets"][1]) for entry in header.values()]
    needed = 8 + length + max(ends, default=0)
    if needed > size:
        raise ValueError(f"truncated: its tensors need {needed} bytes, the file has {size}")
    return header


def weight_file_problem(path: Path) -> str | None:
    """What is wrong with a weight file (``*.safetensors`` or a ``torch.save`` archive such as
    ``*.bin`` / ``*.pkl``), or None when its header is intact. Other files (and legacy, non-zip
    ``torch.save`` pickles) are not checked."""
    try:
        if path.suffix == ".safetensors":
            read_safetensors_header(path)
        elif path.suffix in (".bin", ".pt", ".pth", ".pkl") and _starts_with(path, b"PK"):
            with zipfile.ZipFile(path) as archive:
                archive.infolist()
    except (OSError, ValueError, KeyError, TypeError, IndexError, zipfile.BadZipFile) as error:
        return f"{path}: {error or type(error).__name__}"
    return None


def _starts_with(path: Path, magic: bytes) -> bool:
    with path.open("rb") as stream:
        return stream.read(len(magic)) == magic
