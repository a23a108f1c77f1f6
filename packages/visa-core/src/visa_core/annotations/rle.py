"""COCO run-length encoded masks (pycocotools), as ``mask_dict.json`` and COCO-style files hold them.

An RLE is ``{"size": [H, W], "counts": c}``: ``c`` is the compressed string (``str`` in JSON,
``bytes`` from pycocotools) or the uncompressed list of run lengths (column-major, starting with
a run of zeros). A COCO ``segmentation`` is one RLE, a list of RLEs, or polygons
``[[x0, y0, x1, y1, ...], ...]`` in pixels. Decoders return ``uint8[H, W]`` so that callers choose
how to combine objects: a union (``> 0``) or the official sum over overlapping objects.
Errors are :class:`~visa_core.errors.DataFormatError` naming the dataset, the file and the item.
pycocotools is imported on use.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from visa_core.annotations.json_files import where
from visa_core.errors import DataFormatError


def rle_size(rle: Any, dataset: str | None, path: Path, item: str) -> tuple[int, int]:
    """``(H, W)`` of an RLE, or of the first RLE of a list."""
    first = rle[0] if isinstance(rle, list) and rle else rle
    if not isinstance(first, dict) or "size" not in first or "counts" not in first:
        raise DataFormatError(f"{where(dataset, path, item)} is not a COCO RLE with 'size' and 'counts'")
    size = first["size"]
    if not isinstance(size, (list, tuple)) or len(size) != 2:
        raise DataFormatError(f"{where(dataset, path, item)} has an RLE 'size' that is not [H, W]: {size!r}")
    try:
        return int(size[0]), int(size[1])
    except (TypeError, ValueError):
        raise DataFormatError(
            f"{where(dataset, path, item)} has an RLE 'size' that is not [H, W]: {size!r}"
        ) from None


def decode_rle(rle: Any, size: tuple[int, int], dataset: str | None, path: Path, item: str) -> np.ndarray:
    """Decode one RLE into ``uint8[H, W]`` (0 / 1), or a list of RLEs into their sum over objects.

    ``size`` is the frame's ``(H, W)``; the list form is summed as VISA's ``eval_revos.py`` does
    (a pixel two RLEs cover is 2). Raises :class:`DataFormatError` for an RLE of another size, an
    empty list, counts of the wrong type, uncompressed counts that do not add up to ``H * W`` and
    counts pycocotools cannot decode.
    """
    if isinstance(rle, list):
        if not rle:
            raise DataFormatError(f"{where(dataset, path, item)} is an empty list of RLEs")
        parts = [decode_rle(part, size, dataset, path, f"{item} part {n}") for n, part in enumerate(rle)]
        return np.sum(parts, axis=0, dtype=np.uint8)
    height, width = rle_size(rle, dataset, path, item)
    if (height, width) != tuple(size):
        raise DataFormatError(
            f"{where(dataset, path, item)} is an RLE of {width}x{height} but its frame is {size[1]}x{size[0]}"
        )
    return _decode_one(rle["counts"], height, width, where(dataset, path, item))


def _decode_one(counts: Any, height: int, width: int, at: str) -> np.ndarray:
    from pycocotools import mask as mask_utils

    if isinstance(counts, list):
        if not all(isinstance(c, int) and c >= 0 for c in counts) or sum(counts) != height * width:
            raise DataFormatError(
                f"{at} is a corrupt RLE: uncompressed counts should be non-negative integers adding up to "
                f"{height}x{width} = {height * width} pixels"
            )
    elif not isinstance(counts, (str, bytes)):
        raise DataFormatError(
            f"{at} is a corrupt RLE: 'counts' should be a string or a list, got {type(counts).__name__}"
        )
    try:
        if isinstance(counts, list):
            compressed = mask_utils.frPyObjects({"size": [height, width], "counts": counts}, height, width)
        else:
            encoded = counts.encode("ascii") if isinstance(counts, str) else counts
            compressed = {"size": [height, width], "counts": encoded}
        decoded = mask_utils.decode(compressed)
    except Exception as error:  # pycocotools raises bare exceptions
        raise DataFormatError(f"{at} is a corrupt RLE: {error}") from error
    if decoded.shape != (height, width):
        raise DataFormatError(f"{at} decodes to {decoded.shape}, not {height}x{width}")
    return np.ascontiguousarray(decoded, dtype=np.uint8)


def encode_rle(mask: np.ndarray) -> dict[str, Any]:
    """Encode ``bool[H, W]`` (or 0 / 1 values) as a JSON-ready RLE (``counts`` a str)."""
    from pycocotools import mask as mask_utils

    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}


def decode_polygons(
    polygons: Any, size: tuple[int, int], dataset: str | None, path: Path, item: str
) -> np.ndarray:
    """``uint8[H, W]`` (0 / 1): the union of COCO polygons ``[[x0, y0, x1, y1, ...], ...]``."""
    from pycocotools import mask as mask_utils

    if (
        not isinstance(polygons, list)
        or not polygons
        or any(
            not isinstance(p, list)
            or len(p) < 6
            or len(p) % 2
            or not all(isinstance(v, (int, float)) for v in p)
            for p in polygons
        )
    ):
        raise DataFormatError(
            f"{where(dataset, path, item)} has a malformed polygon (expected lists of >= 3 x, y pairs)"
        )
    rles = mask_utils.frPyObjects(polygons, size[0], size[1])
    return np.ascontiguousarray(mask_utils.decode(mask_utils.merge(rles)), dtype=np.uint8)


def decode_segmentation(
    segmentation: Any, size: tuple[int, int], dataset: str | None, path: Path, item: str
) -> np.ndarray:
    """``uint8[H, W]`` of a COCO ``segmentation``: one RLE, a list of RLEs (summed) or polygons.

    Non-zero is the object; a list of RLEs (REFER's refclef) counts how many parts cover a pixel.
    """
    if isinstance(segmentation, dict):
        return decode_rle(segmentation, size, dataset, path, item)
    if not isinstance(segmentation, list) or not segmentation:
        raise DataFormatError(f"{where(dataset, path, item)} has an empty or unreadable segmentation")
    if all(isinstance(part, dict) for part in segmentation):
        return decode_rle(segmentation, size, dataset, path, item)
    return decode_polygons(segmentation, size, dataset, path, item)


def decode_frames(
    rles: Any,
    size: tuple[int, int],
    dataset: str | None,
    path: Path,
    track: str,
    items: Sequence[str],
    *,
    exact: bool = False,
) -> np.ndarray:
    """``uint8[T, H, W]`` with ``T = len(items)``: frame ``t`` decoded from ``rles[t]``, 0 where null.

    ``rles`` (named ``track`` in errors) is one entry of ``mask_dict.json`` (one RLE or null per
    frame) or a ReVOS foreground's ``masks_rle``; ``items[t]`` names frame ``t``. A longer list is
    read up to ``T`` as the official evaluation does, unless ``exact``.
    """
    if not isinstance(rles, list) or len(rles) < len(items) or (exact and len(rles) != len(items)):
        length = len(rles) if isinstance(rles, list) else type(rles).__name__
        raise DataFormatError(
            f"{where(dataset, path, track)} should list one RLE or null per frame ({len(items)} frames), "
            f"got {length}"
        )
    masks = np.zeros((len(items), *size), dtype=np.uint8)
    for t, item in enumerate(items):
        if rles[t] is not None:
            masks[t] = decode_rle(rles[t], size, dataset, path, item)
    return masks
