"""The base of conversation loaders: sources indexed once into Arrow, samples with every turn."""

from __future__ import annotations

import bisect
import dataclasses
import logging
from abc import abstractmethod
from pathlib import Path
from typing import Any, ClassVar

from visa_core.errors import ComponentOptionError, VideoDecodeError
from visa_core.interfaces import DatasetLoader, DatasetTask
from visa_core.types import Sample
from visa_core.video import Video
from visa_data.conversation.index import JsonIndex, Rows, Skips, open_index, resolve_cache_dir
from visa_data.conversation.records import row_turns
from visa_data.files import SkipLog
from visa_data.image.frames import image_video


@dataclasses.dataclass(frozen=True)
class Source:
    """One conversation json and the folder its rows' file paths are relative to."""

    name: str
    json_file: Path
    media_root: Path


class ConversationLoader(DatasetLoader):
    """Conversations about an image, several images (a multi-frame video) or a video file.

    ``Sample.conversation`` holds every turn; ``query`` and ``masks`` are None. Images are decoded
    when their frames are read; video files are opened (decord, PyAV fallback) when the sample is
    built and decoded frame by frame.
    """

    task: ClassVar[DatasetTask] = "conversation"

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Config(DatasetLoader.Config):
        """``cache_dir``: where the Arrow index goes (default ``~/.cache/visa/datasets``, never
        inside ``root``); ``strict``: entries the original skipped become errors."""

        cache_dir: Path | None = None
        strict: bool = False

    def __init__(self, config: Any = None, /, **options: Any) -> None:
        super().__init__(config, **options)
        if self.config.split != "train":
            raise ComponentOptionError(f"{self.name}: only split 'train' exists, got {self.config.split!r}")
        self.root = Path(self.config.root)
        self.cache_dir = resolve_cache_dir(self.config.cache_dir, self.root, self.name)
        self.sources = self._sources()
        self.skipped = SkipLog(self.name, self.config.strict)
        self._indexes: list[JsonIndex] | None = [self._open(source) for source in self.sources]
        for index in self._indexes:
            self._apply_skips(index.skips)
        self.skipped.report()
        self._offsets = [0]
        for index in self._indexes:
            self._offsets.append(self._offsets[-1] + len(index.rows))

    @abstractmethod
    def _sources(self) -> list[Source]:
        """The source jsons to read."""

    @abstractmethod
    def _convert(self, source: Source, data: Any, path: Path) -> tuple[Rows, Skips]:
        """Rows of one parsed source json (see :func:`~visa_data.conversation.records.entries_to_rows`)."""

    def _open(self, source: Source) -> JsonIndex:
        return open_index(
            source.json_file, self.cache_dir, self.name, lambda data, path: self._convert(source, data, path)
        )

    def _apply_skips(self, skips: Skips) -> None:
        for reason, record in skips.items():
            if record.get("expected"):
                logging.getLogger(f"visa_data.{self.name}").info(
                    "%s: left out %d item(s): %s", self.name, record["count"], reason
                )
            else:
                self.skipped.skip(reason, record["example"], count=record["count"])

    def __len__(self) -> int:
        return self._offsets[-1]

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_indexes"] = None  # reopened (memory-mapped) in the worker
        return state

    def __getitem__(self, index: int) -> Sample:
        if not 0 <= index < len(self):
            raise IndexError(f"{self.name}: index {index} out of range for {len(self)} conversations")
        if self._indexes is None:
            self._indexes = [self._open(source) for source in self.sources]
        number = bisect.bisect_right(self._offsets, index) - 1
        source = self.sources[number]
        row = self._indexes[number].rows[index - self._offsets[number]]
        item = f"conversation {row['id']} of {source.json_file}"
        paths = [source.media_root / name for name in row["files"]]
        if row["kind"] == "video":
            if not paths[0].is_file():
                raise VideoDecodeError(f"{self.name}: video {paths[0]} listed for {item} does not exist")
            video = Video.open(paths[0], video_id=row["id"])
        else:
            video = image_video(self.name, row["id"], paths, item)
        return Sample(
            video=video,
            conversation=row_turns(row),
            meta={
                "id": row["id"],
                "source": source.name,
                "kind": row["kind"],
                "files": tuple(map(str, paths)),
            },
        )
