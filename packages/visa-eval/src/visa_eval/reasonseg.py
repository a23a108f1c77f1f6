"""ReasonSeg (LISA) gIoU / cIoU: ``<root>/<split>/<name>.json`` polygons against ``PRED/<name>.png``.

The ground truth follows LISA's ``get_mask_from_json`` (:func:`visa_core.annotations.label_map`):
"flag" shapes are skipped, shapes are drawn largest first, "ignore" shapes get 255 and the others 1,
each filled and outlined one pixel wide. Polygons are rasterised with Pillow (OpenCV is not a
dependency), which can differ from ``cv2.fillPoly`` on edge pixels; the metrics themselves are
LISA's (:mod:`visa_eval.lisa`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from visa_core.annotations import label_map, read_labelme_json
from visa_core.errors import DataFormatError
from visa_eval import lisa
from visa_eval.predictions import read_png_values

DATASET = "ReasonSeg"


@dataclass
class ReasonSegResult:
    """gIoU / cIoU over the split, and the images whose prediction is missing or invalid."""

    giou: float
    ciou: float
    count: int
    problems: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "gIoU": self.giou,
            "cIoU": self.ciou,
            "images": self.count,
            "missing_or_invalid_predictions (scored as empty masks)": self.problems,
        }


def split_folder(root: Path, split: str) -> Path:
    """``root/split`` or ``root/ReasonSeg/split``."""
    for candidate in (root / split, root / "ReasonSeg" / split):
        if candidate.is_dir():
            return candidate
    raise DataFormatError(f"ReasonSeg: no folder {root / split} or {root / 'ReasonSeg' / split}")


def image_size(folder: Path, stem: str, annotation: dict) -> tuple[int, int]:
    """``(H, W)`` of the image next to the annotation, else the annotation's imageHeight/imageWidth."""
    from PIL import Image

    for suffix in (".jpg", ".jpeg", ".png"):
        path = folder / f"{stem}{suffix}"
        if path.is_file():
            with Image.open(path) as image:
                return image.size[1], image.size[0]
    if "imageHeight" in annotation and "imageWidth" in annotation:
        return int(annotation["imageHeight"]), int(annotation["imageWidth"])
    raise DataFormatError(f"ReasonSeg: no image for {folder / stem}.json and no imageHeight/imageWidth")


def evaluate(pred_dir: Path, root: Path, split: str = "val") -> ReasonSegResult:
    """Score ``pred_dir/<name>.png`` (non-zero = foreground) against every annotation of the split.

    A missing or wrongly sized prediction is scored as an empty mask and listed.
    """
    from tqdm import tqdm

    folder = split_folder(root, split)
    annotations = sorted(folder.glob("*.json"))
    if not annotations:
        raise DataFormatError(f"ReasonSeg: no annotation .json files in {folder}")
    ious, intersection_sum, union_sum, problems = [], 0, 0, []
    for path in tqdm(annotations, desc="scoring images", unit="img"):
        annotation = read_labelme_json(path, DATASET)
        size = image_size(folder, path.stem, annotation)
        target = label_map(annotation.get("shapes", []), size, DATASET, path)
        pred_path = pred_dir / f"{path.stem}.png"
        pred = np.zeros(size, dtype=np.uint8)
        if not pred_path.is_file():
            problems.append(f"{path.stem}: {pred_path} is missing")
        else:
            values = read_png_values(pred_path)
            if values.shape != size:
                found = f"{values.shape[1]}x{values.shape[0]}"
                problems.append(f"{path.stem}: {pred_path} is {found}, expected {size[1]}x{size[0]}")
            else:
                pred = values
        intersection, union = lisa.intersection_union(pred, target)
        ious.extend(lisa.mask_ious(intersection, union).tolist())
        intersection_sum += int(intersection.sum())
        union_sum += int(union.sum())
    return ReasonSegResult(
        giou=lisa.giou(math.fsum(ious), len(ious)),
        ciou=lisa.ciou(intersection_sum, union_sum),
        count=len(ious),
        problems=problems,
    )
