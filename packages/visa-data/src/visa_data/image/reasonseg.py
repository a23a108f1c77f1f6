"""ReasonSeg (LISA): ``<split>/*.jpg`` each with a labelme-style ``.json`` of its query texts and shapes.

Each json holds ``text`` (a list of queries), ``is_sentence`` and ``shapes`` (``label`` "target",
"ignore" or "flag"; ``points`` ``[[x, y], ...]``). As in LISA, "flag" shapes are dropped, the
others are filled from the largest to the smallest (a smaller shape overwrites a larger one),
"ignore" shapes with the ignore value. One :class:`~visa_core.Sample` per (image, text), or per image
with its first text (LISA's evaluation) when ``first_text_only=True``. ``meta["ignore"]`` is
``bool[1, H, W]`` (the 255 label of gIoU); for the train split ``meta["explanation"]`` holds the
``outputs`` of ``explanatory/train.json`` for images that have one.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from visa_core.annotations import read_json, read_labelme_json, require_key
from visa_core.annotations.labelme import IGNORE, TARGET, label_map
from visa_core.errors import DataFormatError
from visa_core.types import Query, Sample
from visa_data.image.base import ImageSegmentationLoader
from visa_data.image.frames import image_video


class ReasonSeg(ImageSegmentationLoader):
    """ReasonSeg reasoning segmentation (train / val / test folders of jpg + json)."""

    name = "reasonseg"

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Config(ImageSegmentationLoader.Config):
        """``first_text_only``: one sample per image with its first text (LISA's evaluation)."""

        first_text_only: bool = False

    def __init__(self, config: Any = None, /, **options: Any) -> None:
        super().__init__(config, **options)
        folder = self.root / self.config.split
        if not folder.is_dir():
            raise DataFormatError(f"{self.name}: split folder {folder} does not exist")
        self._items: list[tuple[Path, int, str, bool]] = []
        for image in sorted(folder.glob("*.jpg")):
            data = read_labelme_json(image.with_suffix(".json"), self.name)
            texts = require_key(data, "text", self.name, image.with_suffix(".json"), "the annotation")
            texts = [texts] if isinstance(texts, str) else list(texts)
            if not texts or not all(isinstance(t, str) and t.strip() for t in texts):
                raise DataFormatError(f"{self.name}: {image.with_suffix('.json')} has no usable 'text'")
            is_sentence = bool(data.get("is_sentence", False))
            for number, text in enumerate(texts[:1] if self.config.first_text_only else texts):
                self._items.append((image, number, text, is_sentence))
        if not self._items:
            raise DataFormatError(f"{self.name}: {folder} holds no .jpg images")
        self._explanations = self._read_explanations()

    def _read_explanations(self) -> dict[str, dict[str, str]]:
        path = self.root / "explanatory" / f"{self.config.split}.json"
        if not path.is_file():
            return {}
        entries = read_json(path, self.name)
        if not isinstance(entries, list):
            raise DataFormatError(f"{self.name}: {path} should hold a list of entries")
        explanations = {}
        for i, entry in enumerate(entries):
            image = str(require_key(entry, "image", self.name, path, f"entry {i}"))
            explanations[image] = {
                "query": str(require_key(entry, "query", self.name, path, f"entry {i}")),
                "outputs": str(require_key(entry, "outputs", self.name, path, f"entry {i}")),
            }
        return explanations

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: int) -> Sample:
        image, number, text, is_sentence = self._items[index]
        annotation_path = image.with_suffix(".json")
        video = image_video(self.name, image.stem, [image], f"image {image.name}")
        data = read_labelme_json(annotation_path, self.name)
        shapes = require_key(data, "shapes", self.name, annotation_path, "the annotation")
        labels = label_map(shapes, tuple(video.size), self.name, annotation_path)
        meta: dict[str, Any] = {
            "image": str(image),
            "is_sentence": is_sentence,
            "ignore": (labels == IGNORE)[None],
        }
        explanation = self._explanations.get(image.name)
        if explanation is not None:
            meta["explanation"] = explanation["outputs"]
            meta["explanatory_query"] = explanation["query"]
        return Sample(
            video=video,
            query=Query(text=text, query_id=f"{image.stem}:{number}", kind="reasoning"),
            masks=(labels == TARGET)[None, None],
            meta=meta,
        )
