"""PACO-LVIS and PASCAL-Part loaders on tiny COCO-format trees."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import visa_core
from visa_core import DataFormatError
from visa_core.testing import DatasetLoaderContract

sys.path.insert(0, str(Path(__file__).parent))
import image_trees


def _paco(base: Path, **options):
    image_trees.paco_tree(base)
    return visa_core.build("dataset", "paco_lvis", root=base / "vlpart" / "paco", **options)


class TestPacoLvis(DatasetLoaderContract):
    component_name = "paco_lvis"

    @pytest.fixture
    def dataset(self, tmp_path: Path):
        return _paco(tmp_path)

    def test_objects_parts_and_masks(self, tmp_path: Path) -> None:
        dataset = _paco(tmp_path)
        assert len(dataset) == 2  # the annotation without segmentation is left out
        assert dataset.skipped.counts == {"annotation without segmentation": 1}
        obj, part = dataset[0], dataset[1]
        assert obj.query.text == "trash_can"
        assert np.array_equal(obj.masks[0, 0], image_trees.polygon_area_mask(2, 2, 6, 6))
        assert part.query.text in ("trash_can body", "the body of the trash_can")
        assert part.masks[0, 0, :, 8:].all() and not part.masks[0, 0, :, :8].any()
        assert part.meta["class_name"] == ("trash_can", "body")

    def test_sense_suffix_is_dropped(self, tmp_path: Path) -> None:
        assert _paco(tmp_path).class_names[3] == ("bottle", "cap")

    def test_both_phrasings_occur_over_seeds(self, tmp_path: Path) -> None:
        image_trees.paco_tree(tmp_path)
        root = tmp_path / "vlpart" / "paco"
        texts = {visa_core.build("dataset", "paco_lvis", root=root, seed=s)[1].query.text for s in range(16)}
        assert texts == {"trash_can body", "the body of the trash_can"}

    def test_strict_makes_the_skip_an_error(self, tmp_path: Path) -> None:
        with pytest.raises(DataFormatError, match="annotation 12 .*strict=True"):
            _paco(tmp_path, strict=True)

    def test_unknown_category_and_image(self, tmp_path: Path) -> None:
        path = image_trees.paco_tree(tmp_path)
        data = json.loads(path.read_text())
        data["annotations"][0]["category_id"] = 99
        path.write_text(json.dumps(data))
        root = tmp_path / "vlpart" / "paco"
        with pytest.raises(DataFormatError, match="annotation 10 refers to unknown category id 99"):
            visa_core.build("dataset", "paco_lvis", root=root)
        data["annotations"][0]["category_id"], data["annotations"][0]["image_id"] = 1, 5
        path.write_text(json.dumps(data))
        with pytest.raises(DataFormatError, match="annotation 10 refers to unknown image id 5"):
            visa_core.build("dataset", "paco_lvis", root=root)

    def test_rle_of_the_wrong_size(self, tmp_path: Path) -> None:
        path = image_trees.paco_tree(tmp_path)
        data = json.loads(path.read_text())
        data["annotations"][1]["segmentation"]["size"] = [10, 10]
        path.write_text(json.dumps(data))
        dataset = visa_core.build("dataset", "paco_lvis", root=tmp_path / "vlpart" / "paco")
        with pytest.raises(DataFormatError, match=r"annotation 11 is an RLE of 10x10 but its frame is 16x12"):
            dataset[1]

    def test_missing_annotation_file(self, tmp_path: Path) -> None:
        with pytest.raises(DataFormatError, match=r"paco_lvis_v1_val.json does not exist"):
            visa_core.build("dataset", "paco_lvis", root=tmp_path, split="val")


class TestPascalPart(DatasetLoaderContract):
    component_name = "pascal_part"

    @pytest.fixture
    def dataset(self, tmp_path: Path):
        image_trees.pascal_part_tree(tmp_path)
        return visa_core.build("dataset", "pascal_part", root=tmp_path)

    def test_multi_polygon_masks(self, tmp_path: Path) -> None:
        image_trees.pascal_part_tree(tmp_path)
        dataset = visa_core.build("dataset", "pascal_part", root=tmp_path)
        wing = dataset[0]
        expected = image_trees.polygon_area_mask(1, 1, 4, 3) | image_trees.polygon_area_mask(10, 8, 13, 10)
        assert np.array_equal(wing.masks[0, 0], expected)
        assert wing.query.text in ("aeroplane wing", "the wing of the aeroplane")
        assert wing.meta["image"].endswith("VOCdevkit/VOC2010/JPEGImages/2008_000002.jpg")

    def test_category_that_is_not_obj_part(self, tmp_path: Path) -> None:
        path = image_trees.pascal_part_tree(tmp_path)
        data = json.loads(path.read_text())
        data["categories"][0]["name"] = "aeroplane"
        path.write_text(json.dumps(data))
        with pytest.raises(DataFormatError, match="category entry 0 name 'aeroplane' is not 'obj:part'"):
            visa_core.build("dataset", "pascal_part", root=tmp_path)

    def test_malformed_polygon(self, tmp_path: Path) -> None:
        path = image_trees.pascal_part_tree(tmp_path)
        data = json.loads(path.read_text())
        data["annotations"][1]["segmentation"] = [[1.0, 2.0, 3.0]]
        path.write_text(json.dumps(data))
        dataset = visa_core.build("dataset", "pascal_part", root=tmp_path)
        with pytest.raises(DataFormatError, match="annotation 2 has a malformed polygon"):
            dataset[1]
