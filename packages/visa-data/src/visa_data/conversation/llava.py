"""LLaVA-Instruct-150k: ``llava_dataset/llava_instruct_150k.json`` over COCO train2017 images."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from visa_data.conversation.base import ConversationLoader, Source
from visa_data.conversation.index import Rows, Skips
from visa_data.conversation.records import entries_to_rows


class LlavaInstruct(ConversationLoader):
    """LLaVA-Instruct-150k conversations, each about one COCO image (a one-frame video)."""

    name = "llava_instruct"

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Config(ConversationLoader.Config):
        """``json_file``: the conversation file in ``root`` (also e.g. ``llava_v1_5_mix665k.json``);
        ``image_root``: the images (default ``<root>/../coco/train2017``, LISA's layout)."""

        json_file: str = "llava_instruct_150k.json"
        image_root: Path | None = None

    def _sources(self) -> list[Source]:
        image_root = Path(self.config.image_root or self.root.parent / "coco" / "train2017")
        return [Source("llava_instruct", self.root / self.config.json_file, image_root)]

    def _convert(self, source: Source, data: Any, path: Path) -> tuple[Rows, Skips]:
        return entries_to_rows(
            data, path, self.name, route_image=lambda name: name, route_video=lambda _: None
        )
