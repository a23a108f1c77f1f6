"""Ref-YouTube-VOS / Ref-DAVIS17 PNG annotations -> ``mask_dict.json`` + ``meta_expressions.json``.

Reads ``<root>/meta_expressions/<split>/meta_expressions.json`` and the palette PNGs
``<root>/<split>/Annotations/<video>/<frame>.png`` (pixel value = object id). Every expression gets
one ``anno_id`` from a counter over videos sorted by id and expressions sorted by id (the keying of
the authors' ``mask_dict.pkl``); its masks list one COCO RLE per frame, null where the object is
absent. Written: ``<out>/meta_expressions.json`` and ``<out>/mask_dict.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from visa_core.annotations import encode_rle, read_label_png, read_meta_expressions, write_json
from visa_core.errors import DataFormatError
from visa_data.video.masks import PngMasks


def convert_png_annotations(root: Path, split: str, out: Path, dataset: str) -> dict[str, int]:
    """Convert one split; return the numbers of videos, expressions and frames written."""
    from tqdm.auto import tqdm

    meta_path = root / "meta_expressions" / split / "meta_expressions.json"
    png = PngMasks(root / split / "Annotations", dataset)
    videos_out: dict[str, Any] = {}
    mask_dict: dict[str, Any] = {}
    frames = 0
    for video in tqdm(
        read_meta_expressions(meta_path, dataset, order="id"), desc=f"{dataset} {split}", unit="video"
    ):
        paths = [png.frame_path(video, frame) for frame in video.frames]
        missing = [path for path in paths if not path.is_file()]
        if missing:
            raise DataFormatError(
                f"{dataset}: {missing[0]} does not exist; every frame listed in {meta_path} for video "
                f"{video.video_id!r} needs an annotation PNG (mask_dict cannot mark unannotated frames)"
            )
        size = _png_size(paths[0])
        labels = np.stack([read_label_png(path, dataset, size) for path in paths])
        expressions = {}
        for expression in video.expressions:
            union = np.isin(labels, expression.obj_ids)
            if not union.any():
                raise DataFormatError(
                    f"{dataset}: {png.folder / video.video_id}: video {video.video_id!r} expression "
                    f"{expression.exp_id!r} points at object(s) {list(expression.obj_ids)}, "
                    "which no PNG contains"
                )
            anno_id = len(mask_dict)
            mask_dict[str(anno_id)] = [encode_rle(m) if m.any() else None for m in union]
            expressions[expression.exp_id] = {
                "exp": expression.text,
                "obj_id": list(expression.obj_ids),
                "anno_id": [anno_id],
            }
        videos_out[video.video_id] = {
            "frames": list(video.frames),
            "expressions": expressions,
            "height": size[0],
            "width": size[1],
        }
        frames += len(video.frames)
    write_json(out / "meta_expressions.json", {"videos": videos_out})
    write_json(out / "mask_dict.json", mask_dict)
    return {"videos": len(videos_out), "expressions": len(mask_dict), "frames": frames}


def _png_size(path: Path) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as image:
        return image.height, image.width
