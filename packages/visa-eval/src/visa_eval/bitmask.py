"""Masks packed into bits: 64 pixels of a row per ``uint64`` word, for fast whole-video morphology.

A packed video is ``uint64[T, H, K]`` with ``K = ceil(W / 64)``; bit ``i`` of word ``k`` is pixel
``x = 64 k + i`` (little bit order). Bits past the frame width are 0 on packing. Pixel counts,
boolean operations and one-pixel shifts then touch 64 pixels per operation.
"""

from __future__ import annotations

import numpy as np

WORD_BITS = 64


def pack(masks: np.ndarray) -> np.ndarray:
    """Pack ``[T, H, W]`` masks (any dtype; non-zero is foreground) into ``uint64[T, H, ceil(W/64)]``."""
    if masks.ndim != 3:
        raise ValueError(f"expected masks of shape [T, H, W], got {masks.shape}")
    frames, height, width = masks.shape
    words = -(-width // WORD_BITS)
    packed = np.zeros((frames, height, words * 8), dtype=np.uint8)
    packed[..., : -(-width // 8)] = np.packbits(masks, axis=-1, bitorder="little")  # non-zero packs as 1
    return packed.view("<u8")


def unpack(packed: np.ndarray, width: int) -> np.ndarray:
    """The inverse of :func:`pack`: ``bool[T, H, width]``."""
    as_bytes = np.ascontiguousarray(packed).view(np.uint8)
    return np.unpackbits(as_bytes, axis=-1, count=width, bitorder="little").astype(bool)


def count_per_frame(packed: np.ndarray) -> np.ndarray:
    """Number of set pixels per frame: ``int64[T]``."""
    return np.bitwise_count(packed).sum(axis=(1, 2), dtype=np.int64)


def from_next_column(packed: np.ndarray) -> np.ndarray:
    """``out[..., x] = in[..., x + 1]``; the last column (and padding) receives 0.

    Works on the flattened words (long contiguous loops), then clears the bit carried across rows.
    """
    flat = packed.reshape(-1)
    out = flat >> np.uint64(1)
    out[:-1] |= flat[1:] << np.uint64(WORD_BITS - 1)
    out = out.reshape(packed.shape)
    out[..., -1] &= ~(np.uint64(1) << np.uint64(WORD_BITS - 1))
    return out


def from_previous_column(packed: np.ndarray) -> np.ndarray:
    """``out[..., x] = in[..., x - 1]``; column 0 receives 0 (bits pushed past the last word are lost)."""
    flat = packed.reshape(-1)
    out = flat << np.uint64(1)
    out[1:] |= flat[:-1] >> np.uint64(WORD_BITS - 1)
    out = out.reshape(packed.shape)
    out[..., 0] &= ~np.uint64(1)
    return out
