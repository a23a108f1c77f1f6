"""Part segmentation datasets in COCO format (PACO-LVIS, PASCAL-Part) as "segment the X" samples.

One :class:`~visa_core.Sample` per annotation (an object or a part instance), in the order of the
annotation file. A part class ``obj:part`` is phrased ``"obj part"`` or ``"the part of the obj"``
(LISA: 50/50 at random; here drawn with a generator seeded by ``(seed, index)``). Annotations
without a segmentation (LISA silently drew another image) are counted and left out, or an error
with ``strict=True``.
"""

from __future__ import annotations

import dataclasses
from abc import abstractmethod
from pathlib import Path
from typing import Any

from visa_core.annotations import decode_segmentation, read_json, require_key
from visa_core.errors import DataFormatError
from visa_core.types import Query, Sample
from visa_data.files import SkipLog
from visa_data.image.base import ImageSegmentationLoader
from visa_data.image.frames import image_video

ClassName = str | tuple[str, str]


@dataclasses.dataclass(frozen=True)
class _Image:
    file_name: str
    height: int
    width: int


class CocoPartLoader(ImageSegmentationLoader):
    """A COCO-format annotation file whose categories are objects or ``object:part`` pairs."""

    def __init__(self, config: Any = None, /, **options: Any) -> None:
        super().__init__(config, **options)
        self.annotation_file = self._annotation_file()
        data = read_json(self.annotation_file, self.name)
        self._images = self._read_images(data)
        self.class_names = self._read_categories(data)
        self.skipped = SkipLog(self.name, self.config.strict)
        self._annotations = self._read_annotations(data)
        self.skipped.report()
        if not self._annotations:
            raise DataFormatError(f"{self.name}: {self.annotation_file} holds no usable annotation")

    @abstractmethod
    def _annotation_file(self) -> Path: ...

    @abstractmethod
    def _image_path(self, file_name: str) -> Path: ...

    @abstractmethod
    def _class_name(self, raw: str, path: Path, item: str) -> ClassName: ...

    def _read_images(self, data: Any) -> dict[int, _Image]:
        path = self.annotation_file
        images = {}
        for i, entry in enumerate(require_key(data, "images", self.name, path, "the annotation file")):
            item = f"image entry {i}"
            images[int(require_key(entry, "id", self.name, path, item))] = _Image(
                file_name=str(require_key(entry, "file_name", self.name, path, item)),
                height=int(require_key(entry, "height", self.name, path, item)),
                width=int(require_key(entry, "width", self.name, path, item)),
            )
        return images

    def _read_categories(self, data: Any) -> dict[int, ClassName]:
        path = self.annotation_file
        names = {}
        for i, entry in enumerate(require_key(data, "categories", self.name, path, "the annotation file")):
            item = f"category entry {i}"
            raw = str(require_key(entry, "name", self.name, path, item))
            names[int(require_key(entry, "id", self.name, path, item))] = self._class_name(raw, path, item)
        return names

    def _read_annotations(self, data: Any) -> list[dict[str, Any]]:
        path = self.annotation_file
        kept = []
        for i, entry in enumerate(require_key(data, "annotations", self.name, path, "the annotation file")):
            item = f"annotation {entry.get('id', i) if isinstance(entry, dict) else i}"
            image_id = int(require_key(entry, "image_id", self.name, path, item))
            category_id = int(require_key(entry, "category_id", self.name, path, item))
            if image_id not in self._images:
                raise DataFormatError(f"{self.name}: {path}: {item} refers to unknown image id {image_id}")
            if category_id not in self.class_names:
                raise DataFormatError(
                    f"{self.name}: {path}: {item} refers to unknown category id {category_id}"
                )
            if not entry.get("segmentation"):
                self.skipped.skip("annotation without segmentation", f"{path}: {item}")
                continue
            kept.append(
                {
                    "id": entry.get("id", i),
                    "image_id": image_id,
                    "category_id": category_id,
                    "segmentation": entry["segmentation"],
                }
            )
        return kept

    def __len__(self) -> int:
        return len(self._annotations)

    def phrase(self, index: int, name: ClassName) -> str:
        """The query text of class ``name`` for sample ``index``."""
        if isinstance(name, str):
            return name
        obj, part = name
        return f"{obj} {part}" if self.choose(index, 2) == 0 else f"the {part} of the {obj}"

    def __getitem__(self, index: int) -> Sample:
        annotation = self._annotations[index]
        image = self._images[annotation["image_id"]]
        item = f"annotation {annotation['id']}"
        path = self._image_path(image.file_name)
        video = image_video(self.name, Path(image.file_name).stem, [path], item)
        size = (image.height, image.width)
        if tuple(video.size) != size:
            raise DataFormatError(
                f"{self.name}: {self.annotation_file}: image {path} is {video.size[1]}x{video.size[0]} "
                f"but its entry says {image.width}x{image.height}"
            )
        segmentation = annotation["segmentation"]
        mask = decode_segmentation(segmentation, size, self.name, self.annotation_file, item) > 0
        name = self.class_names[annotation["category_id"]]
        return Sample(
            video=video,
            query=Query(text=self.phrase(index, name), query_id=str(annotation["id"]), kind="referring"),
            masks=mask[None, None],
            meta={
                "image": str(path),
                "annotation_id": annotation["id"],
                "category_id": annotation["category_id"],
                "class_name": name,
            },
        )


class PacoLvis(CocoPartLoader):
    """PACO-LVIS: ``annotations/paco_lvis_v1_<split>.json`` with COCO 2017 images.

    ``root`` is ``vlpart/paco``; images are ``image_root/<file_name>`` (``image_root`` defaults to
    the ``coco`` folder of LISA's layout, ``<root>/../../coco``). Category ``"obj_(sense):part"``
    becomes ``("obj", "part")``; ``"obj_(sense)"`` becomes ``"obj"``.
    """

    name = "paco_lvis"

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Config(ImageSegmentationLoader.Config):
        """``image_root``: the COCO images folder (default ``<root>/../../coco``)."""

        image_root: Path | None = None

    def _annotation_file(self) -> Path:
        return self.root / "annotations" / f"paco_lvis_v1_{self.config.split}.json"

    def _image_path(self, file_name: str) -> Path:
        return Path(self.config.image_root or self.root.parent.parent / "coco") / file_name

    def _class_name(self, raw: str, path: Path, item: str) -> ClassName:
        parts = raw.strip().split(":")
        if len(parts) == 1:
            return parts[0].split("_(")[0]
        if len(parts) != 2:
            raise DataFormatError(f"{self.name}: {path}: {item} name {raw!r} is neither 'obj' nor 'obj:part'")
        return parts[0].split("_(")[0], parts[1].split("_(")[0]


class PascalPart(CocoPartLoader):
    """PASCAL-Part (VLPart): ``<split>.json`` with ``VOCdevkit/VOC2010/JPEGImages`` images;
    every category is ``"obj:part"``."""

    name = "pascal_part"

    def _annotation_file(self) -> Path:
        return self.root / f"{self.config.split}.json"

    def _image_path(self, file_name: str) -> Path:
        return self.root / "VOCdevkit" / "VOC2010" / "JPEGImages" / file_name

    def _class_name(self, raw: str, path: Path, item: str) -> ClassName:
        parts = raw.strip().split(":")
        if len(parts) != 2:
            raise DataFormatError(f"{self.name}: {path}: {item} name {raw!r} is not 'obj:part'")
        return parts[0], parts[1]


PART_LOADERS = (PacoLvis, PascalPart)
