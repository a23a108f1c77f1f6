"""COCO RLEs decoded straight into row-major packed bits (:mod:`visa_eval.bitmask` layout).

``pycocotools.mask.decode`` writes a column-major ``uint8[H, W]`` that must then be transposed
(about 1 ms a 854x480 frame, four times the decoding itself). Here the compressed ``counts``
string is parsed with numpy (the LEB128-like code of ``rleFrString``: 5 bits a character, offset
48, a continuation bit 0x20, a sign bit 0x10 on the last character, counts from the fourth on
stored as differences to the count two before), each run of ones is cut into its column pieces,
and each piece toggles two bits (its first row and the row after it) of an empty packed video; an
XOR accumulation down the rows then fills the pieces. The result equals packing
``pycocotools.mask.decode(rle) != 0`` (checked in the tests), at a fraction of the time.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from visa_core.annotations import rle_size, where
from visa_core.errors import DataFormatError
from visa_eval.bitmask import WORD_BITS

CHARACTER_OFFSET = 48
CONTINUATION_BIT = 0x20
SIGN_BIT = 0x10
CHUNK_BITS = 5


def string_counts(counts: str | bytes) -> np.ndarray:
    """The run lengths (``int64[m]``, zeros first, column-major) of a compressed RLE ``counts`` string."""
    raw = np.frombuffer(counts.encode("ascii") if isinstance(counts, str) else counts, dtype=np.uint8)
    values = raw.astype(np.int64) - CHARACTER_OFFSET
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    last = (values & CONTINUATION_BIT) == 0
    if not last[-1] or np.any((values < 0) | (values > 0x3F)):
        raise ValueError("not a compressed COCO RLE string")
    ends = np.flatnonzero(last)
    starts = np.concatenate(([0], ends[:-1] + 1))
    group = np.repeat(np.arange(len(ends)), ends - starts + 1)
    shift = CHUNK_BITS * (np.arange(len(values)) - starts[group])
    deltas = np.add.reduceat((values & 0x1F) << shift, starts)
    negative = (values[ends] & SIGN_BIT) != 0
    deltas[negative] -= np.int64(1) << (shift[ends][negative] + CHUNK_BITS)
    runs = deltas.copy()
    runs[1::2] = np.cumsum(deltas[1::2])  # from the fourth count on, each adds the count two before
    runs[2::2] = np.cumsum(deltas[2::2])
    return runs


def run_lengths(rle: dict[str, Any]) -> np.ndarray:
    """``int64[m]`` run lengths of an RLE whose ``counts`` is a compressed string or a list."""
    counts = rle["counts"]
    if isinstance(counts, list):
        if not all(isinstance(c, int) and c >= 0 for c in counts):
            raise ValueError("uncompressed counts should be non-negative integers")
        return np.asarray(counts, dtype=np.int64)
    if not isinstance(counts, (str, bytes)):
        raise ValueError(f"'counts' should be a string or a list, got {type(counts).__name__}")
    return string_counts(counts)


def column_pieces(runs: np.ndarray, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The runs of ones cut at column ends: ``(column, first_row, end_row)`` arrays, rows end-exclusive."""
    ends = np.cumsum(runs)
    starts = ends - runs
    ones = (np.arange(len(runs)) % 2 == 1) & (runs > 0)
    starts, ends = starts[ones], ends[ones]
    first_column, last_column = starts // height, (ends - 1) // height
    pieces = last_column - first_column + 1
    run = np.repeat(np.arange(len(starts)), pieces)
    column = first_column[run] + np.arange(len(run)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    first_row = np.where(column == first_column[run], starts[run] - column * height, 0)
    end_row = np.where(column == last_column[run], ends[run] - column * height, height)
    return column, first_row, end_row


def packed_frames(
    rles: Any, size: tuple[int, int], source: Path, track: str, items: Sequence[str]
) -> np.ndarray:
    """``uint64[T, H, K]`` (``T = len(items)``): frame ``t`` from ``rles[t]``, one RLE, a list of
    RLEs (their union: the boolean reading of the official sum) or None (empty).

    ``rles`` (named ``track`` in errors) is one entry of ``mask_dict.json`` or a ReVOS foreground's
    ``masks_rle``; ``items[t]`` names frame ``t``; a longer list is read up to ``T``, as the official
    evaluation does. Raises :class:`DataFormatError` naming ``source`` and the item for a list too
    short, an RLE of another size, an empty list, or counts that are corrupt or do not add up to H x W.
    """
    if not isinstance(rles, list) or len(rles) < len(items):
        length = len(rles) if isinstance(rles, list) else type(rles).__name__
        raise DataFormatError(
            f"{where(None, source, track)} should list one RLE or null per frame ({len(items)} frames), "
            f"got {length}"
        )
    height, width = size
    words = -(-width // WORD_BITS)
    frames, rows, columns, extra_parts = [], [], [], []
    for t, item in enumerate(items):
        entry = rles[t]
        if isinstance(entry, list) and not entry:
            raise DataFormatError(f"{where(None, source, item)} is an empty list of RLEs")
        parts = entry if isinstance(entry, list) else [] if entry is None else [entry]
        extra_parts += [(t, part) for part in parts[1:]]  # toggles of overlapping parts would cancel
        if parts:
            column, first_row, end_row = column_pieces(_checked_runs(parts[0], size, source, item), height)
            inside = end_row < height
            frames.append(np.full(len(column) + int(inside.sum()), t))
            rows.append(np.concatenate((first_row, end_row[inside])))
            columns.append(np.concatenate((column, column[inside])))
    toggles = np.zeros(len(items) * height * words, dtype=np.uint64)
    if frames:
        frame, row, column = (np.concatenate(parts) for parts in (frames, rows, columns))
        bit = np.left_shift(np.uint64(1), (column % WORD_BITS).astype(np.uint64))
        np.bitwise_xor.at(toggles, (frame * height + row) * words + column // WORD_BITS, bit)
    packed = np.bitwise_xor.accumulate(toggles.reshape(len(items), height, words), axis=1)
    for t, part in extra_parts:
        packed[t] |= packed_frames([part], size, source, track, [f"{items[t]} part"])[0]
    return packed


def _checked_runs(rle: Any, size: tuple[int, int], source: Path, item: str) -> np.ndarray:
    height, width = rle_size(rle, None, source, item)
    at = where(None, source, item)
    if (height, width) != tuple(size):
        raise DataFormatError(f"{at} is an RLE of {width}x{height} but its frame is {size[1]}x{size[0]}")
    try:
        runs = run_lengths(rle)
    except ValueError as error:
        raise DataFormatError(f"{at} is a corrupt RLE: {error}") from None
    if np.any(runs < 0) or runs.sum() != height * width:
        raise DataFormatError(
            f"{at} is a corrupt RLE: its counts should be non-negative and add up to "
            f"{width}x{height} = {height * width} pixels"
        )
    return runs
