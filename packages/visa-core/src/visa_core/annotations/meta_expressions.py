"""The ``meta_expressions*.json`` format of ReVOS, MeViS, Ref-YouTube-VOS, Ref-DAVIS17 and LV-VIS.

``{"videos": {video_id: {"frames": [frame names without extension], "expressions": {exp_id:
{"exp": str, "obj_id": int | str | [int | str], "anno_id": [int | str], "type_id": 0 | 1 | 2, "answer": str}},
"height": H, "width": W}}}``. ``obj_id`` is the object's value in palette PNG annotations,
``anno_id`` its key in ``mask_dict.json``; ``type_id`` (ReVOS) is 0 referring, 1 reasoning,
2 no target; ``answer`` (an extension, written by ``visa make-synthetic``) names the target in
words, e.g. ``"the red circle"``. ``anno_id``, ``obj_id``, ``type_id``, ``answer``, ``height`` and
``width`` are optional (not every dataset has them); a single ``obj_id`` / ``anno_id`` may be given
without a list.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from visa_core.annotations.json_files import read_json, require_key, where
from visa_core.errors import DataFormatError


@dataclass(frozen=True)
class ExpressionEntry:
    """One expression: its id, text, object ids (PNG values), mask_dict ids, type and the target
    named in words (None when the file does not give them)."""

    exp_id: str
    text: str
    obj_ids: tuple[int, ...]
    anno_ids: tuple[str, ...]
    type_id: int | None
    answer: str | None = None


@dataclass(frozen=True)
class VideoEntry:
    """One video: frame names in order, its expressions, and ``(H, W)`` when the file gives it."""

    video_id: str
    frames: tuple[str, ...]
    expressions: tuple[ExpressionEntry, ...]
    size: tuple[int, int] | None = None

    @property
    def video(self) -> str:
        """The video id under the name ``visa_eval``'s ground-truth API has always given it."""
        return self.video_id


def natural_key(name: str) -> tuple[int, int | str]:
    """Sort ``"2"`` before ``"10"``; names that are not integers after all integers."""
    return (0, int(name)) if name.isdigit() else (1, name)


def read_meta_expressions(
    path: Path, dataset: str | None = None, *, order: Literal["file", "id"] = "file"
) -> list[VideoEntry]:
    """Parse a meta_expressions file.

    ``order="file"`` keeps the file's order of videos and expressions (the official evaluation's
    order); ``order="id"`` sorts videos by id and expressions by :func:`natural_key` (the order the
    authors' ``mask_dict.pkl`` numbering follows).

    Raises:
        DataFormatError: a missing file, malformed JSON, a missing field or a field of the wrong
            type; the message names the dataset (when given), the file and the video / expression.
    """
    data = read_json(path, dataset)
    videos = require_key(data, "videos", dataset, path, "the top level")
    if not isinstance(videos, dict):
        raise DataFormatError(f"{where(dataset, path)}: 'videos' should be an object keyed by video id")
    ids = sorted(videos) if order == "id" else list(videos)
    return [_read_video(str(vid), videos[vid], path, dataset, order) for vid in ids]


def _read_video(video_id: str, raw: Any, path: Path, dataset: str | None, order: str) -> VideoEntry:
    item = f"video {video_id!r}"
    frames = require_key(raw, "frames", dataset, path, item)
    if not isinstance(frames, list) or not all(isinstance(f, str) for f in frames):
        raise DataFormatError(f"{where(dataset, path, item)}: 'frames' should be a list of frame names")
    expressions = require_key(raw, "expressions", dataset, path, item)
    if not isinstance(expressions, dict):
        raise DataFormatError(f"{where(dataset, path, item)}: 'expressions' should be an object")
    size = None
    if "height" in raw and "width" in raw:
        size = (_as_int(raw["height"], dataset, path, item), _as_int(raw["width"], dataset, path, item))
    exp_ids = sorted(expressions, key=natural_key) if order == "id" else list(expressions)
    entries = tuple(
        _read_expression(str(exp_id), expressions[exp_id], path, dataset, f"{item} expression {exp_id!r}")
        for exp_id in exp_ids
    )
    return VideoEntry(video_id, tuple(frames), entries, size)


def _read_expression(exp_id: str, raw: Any, path: Path, dataset: str | None, item: str) -> ExpressionEntry:
    text = require_key(raw, "exp", dataset, path, item)
    if not isinstance(text, str):
        raise DataFormatError(f"{where(dataset, path, item)}: 'exp' should be a string, got {text!r}")
    obj_ids = tuple(_as_int(v, dataset, path, item) for v in _as_list(raw.get("obj_id", [])))
    anno_ids = tuple(str(v) for v in _as_list(raw.get("anno_id", [])))
    type_id = raw.get("type_id")
    if type_id is not None:
        type_id = _as_int(type_id, dataset, path, item)
    answer = raw.get("answer")
    if answer is not None and not isinstance(answer, str):
        raise DataFormatError(f"{where(dataset, path, item)}: 'answer' should be a string, got {answer!r}")
    return ExpressionEntry(exp_id, text, obj_ids, anno_ids, type_id, answer)


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _as_int(value: Any, dataset: str | None, path: Path, item: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise DataFormatError(f"{where(dataset, path, item)}: expected an integer, got {value!r}") from None
