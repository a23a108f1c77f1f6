"""Semantic segmentation datasets (ADE20K, COCO-Stuff, Mapillary Vistas) as "segment the X" samples.

One :class:`~visa_core.Sample` per image. The class to segment is drawn among the classes present
in the label map with a generator seeded by ``(seed, index)``, so an index always gives the same
sample (LISA drew up to three classes at random on every call). The mask is ``label == class``;
pixels with the ignore label 255 are returned as ``meta["ignore"]`` (``bool[1, H, W]``). An image
whose label map holds no usable class (LISA silently drew another image) gives a ``kind="none"``
query for a deterministically drawn absent class with an empty mask.
"""

from __future__ import annotations

import dataclasses
from abc import abstractmethod
from functools import cached_property
from pathlib import Path

import numpy as np

from visa_core.annotations import read_json, require_key
from visa_core.errors import DataFormatError
from visa_core.types import Query, Sample
from visa_data.image.base import ImageSegmentationLoader, split_folder
from visa_data.image.classes import ADE20K_CLASSES, COCOSTUFF_CLASSES
from visa_data.image.frames import image_video

IGNORE = 255


class SemanticSegmentationLoader(ImageSegmentationLoader):
    """Pairs of (image, label PNG) and a class list indexed by label value."""

    def __init__(self, config=None, /, **options) -> None:
        super().__init__(config, **options)
        self._pairs = self._list_pairs()
        if not self.classes:
            raise DataFormatError(f"{self.name}: the class list is empty")
        if not self._pairs:
            raise DataFormatError(f"{self.name}: no label maps found for split {self.config.split!r}")

    @abstractmethod
    def _list_pairs(self) -> list[tuple[Path, Path]]:
        """``(image, label)`` paths, sorted by label file name."""

    @property
    @abstractmethod
    def classes(self) -> tuple[str, ...]:
        """Class names; position = class id after :meth:`class_ids`."""

    def class_ids(self, label: np.ndarray) -> np.ndarray:
        """Raw label values -> class ids (``int16[H, W]``), ``255`` where ignored."""
        return label.astype(np.int16)

    def __len__(self) -> int:
        return len(self._pairs)

    def __getitem__(self, index: int) -> Sample:
        image_path, label_path = self._pairs[index]
        item = f"image {image_path.stem}"
        video = image_video(self.name, image_path.stem, [image_path], item)
        ids = self.class_ids(read_label(label_path, self.name))
        if ids.shape != tuple(video.size):
            raise DataFormatError(
                f"{self.name}: label {label_path} is {ids.shape[1]}x{ids.shape[0]} but image "
                f"{image_path} is {video.size[1]}x{video.size[0]}"
            )
        present = [int(v) for v in np.unique(ids) if v != IGNORE]
        unknown = [v for v in present if not 0 <= v < len(self.classes)]
        if unknown:
            raise DataFormatError(
                f"{self.name}: label {label_path} holds values {unknown} outside its "
                f"{len(self.classes)} classes"
            )
        if present:
            class_id, kind = present[self.choose(index, len(present))], "referring"
        else:
            usable = self.usable_class_ids
            class_id, kind = usable[self.choose(index, len(usable))], "none"
        masks = (ids == class_id)[None, None]
        return Sample(
            video=video,
            query=Query(text=self.classes[class_id], query_id=f"{image_path.stem}:{class_id}", kind=kind),
            masks=masks,
            meta={
                "image": str(image_path),
                "label": str(label_path),
                "class_id": class_id,
                "classes": tuple(self.classes[v] for v in present),
                "ignore": (ids == IGNORE)[None],
            },
        )

    @cached_property
    def usable_class_ids(self) -> list[int]:
        """Ids of the classes that are not mapped to the ignore label."""
        probe = np.arange(len(self.classes), dtype=np.int16)
        return [int(v) for v in probe if self._raw_id_usable(int(v))]

    def _raw_id_usable(self, class_id: int) -> bool:
        return True


