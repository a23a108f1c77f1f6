"""Palette PNG annotations (Ref-YouTube-VOS, DAVIS17): ``Annotations/<video>/<frame>.png``.

Each pixel's value (the palette index of a mode ``P`` PNG, or the grey level of a mode ``L`` one)
is the id of the object there (``obj_id`` in ``meta_expressions.json``), 0 for the background.
Pillow is imported on use.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from visa_core.annotations.json_files import where
from visa_core.errors import DataFormatError


def read_label_png(path: Path, dataset: str | None = None, size: tuple[int, int] | None = None) -> np.ndarray:
    """The object-id map ``uint8[H, W]`` of one annotation PNG.

    Raises:
        DataFormatError: the file is missing or cannot be decoded, is not a palette (``P``) or grey
            (``L``) image, or is not ``size`` (``(H, W)``) when a size is given.
    """
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        prefix = f"{dataset}: " if dataset else ""
        raise DataFormatError(f"{prefix}annotation {path} does not exist")
    try:
        with Image.open(path) as image:
            if image.mode not in ("P", "L"):
                raise DataFormatError(
                    f"{where(dataset, path)} is a {image.mode} image; annotations must be palette (P) "
                    "or grey (L) PNGs whose values are object ids"
                )
            labels = np.asarray(image, dtype=np.uint8)
    except (UnidentifiedImageError, OSError) as error:
        raise DataFormatError(f"{where(dataset, path)} cannot be decoded: {error}") from error
    if size is not None and labels.shape != tuple(size):
        raise DataFormatError(
            f"{where(dataset, path)} is {labels.shape[1]}x{labels.shape[0]} "
            f"but its frame is {size[1]}x{size[0]}"
        )
    return labels
