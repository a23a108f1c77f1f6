"""ReasonSeg's labelme-style annotations: ``<split>/<image>.json`` next to ``<image>.jpg``.

``{"text": [query, ...], "is_sentence": bool, "shapes": [{"label": "target" | "ignore" | "flag",
"points": [[x, y], ...]}], "imageHeight": H, "imageWidth": W}``. As LISA's ``get_mask_from_json``:
files that are not UTF-8 are read as cp1252, "flag" shapes are dropped, the other shapes are filled
largest first (a smaller shape overwrites a larger one), "ignore" shapes with 255 and the others
with 1, each filled and outlined one pixel wide. Polygons are drawn with Pillow (imported on use),
which may differ from OpenCV's ``fillPoly`` on edge pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from visa_core.annotations.json_files import read_json, require_key, where
from visa_core.errors import DataFormatError

TARGET, IGNORE = 1, 255


def read_labelme_json(path: Path, dataset: str | None = None) -> dict[str, Any]:
    """A ReasonSeg annotation (UTF-8, else cp1252 as LISA read it); it must be a JSON object."""
    data = read_json(path, dataset, fallback_encoding="cp1252")
    if not isinstance(data, dict):
        raise DataFormatError(f"{where(dataset, path)} should hold a JSON object")
    return data


def polygon_mask(points: Sequence[Sequence[float]], size: tuple[int, int]) -> np.ndarray:
    """Fill a labelme polygon (``[[x, y], ...]`` in pixels) into ``bool[H, W]``, border included.

    Coordinates are truncated to integers before drawing, as LISA's OpenCV ``fillPoly`` call did;
    fewer than three points draw a line.
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


def label_map(shapes: Any, size: tuple[int, int], dataset: str | None, path: Path) -> np.ndarray:
    """``uint8[H, W]``: 0 background, 1 target, 255 ignore, painted largest shape first."""
    if not isinstance(shapes, list):
        raise DataFormatError(
            f"{where(dataset, path)}: 'shapes' should be a list, got {type(shapes).__name__}"
        )
    filled = []
    for i, shape in enumerate(shapes):
        label = str(require_key(shape, "label", dataset, path, f"shape {i}")).lower()
        if label == "flag":
            continue
        points = require_key(shape, "points", dataset, path, f"shape {i}")
        try:
            area_mask = polygon_mask(points, size)
        except (TypeError, ValueError) as error:
            raise DataFormatError(
                f"{where(dataset, path, f'shape {i}')} has malformed points: {error}"
            ) from error
        filled.append((area_mask, IGNORE if "ignore" in label else TARGET))
    labels = np.zeros(size, dtype=np.uint8)
    areas = [int(mask.sum()) for mask, _ in filled]
    for k in np.argsort(areas, kind="stable")[::-1]:
        mask, value = filled[k]
        labels[mask] = value
    return labels
