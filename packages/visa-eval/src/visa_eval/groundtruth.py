"""Small readers of the ground-truth files the evaluators need, in their published layouts.

* ``meta_expressions*.json``: ``{"videos": {video: {"frames": [...], "expressions": {exp_id:
  {"exp": str, "anno_id": [...], "obj_id": [...], "type_id": 0|1|2}}}}}`` (ReVOS, MeViS, Ref-DAVIS17,
  Ref-YouTube-VOS).
* ``mask_dict.json``: ``{str(anno_id): [COCO RLE or null per frame]}``.
* ``mask_dict_foreground.json`` (ReVOS): ``{video: {"masks_rle": [RLE per frame], ...}}``.

Each RLE is decoded once per video (:class:`VideoMasks`). Errors name the file and the item.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from visa_core.errors import DataFormatError


@dataclass(frozen=True)
class ExpressionMeta:
    """One expression of a video: its id, text, referred objects and (ReVOS) type."""

    exp_id: str
    text: str
    anno_ids: tuple[str, ...]
    obj_ids: tuple[str, ...]
    type_id: int | None


@dataclass(frozen=True)
class VideoMeta:
    """A video of a meta_expressions file: its frame names in order and its expressions."""

    video: str
    frames: tuple[str, ...]
    expressions: tuple[ExpressionMeta, ...]
    size: tuple[int, int] | None = None


def read_json(path: Path, what: str) -> Any:
    """Parse ``path``; a missing file or malformed JSON is a :class:`DataFormatError` naming it."""
    if not path.is_file():
        raise DataFormatError(f"{what} {path} does not exist")
    try:
        with path.open("r", encoding="utf-8") as handle:
            return json.load(handle)
    except json.JSONDecodeError as error:
        raise DataFormatError(f"{path} is not valid JSON (line {error.lineno}: {error.msg})") from error


def read_meta_expressions(path: Path) -> list[VideoMeta]:
    """The videos of a meta_expressions file, in file order (expressions in file order too)."""
    data = read_json(path, "meta expressions file")
    videos = data.get("videos") if isinstance(data, dict) else None
    if not isinstance(videos, dict):
        raise DataFormatError(f"{path}: expected a top-level object with a 'videos' object")
    result = []
    for video, entry in videos.items():
        if not isinstance(entry, dict) or "frames" not in entry or "expressions" not in entry:
            raise DataFormatError(f"{path}: video {video!r} needs 'frames' and 'expressions'")
        expressions = []
        for exp_id, exp in entry["expressions"].items():
            if not isinstance(exp, dict):
                raise DataFormatError(f"{path}: video {video!r} expression {exp_id!r} is not an object")
            type_id = exp.get("type_id")
            expressions.append(
                ExpressionMeta(
                    exp_id=str(exp_id),
                    text=str(exp.get("exp", "")),
                    anno_ids=tuple(str(a) for a in exp.get("anno_id", ())),
                    obj_ids=tuple(str(o) for o in exp.get("obj_id", ())),
                    type_id=None if type_id is None else int(type_id),
                )
            )
        size = (int(entry["height"]), int(entry["width"])) if "height" in entry and "width" in entry else None
        result.append(VideoMeta(str(video), tuple(str(f) for f in entry["frames"]), tuple(expressions), size))
    return result


def decode_rle(rle: Any, where: str) -> np.ndarray:
    """Decode a COCO RLE (``counts`` str, bytes or list) or a list of RLEs into ``uint8[H, W]``.

    A list of RLEs is summed over objects, as ``eval_revos.py`` does for the foreground.
    """
    from pycocotools import mask as mask_utils

    if isinstance(rle, list):
        masks = [decode_rle(item, where) for item in rle]
        if not masks:
            raise DataFormatError(f"{where}: empty list of RLEs")
        return np.sum(masks, axis=0).astype(np.uint8)
    if not isinstance(rle, dict) or "size" not in rle or "counts" not in rle:
        raise DataFormatError(f"{where}: not a COCO RLE with 'size' and 'counts'")
    height, width = (int(v) for v in rle["size"])
    try:
        if isinstance(rle["counts"], list):
            rle = mask_utils.frPyObjects(rle, height, width)
        elif isinstance(rle["counts"], str):
            rle = {"size": [height, width], "counts": rle["counts"].encode("ascii")}
        return np.ascontiguousarray(mask_utils.decode(rle))
    except Exception as error:  # pycocotools raises bare exceptions
        raise DataFormatError(f"{where}: corrupt RLE: {error}") from error


def rle_size(rle: Any, where: str) -> tuple[int, int]:
    """``(H, W)`` of an RLE (or of the first of a list of RLEs)."""
    first = rle[0] if isinstance(rle, list) and rle else rle
    if not isinstance(first, dict) or "size" not in first:
        raise DataFormatError(f"{where}: not a COCO RLE with 'size'")
    return int(first["size"][0]), int(first["size"][1])


@dataclass
class VideoMasks:
    """The object masks of one video, decoded on first use and kept for the video's expressions.

    ``mask_dict`` maps ``str(anno_id)`` to one RLE (or null) per frame of ``video``.
    """

    video: VideoMeta
    mask_dict: Mapping[str, Sequence[Any]]
    source: Path
    _decoded: dict[str, np.ndarray] = field(default_factory=dict)

    def frame_size(self) -> tuple[int, int] | None:
        """``(H, W)`` from the first non-null RLE of any object of the video, else the meta size."""
        for expression in self.video.expressions:
            for anno_id in expression.anno_ids:
                for t, rle in enumerate(self._frames_of(anno_id)):
                    if rle:
                        return rle_size(rle, self._where(anno_id, t))
        return self.video.size

    def object_masks(self, anno_id: str, size: tuple[int, int]) -> np.ndarray:
        """``uint8[T, H, W]`` of one object (0 on frames whose RLE is null)."""
        if anno_id not in self._decoded:
            masks = np.zeros((len(self.video.frames), *size), dtype=np.uint8)
            for t, rle in enumerate(self._frames_of(anno_id)):
                if rle:
                    where = self._where(anno_id, t)
                    if rle_size(rle, where) != size:
                        raise DataFormatError(
                            f"{where}: RLE of size {rle_size(rle, where)}, frames are {size}"
                        )
                    masks[t] = decode_rle(rle, where)
            self._decoded[anno_id] = masks
        return self._decoded[anno_id]

    def target_values(self, expression: ExpressionMeta, size: tuple[int, int]) -> np.ndarray:
        """``uint8[T, H, W]``: the sum of the expression's object masks (2 where two overlap)."""
        total = np.zeros((len(self.video.frames), *size), dtype=np.uint8)
        for anno_id in expression.anno_ids:
            total += self.object_masks(anno_id, size)
        return total

    def _frames_of(self, anno_id: str) -> Sequence[Any]:
        if anno_id not in self.mask_dict:
            raise DataFormatError(
                f"{self.source}: no masks for anno_id {anno_id} (video {self.video.video!r})"
            )
        frames = self.mask_dict[anno_id]
        if len(frames) < len(self.video.frames):
            raise DataFormatError(
                f"{self.source}: anno_id {anno_id} has {len(frames)} frames, video {self.video.video!r} "
                f"has {len(self.video.frames)}"
            )
        return frames

    def _where(self, anno_id: str, frame: int) -> str:
        return (
            f"{self.source}: anno_id {anno_id} frame {frame} ({self.video.video}/{self.video.frames[frame]})"
        )


def foreground_values(
    foreground_dict: Mapping[str, Any], video: VideoMeta, size: tuple[int, int], source: Path
):
    """``uint8[T, H, W]``: a ReVOS video foreground (``mask_dict_foreground.json[video]["masks_rle"]``)."""
    entry = foreground_dict.get(video.video)
    if not isinstance(entry, dict) or "masks_rle" not in entry:
        raise DataFormatError(f"{source}: no 'masks_rle' for video {video.video!r}")
    rles = entry["masks_rle"]
    if len(rles) < len(video.frames):
        raise DataFormatError(
            f"{source}: video {video.video!r} has {len(rles)} foreground masks, {len(video.frames)} frames"
        )
    masks = np.zeros((len(video.frames), *size), dtype=np.uint8)
    for t in range(len(video.frames)):
        where = f"{source}: foreground of {video.video}/{video.frames[t]}"
        if rle_size(rles[t], where) != size:
            raise DataFormatError(f"{where}: RLE of size {rle_size(rles[t], where)}, frames are {size}")
        masks[t] = decode_rle(rles[t], where)
    return masks
