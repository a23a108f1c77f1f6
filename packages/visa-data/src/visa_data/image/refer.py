"""Referring segmentation datasets in the REFER format (RefCOCO, RefCOCO+, RefCOCOg, RefCLEF).

``root`` is LISA's ``refer_seg`` folder::

    refer_seg/
      images/mscoco/images/train2014/*.jpg     (RefCOCO, RefCOCO+, RefCOCOg)
      images/saiapr_tc-12/...                  (RefCLEF)
      refcoco/instances.json, refcoco/refs(unc).p, refcoco/refs(google).p
      refcocog/instances.json, refcocog/refs(umd).p, ...

One :class:`~visa_core.Sample` per (referred object, sentence) of the split, in the order of the
refs pickle; the mask is the referred annotation (polygons or RLE), ``bool[1, 1, H, W]``.
The pickles are read with an unpickler that refuses every class, so a file that is not plain
lists/dicts/strings cannot run code.
"""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from visa_core.annotations import decode_segmentation, read_json, require_key
from visa_core.errors import DataFormatError
from visa_core.types import Query, Sample
from visa_data.grouping import group_indices
from visa_data.image.base import ImageSegmentationLoader
from visa_data.image.frames import image_video


class _PlainDataUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}: a refs pickle holds only plain data")


def read_refs(path: Path, dataset: str) -> list[dict[str, Any]]:
    """The list of refs in a REFER ``refs(<split_by>).p`` pickle (Python 2 or 3 pickles)."""
    if not path.is_file():
        raise DataFormatError(f"{dataset}: refs file {path} does not exist")
    for encoding in ("ASCII", "latin1"):
        try:
            with path.open("rb") as handle:
                refs = _PlainDataUnpickler(handle, encoding=encoding).load()
            break
        except UnicodeDecodeError:
            continue
        except Exception as error:
            raise DataFormatError(f"{dataset}: {path} is not a readable refs pickle: {error}") from error
    if not isinstance(refs, list):
        raise DataFormatError(f"{dataset}: {path} should hold a list of refs, got {type(refs).__name__}")
    return refs


@dataclasses.dataclass(frozen=True)
class _Expression:
    ref_id: int
    sent_id: int
    text: str
    ann_id: int
    image_id: int


