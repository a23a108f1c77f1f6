"""LV-VIS annotations (YouTube-VIS json) -> the ReVOS-style ``meta_expressions.json`` + ``mask_dict.json``.

Input: ``{"videos": [{"id", "file_names": ["<video>/<frame>.jpg", ...], "height", "width"}],
"annotations": [{"id", "video_id", "category_id", "segmentations": [RLE | polygons | null per
frame]}], "categories": [{"id", "name"}]}``. One expression per (video, category): the category
name (the ``lvvis`` loader turns ``_`` into spaces), its objects = every instance of the category.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from visa_core.annotations import decode_segmentation, encode_rle, read_json, require_key, write_json
from visa_core.errors import DataFormatError

DATASET = "lvvis"


def convert_lvvis(instances: Path, out: Path) -> dict[str, int]:
    """Convert an LV-VIS instances json; return the numbers of videos, expressions and objects."""
    from tqdm.auto import tqdm

    data = read_json(instances, DATASET)

    def field(mapping: Any, key: str, item: str) -> Any:
        return require_key(mapping, key, DATASET, instances, item)

    categories = {
        int(field(c, "id", "a category")): str(field(c, "name", "a category"))
        for c in field(data, "categories", "the top level")
    }
    videos = {int(field(v, "id", "a video")): v for v in field(data, "videos", "the top level")}
    by_video: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for annotation in field(data, "annotations", "the top level"):
        anno_id = int(field(annotation, "id", "an annotation"))
        video_key = int(field(annotation, "video_id", f"annotation {anno_id}"))
        if video_key not in videos:
            raise DataFormatError(
                f"{DATASET}: {instances}: annotation {anno_id} names unknown video {video_key}"
            )
        if int(field(annotation, "category_id", f"annotation {anno_id}")) not in categories:
            raise DataFormatError(f"{DATASET}: {instances}: annotation {anno_id} has an unknown category")
        by_video[video_key].append(annotation)
    meta: dict[str, Any] = {}
    mask_dict: dict[str, Any] = {}
    for video_key in tqdm(sorted(videos), desc="lvvis", unit="video"):
        video = videos[video_key]
        item = f"video {video_key}"
        names = field(video, "file_names", item)
        video_id = Path(names[0]).parent.as_posix()
        size = (int(field(video, "height", item)), int(field(video, "width", item)))
        annotations = sorted(by_video.get(video_key, []), key=lambda a: int(a["id"]))
        objects: dict[int, list[int]] = defaultdict(list)
        for obj_id, annotation in enumerate(annotations):
            anno_id = int(annotation["id"])
            segmentations = field(annotation, "segmentations", f"annotation {anno_id}")
            if len(segmentations) != len(names):
                raise DataFormatError(
                    f"{DATASET}: {instances}: annotation {anno_id} has {len(segmentations)} "
                    f"segmentations for {len(names)} frames of video {video_id!r}"
                )
            mask_dict[str(anno_id)] = [
                _rle(seg, size, instances, f"annotation {anno_id} frame {t}")
                for t, seg in enumerate(segmentations)
            ]
            objects[int(annotation["category_id"])].append(obj_id)
        expressions = {
            str(exp_id): {
                "exp": categories[category],
                "obj_id": objects[category],
                "anno_id": [int(annotations[o]["id"]) for o in objects[category]],
                "category_id": category,
            }
            for exp_id, category in enumerate(sorted(objects))
        }
        meta[video_id] = {
            "frames": [Path(name).stem for name in names],
            "expressions": expressions,
            "height": size[0],
            "width": size[1],
        }
    write_json(out / "meta_expressions.json", {"videos": meta})
    write_json(out / "mask_dict.json", mask_dict)
    expressions_count = sum(len(v["expressions"]) for v in meta.values())
    return {"videos": len(meta), "expressions": expressions_count, "objects": len(mask_dict)}


def _rle(segmentation: Any, size: tuple[int, int], path: Path, item: str) -> dict[str, Any] | None:
    """A compressed RLE (counts as str) of one frame's segmentation, or None when absent."""
    if segmentation is None:
        return None
    mask = decode_segmentation(segmentation, size, DATASET, path, item) > 0
    return encode_rle(mask) if np.any(mask) else None
