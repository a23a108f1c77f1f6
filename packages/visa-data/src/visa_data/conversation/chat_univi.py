"""Chat-UniVi-Instruct, the three parts VISA trains on (``root`` = the Chat-UniVi-Instruct folder).

- ``mimic``: ``Fine-tuning/MIMIC_imageonly/MIMIC-IT-imageonly.json``, images in
  ``Fine-tuning/MIMIC_imageonly/{CDG,LA,SD}/images``;
- ``sqa``: ``ScienceQA_tuning/llava_train_QCM-LEA.json``, images in ``ScienceQA_tuning/train``;
- ``video``: ``Fine-tuning/VIDEO/video_chat.json``, videos in ``Fine-tuning/VIDEO/Activity_Videos``.

MIMIC images are routed to a folder by the name as in VISA (a name containing ``CGD`` goes to
``CDG``, then ``DC``, ``LA``, ``SD``, ``SN``, ``TVC``, ``VST``, ``GCC``, ``COCO_train2014``, else
COCO 2017); only CDG, LA and SD folders exist, so entries routed elsewhere (VISA retried another
sample on the error) are counted and left out, or an error with ``strict=True``. ScienceQA images
always come from ``ScienceQA_tuning/train`` (backslashes read as ``/``); its text-only entries are
left out as in VISA. A list of images becomes a multi-frame video; a video file is decoded lazily.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from visa_core.errors import ComponentOptionError
from visa_data.conversation.base import ConversationLoader, Source
from visa_data.conversation.index import Rows, Skips
from visa_data.conversation.records import entries_to_rows

MIMIC = "Fine-tuning/MIMIC_imageonly"
SOURCES = {
    "mimic": f"{MIMIC}/MIMIC-IT-imageonly.json",
    "sqa": "ScienceQA_tuning/llava_train_QCM-LEA.json",
    "video": "Fine-tuning/VIDEO/video_chat.json",
}
MIMIC_ROUTES = (
    ("CGD", f"{MIMIC}/CDG/images"),
    ("DC", None),
    ("LA", f"{MIMIC}/LA/images"),
    ("SD", f"{MIMIC}/SD/images"),
    ("SN", None),
    ("TVC", None),
    ("VST", None),
    ("GCC", None),
    ("COCO_train2014", None),
)
"""VISA's ordered substring routing of image names (None: a folder VISA never configured)."""


def route_mimic(name: str) -> str | None:
    """Path of a MIMIC image relative to ``root``; None where VISA had no folder for it."""
    for marker, folder in MIMIC_ROUTES:
        if marker in name:
            return f"{folder}/{name.replace(chr(92), '/')}" if folder else None
    return None


class ChatUniVi(ConversationLoader):
    """Chat-UniVi-Instruct image (MIMIC-IT, ScienceQA) and video (ActivityNet) conversations."""

    name = "chat_univi"

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Config(ConversationLoader.Config):
        """``sources``: which parts to read (a tuple, or a string like ``"mimic,video"``)."""

        sources: tuple[str, ...] | str = ("mimic", "sqa", "video")

    def _sources(self) -> list[Source]:
        names = self.config.sources
        if isinstance(names, str):
            names = [n.strip() for n in names.replace("||", ",").split(",") if n.strip()]
        unknown = [n for n in names if n not in SOURCES]
        if unknown or not names:
            raise ComponentOptionError(
                f"{self.name}: unknown sources {unknown or names}; sources are {', '.join(SOURCES)}"
            )
        return [Source(n, self.root / SOURCES[n], self.root) for n in names]

    def _convert(self, source: Source, data: Any, path: Path) -> tuple[Rows, Skips]:
        if source.name == "sqa":
            return entries_to_rows(
                data,
                path,
                self.name,
                route_image=lambda name: "ScienceQA_tuning/train/" + name.replace("\\", "/"),
                route_video=lambda _: None,
                text_only_expected=True,
            )
        if source.name == "video":
            return entries_to_rows(
                data,
                path,
                self.name,
                route_image=lambda _: None,
                route_video=lambda name: f"Fine-tuning/VIDEO/Activity_Videos/{name}",
            )
        return entries_to_rows(data, path, self.name, route_image=route_mimic, route_video=lambda _: None)