def read_label(path: Path, dataset: str) -> np.ndarray:
    """A label map PNG as ``uint8[H, W]`` (grayscale or palette indices)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            if image.mode not in ("L", "P", "I", "I;16"):
                raise DataFormatError(f"{dataset}: label {path} is a {image.mode} image, not a label map")
            return np.asarray(image)
    except FileNotFoundError as error:
        raise DataFormatError(f"{dataset}: label file {path} does not exist") from error
    except (UnidentifiedImageError, OSError) as error:
        raise DataFormatError(f"{dataset}: label {path} cannot be read: {error}") from error


class Ade20k(SemanticSegmentationLoader):
    """ADE20K SceneParsing (150 classes): ``images/<training|validation>/*.jpg`` + ``annotations``."""

    name = "ade20k"
    classes = ADE20K_CLASSES

    def _list_pairs(self) -> list[tuple[Path, Path]]:
        folder = split_folder(self.name, self.config.split, {"train": "training", "val": "validation"})
        images = self.root / "images" / folder
        if not images.is_dir():
            raise DataFormatError(f"{self.name}: image folder {images} does not exist")
        return [
            (path, self.root / "annotations" / folder / f"{path.stem}.png")
            for path in sorted(images.glob("*.jpg"))
        ]

    def class_ids(self, label: np.ndarray) -> np.ndarray:
        """Label 0 (unlabelled) -> 255; every other value ``v`` -> class ``v - 1``."""
        ids = label.astype(np.int16) - 1
        ids[label == 0] = IGNORE
        return ids


class CocoStuff(SemanticSegmentationLoader):
    """COCO-Stuff ``stuffthingmaps_trainval2017`` PNGs; classes whose name has a '-' are ignored.

    ``root`` holds ``train2017/*.png``; images come from ``image_root`` (default: the ``coco``
    folder beside ``root``, as in LISA's layout) ``/<split>2017/*.jpg``.
    """

    name = "cocostuff"
    classes = COCOSTUFF_CLASSES

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Config(ImageSegmentationLoader.Config):
        """``image_root``: the COCO images folder (default ``<root>/../coco``)."""

        image_root: Path | None = None

    def _list_pairs(self) -> list[tuple[Path, Path]]:
        folder = split_folder(self.name, self.config.split, {"train": "train2017", "val": "val2017"})
        labels = self.root / folder
        if not labels.is_dir():
            raise DataFormatError(f"{self.name}: label folder {labels} does not exist")
        image_root = Path(self.config.image_root or self.root.parent / "coco") / folder
        return [(image_root / f"{path.stem}.jpg", path) for path in sorted(labels.glob("*.png"))]

    def class_ids(self, label: np.ndarray) -> np.ndarray:
        ids = label.astype(np.int16)
        ids[np.isin(ids, self._ignored_ids)] = IGNORE
        return ids

    @cached_property
    def _ignored_ids(self) -> np.ndarray:
        return np.array([i for i, name in enumerate(self.classes) if "-" in name], dtype=np.int16)

    def _raw_id_usable(self, class_id: int) -> bool:
        return "-" not in self.classes[class_id]


class Mapillary(SemanticSegmentationLoader):
    """Mapillary Vistas v2.0: ``config_v2.0.json`` labels (readable names, lower-cased) and
    ``<training|validation>/v2.0/labels/*.png`` with images in ``<split>/images/*.jpg``."""

    name = "mapillary"

    def _list_pairs(self) -> list[tuple[Path, Path]]:
        folder = split_folder(self.name, self.config.split, {"train": "training", "val": "validation"})
        labels = self.root / folder / "v2.0" / "labels"
        if not labels.is_dir():
            raise DataFormatError(f"{self.name}: label folder {labels} does not exist")
        return [
            (self.root / folder / "images" / f"{path.stem}.jpg", path)
            for path in sorted(labels.glob("*.png"))
        ]

    @cached_property
    def classes(self) -> tuple[str, ...]:  # type: ignore[override]
        path = self.root / "config_v2.0.json"
        labels = require_key(read_json(path, self.name), "labels", self.name, path, "the config")
        return tuple(
            str(require_key(entry, "readable", self.name, path, f"label {i}")).lower()
            for i, entry in enumerate(labels)
        )


SEMANTIC_LOADERS = (Ade20k, CocoStuff, Mapillary)