class ReferLoader(ImageSegmentationLoader):
    """A REFER dataset: ``<root>/<folder>/refs(<split_by>).p`` + ``instances.json``."""

    folder: ClassVar[str]
    default_split_by: ClassVar[str] = "unc"
    image_folder: ClassVar[str] = "images/mscoco/images/train2014"

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Config(ImageSegmentationLoader.Config):
        """``split_by``: whose split (unc, umd, google, berkeley; default: LISA's choice);
        ``image_root``: override of the images folder."""

        split_by: str | None = None
        image_root: Path | None = None

    def __init__(self, config: Any = None, /, **options: Any) -> None:
        super().__init__(config, **options)
        split_by = self.config.split_by or self.default_split_by
        self.refs_file = self.root / self.folder / f"refs({split_by}).p"
        self.instances_file = self.root / self.folder / "instances.json"
        self.image_root = Path(self.config.image_root or self.root / self.image_folder)
        instances = read_json(self.instances_file, self.name)
        self._images = self._read_images(instances)
        self._annotations = self._read_annotations(instances)
        self._expressions = self._read_expressions(read_refs(self.refs_file, self.name))
        self._samples_of_image = group_indices(expression.image_id for expression in self._expressions)

    def _read_images(self, instances: Any) -> dict[int, tuple[str, int, int]]:
        path, images = self.instances_file, {}
        for i, entry in enumerate(require_key(instances, "images", self.name, path, "instances")):
            item = f"image entry {i}"
            images[int(require_key(entry, "id", self.name, path, item))] = (
                str(require_key(entry, "file_name", self.name, path, item)),
                int(require_key(entry, "height", self.name, path, item)),
                int(require_key(entry, "width", self.name, path, item)),
            )
        return images

    def _read_annotations(self, instances: Any) -> dict[int, Any]:
        path, annotations = self.instances_file, {}
        for i, entry in enumerate(require_key(instances, "annotations", self.name, path, "instances")):
            item = f"annotation entry {i}"
            annotations[int(require_key(entry, "id", self.name, path, item))] = require_key(
                entry, "segmentation", self.name, path, item
            )
        return annotations

    def _read_expressions(self, refs: list[dict[str, Any]]) -> list[_Expression]:
        path, expressions, splits = self.refs_file, [], set()
        for i, ref in enumerate(refs):
            item = f"ref {ref.get('ref_id', i) if isinstance(ref, dict) else i}"
            split = require_key(ref, "split", self.name, path, item)
            splits.add(split)
            if split != self.config.split:
                continue
            ann_id = int(require_key(ref, "ann_id", self.name, path, item))
            image_id = int(require_key(ref, "image_id", self.name, path, item))
            if ann_id not in self._annotations:
                raise DataFormatError(
                    f"{self.name}: {path}: {item} points at annotation {ann_id}, "
                    f"which {self.instances_file} does not have"
                )
            if image_id not in self._images:
                raise DataFormatError(
                    f"{self.name}: {path}: {item} points at image {image_id}, "
                    f"which {self.instances_file} does not have"
                )
            for j, sentence in enumerate(require_key(ref, "sentences", self.name, path, item)):
                sent_item = f"{item} sentence {j}"
                expressions.append(
                    _Expression(
                        ref_id=int(require_key(ref, "ref_id", self.name, path, item)),
                        sent_id=int(require_key(sentence, "sent_id", self.name, path, sent_item)),
                        text=str(require_key(sentence, "sent", self.name, path, sent_item)),
                        ann_id=ann_id,
                        image_id=image_id,
                    )
                )
        if not expressions:
            raise DataFormatError(
                f"{self.name}: {path} has no sentences in split {self.config.split!r} "
                f"(its splits: {', '.join(sorted(map(str, splits))) or 'none'})"
            )
        return expressions

    def __len__(self) -> int:
        return len(self._expressions)

    def same_video_samples(self, index: int) -> Sequence[int]:
        """Indices of the sentences about sample ``index``'s image (itself included): the original
        asks up to 3 of them per training sample."""
        return self._samples_of_image[self._expressions[index].image_id]

    def __getitem__(self, index: int) -> Sample:
        expression = self._expressions[index]
        file_name, height, width = self._images[expression.image_id]
        item = f"ref {expression.ref_id} (annotation {expression.ann_id})"
        path = self.image_root / file_name
        video = image_video(self.name, Path(file_name).stem, [path], item)
        if tuple(video.size) != (height, width):
            raise DataFormatError(
                f"{self.name}: {self.instances_file}: image {path} is {video.size[1]}x{video.size[0]} "
                f"but its entry says {width}x{height}"
            )
        segmentation = self._annotations[expression.ann_id]
        mask = decode_segmentation(segmentation, (height, width), self.name, self.instances_file, item) > 0
        return Sample(
            video=video,
            query=Query(
                text=expression.text, query_id=f"{expression.ref_id}_{expression.sent_id}", kind="referring"
            ),
            masks=mask[None, None],
            meta={"image": str(path), "ref_id": expression.ref_id, "ann_id": expression.ann_id},
        )


class RefCoco(ReferLoader):
    """RefCOCO (UNC splits: train, val, testA, testB) on COCO train2014 images."""

    name = "refcoco"
    folder = "refcoco"


class RefCocoPlus(ReferLoader):
    """RefCOCO+ (UNC splits: train, val, testA, testB) on COCO train2014 images."""

    name = "refcoco+"
    folder = "refcoco+"


class RefCocog(ReferLoader):
    """RefCOCOg (UMD splits: train, val, test; ``split_by="google"`` for train/val) on COCO train2014."""

    name = "refcocog"
    folder = "refcocog"
    default_split_by = "umd"


class RefClef(ReferLoader):
    """RefCLEF (ReferItGame, UNC splits) on the SAIAPR TC-12 images."""

    name = "refclef"
    folder = "refclef"
    image_folder = "images/saiapr_tc-12"


REFER_LOADERS = (RefCoco, RefCocoPlus, RefCocog, RefClef)
