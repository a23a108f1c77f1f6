"""Turning LLaVA-style conversation entries into index rows and rows into turns.

An entry is ``{"id", "image": str | [str, ...] | "video": str, "conversations": [{"from":
"human" | "gpt", "value": str}, ...]}``. Every turn is kept, with ``<image>`` / ``<video>``
placeholders exactly as in the source text.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tqdm import tqdm

from visa_core.annotations import require_key
from visa_core.errors import DataFormatError
from visa_core.types import Turn
from visa_data.conversation.index import Rows, Skips

ROLES = ("human", "gpt")

Router = Callable[[str], str | None]
"""Maps a file name of an entry to its path relative to the dataset root (None: not available)."""


def entries_to_rows(
    data: Any,
    path: Path,
    dataset: str,
    route_image: Router,
    route_video: Router,
    text_only_expected: bool = False,
) -> tuple[Rows, Skips]:
    """Rows of every entry with an image, several images or a video; the rest is counted.

    Text-only entries are counted as ``expected`` skips when ``text_only_expected`` (the original
    filtered them on purpose, e.g. ScienceQA), as unexpected ones otherwise.
    """
    if not isinstance(data, list):
        raise DataFormatError(f"{dataset}: {path} should hold a list of conversations")
    rows: Rows = []
    skips: Skips = {}

    def skip(reason: str, item: str, expected: bool = False) -> None:
        record = skips.setdefault(reason, {"count": 0, "example": f"{path}: {item}", "expected": expected})
        record["count"] += 1

    for i, entry in enumerate(tqdm(data, desc=f"indexing {path.name}", unit="conv", leave=False)):
        item = f"entry {i} (id {entry.get('id', '?') if isinstance(entry, dict) else '?'})"
        conversation = require_key(entry, "conversations", dataset, path, item)
        roles, texts = read_turns(conversation, dataset, path, item)
        if "image" in entry:
            names = entry["image"] if isinstance(entry["image"], list) else [entry["image"]]
            kind, routed = "image", [route_image(str(name)) for name in names]
        elif "video" in entry:
            kind, routed = "video", [route_video(str(entry["video"]))]
        else:
            skip("conversation without an image or a video", item, expected=text_only_expected)
            continue
        if not routed or any(r is None for r in routed):
            skip("media folder not configured in the original", item)
            continue
        rows.append(
            {"id": str(entry.get("id", i)), "files": routed, "kind": kind, "roles": roles, "texts": texts}
        )
    return rows, skips


def read_turns(conversation: Any, dataset: str, path: Path, item: str) -> tuple[list[str], list[str]]:
    """Roles and texts of an entry's ``conversations`` list; an empty list, an unknown role or a
    non-string value is a :class:`DataFormatError` naming the file, the entry and the turn."""
    if not isinstance(conversation, list) or not conversation:
        raise DataFormatError(f"{dataset}: {path}: {item} has an empty or malformed 'conversations'")
    roles, texts = [], []
    for j, turn in enumerate(conversation):
        role = require_key(turn, "from", dataset, path, f"{item} turn {j}")
        text = require_key(turn, "value", dataset, path, f"{item} turn {j}")
        if role not in ROLES or not isinstance(text, str):
            raise DataFormatError(
                f"{dataset}: {path}: {item} turn {j} has role {role!r} (expected human or gpt) "
                f"and a {type(text).__name__} value (expected str)"
            )
        roles.append(role)
        texts.append(text)
    return roles, texts


def row_turns(row: dict[str, Any]) -> tuple[Turn, ...]:
    """The conversation of an index row, every turn in order."""
    return tuple(Turn(role=role, text=text) for role, text in zip(row["roles"], row["texts"], strict=True))
