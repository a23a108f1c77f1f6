"""One loader for every dataset in the ``meta_expressions`` format: one sample per expression."""

from __future__ import annotations

import dataclasses
import itertools
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from visa_core.annotations import ExpressionEntry, VideoEntry, read_meta_expressions
from visa_core.errors import ComponentOptionError, DataFormatError
from visa_core.interfaces import DatasetLoader
from visa_core.types import Query, QueryKind, Sample
from visa_core.video import Video
from visa_data.grouping import group_indices
from visa_data.video.masks import ForegroundMasks, MaskDictMasks, MaskSource, PngMasks
from visa_data.video.problems import ProblemLog

TYPE_KINDS: dict[int, QueryKind] = {0: "referring", 1: "reasoning", 2: "none"}
"""ReVOS ``type_id`` -> query kind (2 = no target)."""


def evaluation_query_text(text: str) -> str:
    """``text`` lower-cased with its whitespace runs made single spaces, as the original's RVOS
    evaluation dataset prepared every query (``" ".join(exp.lower().split())``)."""
    return " ".join(text.lower().split())


@dataclass(frozen=True)
class SplitLayout:
    """Where a split's files lie, relative to the dataset root.

    ``masks`` is ``"mask_dict"`` (``mask_file`` is a mask_dict.json), ``"png"`` (``mask_file`` is
    the Annotations folder) or None (no ground truth, e.g. MeViS valid).
    """

    frames: str
    meta_expressions: str
    masks: str | None = None
    mask_file: str | None = None
    foreground: str | None = None


