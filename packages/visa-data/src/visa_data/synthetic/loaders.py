"""Loaders of the synthetic dataset's still images, QA conversations and language-only
conversations (the videos use ``revos``).

``root`` is the folder ``visa make-synthetic`` wrote; ``split`` is ``train`` or ``valid``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from visa_core.annotations import read_json, require_key
from visa_core.errors import ComponentOptionError, DataFormatError
from visa_core.interfaces import DatasetLoader
from visa_core.types import Sample, Turn
from visa_core.video import Video
from visa_data.conversation.records import read_turns
from visa_data.video.base import MetaExpressionsDataset, SplitLayout


class SyntheticImagesDataset(MetaExpressionsDataset):
    """Still images of shapes with referring, reasoning and no-target queries (one-frame videos)."""

    name: ClassVar[str] = "synthetic_images"
    task = "image_segmentation"
    layouts: ClassVar[dict[str, SplitLayout]] = {
        split: SplitLayout(
            "images/JPEGImages",
            f"images/meta_expressions_{split}_.json",
            "mask_dict",
            "images/mask_dict.json",
        )
        for split in ("train", "valid")
    }


class _ConversationFile(DatasetLoader):
    """Conversations of ``root / folder / f"{folder}_{split}.json"`` (LLaVA schema), checked on load."""

    task = "conversation"
    folder: ClassVar[str]

    def __init__(self, config: Any = None, /, **options: Any) -> None:
        super().__init__(config, **options)
        self.root = Path(self.config.root)
        if self.config.split not in ("train", "valid"):
            raise ComponentOptionError(
                f"{self.name}: no split {self.config.split!r} (its splits: train, valid)"
            )
        self.path = self.root / self.folder / f"{self.folder}_{self.config.split}.json"
        entries = read_json(self.path, self.name)
        if not isinstance(entries, list):
            raise DataFormatError(f"{self.name}: {self.path} should hold a JSON list of conversations")
        self.entries = [self._check(entry, i) for i, entry in enumerate(entries)]

    def _check(self, entry: Any, index: int) -> tuple[str, tuple[Turn, ...], Any]:
        """``(id, turns, media)``; ``media`` is what :meth:`_video` needs (see :meth:`_media`)."""
        item = f"conversation {index}"
        conversation = require_key(entry, "conversations", self.name, self.path, item)
        roles, texts = read_turns(conversation, self.name, self.path, item)
        turns = tuple(Turn(role, text) for role, text in zip(roles, texts, strict=True))
        return str(entry.get("id", index)), turns, self._media(entry, item)

    def _media(self, entry: Any, item: str) -> Any:
        """What an entry shows, checked (None: language only)."""
        return None

    def _video(self, conversation_id: str, media: Any) -> Video | None:
        return None

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, index: int) -> Sample:
        conversation_id, turns, media = self.entries[index]
        return Sample(
            video=self._video(conversation_id, media), conversation=turns, meta={"dataset": self.name}
        )


class SyntheticQADataset(_ConversationFile):
    """Question-answer conversations (text answers, no masks) about the synthetic videos and images."""

    name: ClassVar[str] = "synthetic_qa"
    folder = "qa"

    def _media(self, entry: Any, item: str) -> tuple[str, tuple[str, ...]]:
        folder = require_key(entry, "video", self.name, self.path, item)
        frames = require_key(entry, "frames", self.name, self.path, item)
        if not frames:
            raise DataFormatError(f"{self.name}: {self.path}: {item} has no frames")
        return str(folder), tuple(frames)

    def _video(self, conversation_id: str, media: tuple[str, tuple[str, ...]]) -> Video:
        folder, frames = media
        paths = [self.root / folder / f"{frame}.jpg" for frame in frames]
        missing = [p for p in paths if not p.is_file()]
        if missing:
            raise DataFormatError(
                f"{self.name}: {self.path}: conversation {conversation_id!r} lists missing frame {missing[0]}"
            )
        return Video.from_files(conversation_id, paths)


class SyntheticTextDataset(_ConversationFile):
    """Language-only conversations (no frames) that pretrain the tiny LLM (see
    :mod:`visa_data.synthetic.text`)."""

    name: ClassVar[str] = "synthetic_text"
    folder = "text"


SYNTHETIC_LOADERS: tuple[type[DatasetLoader], ...] = (
    SyntheticImagesDataset,
    SyntheticQADataset,
    SyntheticTextDataset,
)
