"""Rasterising annotations into ``bool[H, W]`` masks: COCO segmentations and labelme polygons."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from visa_core.errors import DataFormatError
from visa_data.files import decode_rle


def coco_segmentation_mask(
    segmentation: Any, size: tuple[int, int], dataset: str, path: Path, item: str
) -> np.ndarray:
    """Decode a COCO ``segmentation`` field into ``bool[H, W]`` (``size`` is ``(H, W)``).

    Accepts polygons (``[[x0, y0, x1, y1, ...], ...]``), one RLE (``{"size", "counts"}``) or a list
    of RLEs (REFER's refclef); parts are merged with a union.
    """
    from pycocotools import mask as mask_utils

    height, width = size
    if isinstance(segmentation, dict):
        return decode_rle(segmentation, size, dataset, path, item)
    if not isinstance(segmentation, list) or not segmentation:
        raise DataFormatError(f"{dataset}: {path}: {item} has an empty or unreadable segmentation")
    if all(isinstance(part, dict) for part in segmentation):
        mask = np.zeros((height, width), dtype=bool)
        for number, part in enumerate(segmentation):
            mask |= decode_rle(part, size, dataset, path, f"{item} part {number}")
        return mask
    polygons = [part for part in segmentation if isinstance(part, list)]
    if len(polygons) != len(segmentation) or any(
        len(p) < 6 or len(p) % 2 or not all(isinstance(v, (int, float)) for v in p) for p in polygons
    ):
        raise DataFormatError(
            f"{dataset}: {path}: {item} has a malformed polygon (expected lists of >= 3 x, y pairs)"
        )
    rles = mask_utils.frPyObjects(polygons, height, width)
    return mask_utils.decode(mask_utils.merge(rles)).astype(bool)


def polygon_mask(points: Sequence[Sequence[float]], size: tuple[int, int]) -> np.ndarray:
    """Fill a labelme polygon (``[[x, y], ...]`` in pixels) into ``bool[H, W]``, border included.

    Coordinates are truncated to integers before drawing, as LISA's OpenCV ``fillPoly`` call did.
    """
    from PIL import Image, ImageDraw

    height, width = size
    canvas = Image.new("1", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    vertices = [(int(x), int(y)) for x, y in points]
    if len(vertices) >= 3:
        draw.polygon(vertices, fill=1, outline=1)
    else:
        draw.line(vertices, fill=1, width=1)
    return np.asarray(canvas, dtype=bool)