class MetaExpressionsDataset(DatasetLoader):
    """Base of the video loaders; subclasses set ``name``, ``layouts``, ``evaluation_splits`` and
    optionally ``text_of``.

    Samples: ``video`` (frames ``<frames>/<video>/<frame>.jpg``, decoded on use), ``query``
    (``query_id`` = expression id, kind from ``type_id`` or ``referring``), ``masks``
    ``bool[1, T, H, W]`` (union of the expression's objects) and ``annotated`` ``bool[T]``, ``meta``
    with ``dataset``, ``video_id``, ``exp_id``, ``obj_ids``, ``anno_ids``, ``type_id``.

    Query text: on the ``evaluation_splits`` it is lower-cased and whitespace-normalised
    (:func:`evaluation_query_text`), as the original's RVOS evaluation dataset fed it to the model;
    on the other splits it is only stripped, as the original's training dataset.
    """

    layouts: ClassVar[Mapping[str, SplitLayout]]
    evaluation_splits: ClassVar[frozenset[str]] = frozenset()
    """The splits the original evaluated on (their queries are normalised by default)."""

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Config(DatasetLoader.Config):
        """Options shared by the video loaders.

        ``strict``: make left-out items (counted warnings) errors. ``min_frames``: leave out videos
        with fewer frames (the original skipped videos with < 2 frames when training on MeViS).
        ``meta_expressions`` / ``mask_dict``: read these files instead of the layout's (e.g. a
        converter's output). ``cache_dir``: index big JSON files into memory-mapped Arrow files there.
        ``normalise_queries``: lower-case the query text and collapse its whitespace
        (:func:`evaluation_query_text`); None (default) does it on the loader's evaluation splits only.
        """

        strict: bool = False
        min_frames: int = 1
        meta_expressions: Path | None = None
        mask_dict: Path | None = None
        cache_dir: Path | None = None
        normalise_queries: bool | None = None

        def __post_init__(self) -> None:
            for name in ("root", "meta_expressions", "mask_dict", "cache_dir"):
                value = getattr(self, name)
                if value is not None and not isinstance(value, Path):
                    object.__setattr__(self, name, Path(value))

    def __init__(self, config: Any = None, /, **options: Any) -> None:
        super().__init__(config, **options)
        layout = self.layouts.get(self.config.split)
        if layout is None:
            raise ComponentOptionError(
                f"dataset {self.name!r} has no split {self.config.split!r} "
                f"(its splits: {', '.join(self.layouts)})"
            )
        root = self.config.root
        normalise = self.config.normalise_queries
        self.normalises_queries = (
            self.config.split in self.evaluation_splits if normalise is None else normalise
        )
        self.frames_dir = root / layout.frames
        self.meta_path = self.config.meta_expressions or root / layout.meta_expressions
        self.mask_source = self._mask_source(root, layout)
        self.foreground_source = self._foreground_source(root, layout)
        problems = ProblemLog(self.name, self.config.strict)
        self.videos = self._select_videos(
            read_meta_expressions(self.meta_path, self.name, order="id"), problems
        )
        self.items: list[tuple[int, int]] = []
        for v, video in enumerate(self.videos):
            for e, expression in enumerate(video.expressions):
                if not expression.text.strip():
                    problems.skip(
                        "expressions with empty text", f"video {video.video_id!r} exp {expression.exp_id!r}"
                    )
                    continue
                self.items.append((v, e))
        problems.emit()
        self.skipped = dict(problems.counts)
        self._samples_of_video = group_indices(v for v, _ in self.items)

    def _mask_source(self, root: Path, layout: SplitLayout) -> MaskSource | None:
        if self.config.mask_dict is not None:
            return MaskDictMasks(self.config.mask_dict, self.name, self.config.cache_dir)
        if layout.masks == "mask_dict":
            return MaskDictMasks(root / str(layout.mask_file), self.name, self.config.cache_dir)
        if layout.masks == "png":
            return PngMasks(root / str(layout.mask_file), self.name)
        return None

    def _foreground_source(self, root: Path, layout: SplitLayout) -> ForegroundMasks | None:
        if layout.foreground is None:
            return None
        return ForegroundMasks(root / layout.foreground, self.name, self.config.cache_dir)

    def _select_videos(self, videos: list[VideoEntry], problems: ProblemLog) -> list[VideoEntry]:
        """Videos with at least ``min_frames`` frames; subclasses may filter more."""
        kept = []
        for video in videos:
            if len(video.frames) < max(1, self.config.min_frames):
                problems.skip(
                    f"videos with fewer than {max(1, self.config.min_frames)} frames",
                    f"video {video.video_id!r} ({len(video.frames)} frames)",
                )
            else:
                kept.append(video)
        return kept

    def text_of(self, expression: ExpressionEntry) -> str:
        """The query text of an expression (LV-VIS turns category names into phrases)."""
        return expression.text.strip()

    def kind_of(self, video: VideoEntry, expression: ExpressionEntry) -> QueryKind:
        if expression.type_id is None:
            return "referring"
        if expression.type_id not in TYPE_KINDS:
            raise DataFormatError(
                f"{self.name}: {self.meta_path}: video {video.video_id!r} expression {expression.exp_id!r} "
                f"has type_id {expression.type_id}; expected 0 (referring), 1 (reasoning) or 2 (no target)"
            )
        return TYPE_KINDS[expression.type_id]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> Sample:
        if not 0 <= index < len(self.items):
            raise IndexError(f"{self.name}: sample {index} out of range ({len(self.items)} samples)")
        v, e = self.items[index]
        video_entry, expression = self.videos[v], self.videos[v].expressions[e]
        video = self.open_video(video_entry)
        size = video.size
        if video_entry.size is not None and tuple(video_entry.size) != tuple(size):
            raise DataFormatError(
                f"{self.name}: {self.meta_path}: video {video_entry.video_id!r} is listed as "
                f"{video_entry.size[1]}x{video_entry.size[0]} but its frames are {size[1]}x{size[0]}"
            )
        meta: dict[str, Any] = {
            "dataset": self.name,
            "video_id": video_entry.video_id,
            "exp_id": expression.exp_id,
            "obj_ids": expression.obj_ids,
            "anno_ids": expression.anno_ids,
            "type_id": expression.type_id,
        }
        masks = annotated = None
        if self.mask_source is not None:
            union, annotated = self.mask_source.masks(video_entry, expression, size)
            masks = union[None]
        if self.foreground_source is not None:
            meta["foreground"] = self.foreground_source.foreground(video_entry, size)
        query = self.query_of(video_entry, expression)
        return Sample(video=video, query=query, masks=masks, annotated=annotated, meta=meta)

    def query_of(self, video: VideoEntry, expression: ExpressionEntry) -> Query:
        """The :class:`~visa_core.Query` of one expression (text normalised if ``normalises_queries``)."""
        text = self.text_of(expression)
        if self.normalises_queries:
            text = evaluation_query_text(text)
        return Query(text, expression.exp_id, self.kind_of(video, expression), expression.answer)

    def same_video_samples(self, index: int) -> Sequence[int]:
        """Indices of the expressions of sample ``index``'s video (itself included)."""
        return self._samples_of_video[self.items[index][0]]

    def queries_by_video(self) -> Iterator[tuple[Video, list[Query]]]:
        """Each video with its queries, in sample order, without decoding any mask."""
        for v, group in itertools.groupby(self.items, key=lambda item: item[0]):
            entry = self.videos[v]
            yield self.open_video(entry), [self.query_of(entry, entry.expressions[e]) for _, e in group]

    def open_video(self, video: VideoEntry) -> Video:
        """The video's frames (checked to exist on disk, decoded on use)."""
        folder = self.frames_dir / video.video_id
        paths = [folder / f"{frame}.jpg" for frame in video.frames]
        for frame, path in zip(video.frames, paths, strict=True):
            if not path.is_file():
                raise DataFormatError(
                    f"{self.name}: {self.meta_path}: video {video.video_id!r} lists frame {frame!r} but "
                    f"{path} does not exist"
                )
        return Video.from_files(video.video_id, paths)

    def stats(self) -> dict[str, Any]:
        """Numbers of videos, expressions (per query kind), frames and annotated frames."""
        kinds: Counter[str] = Counter()
        for v, e in self.items:
            kinds[self.kind_of(self.videos[v], self.videos[v].expressions[e])] += 1
        videos = sorted({v for v, _ in self.items})
        annotated = 0
        if self.mask_source is not None:
            annotated = sum(self.mask_source.annotated_frames(self.videos[v]) for v in videos)
        return {
            "dataset": self.name,
            "split": self.config.split,
            "videos": len(videos),
            "expressions": len(self.items),
            "expressions_by_kind": dict(sorted(kinds.items())),
            "frames": sum(len(self.videos[v].frames) for v in videos),
            "annotated_frames": annotated,
            "skipped": self.skipped,
        }
