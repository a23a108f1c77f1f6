"""ReasonSeg loader: labelme polygons with target / ignore / flag shapes and the explanatory json."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import visa_core
from visa_core import DataFormatError
from visa_core.annotations import polygon_mask
from visa_core.testing import DatasetLoaderContract

sys.path.insert(0, str(Path(__file__).parent))
import image_trees


class TestReasonSeg(DatasetLoaderContract):
    component_name = "reasonseg"

    @pytest.fixture
    def dataset(self, tmp_path: Path):
        image_trees.reasonseg_tree(tmp_path)
        return visa_core.build("dataset", "reasonseg", root=tmp_path)

    def test_target_ignore_and_flag_shapes(self, tmp_path: Path) -> None:
        expected = image_trees.reasonseg_tree(tmp_path)
        dataset = visa_core.build("dataset", "reasonseg", root=tmp_path)
        assert [s.query.text for s in dataset] == ["What can be used to fix a car?", "the tool for repairs"]
        sample = dataset[0]
        assert sample.query.kind == "reasoning" and sample.meta["is_sentence"] is True
        assert np.array_equal(sample.masks[0, 0], expected["target"])
        assert sample.meta["ignore"].shape == (1, 12, 16)
        assert np.array_equal(sample.meta["ignore"][0], expected["ignore"])
        assert sample.meta["explanation"] == "A wrench."

    def test_val_split_and_first_text_only(self, tmp_path: Path) -> None:
        image_trees.reasonseg_tree(tmp_path)
        val = visa_core.build("dataset", "reasonseg", root=tmp_path, split="val")
        assert len(val) == 1 and "explanation" not in val[0].meta
        assert val[0].masks[0, 0, :5, :5].all() and val[0].masks.sum() == 25
        first = visa_core.build("dataset", "reasonseg", root=tmp_path, first_text_only=True)
        assert len(first) == 1

    def test_smaller_shape_painted_last_wins(self, tmp_path: Path) -> None:
        image_trees.reasonseg_tree(tmp_path)
        path = tmp_path / "train" / "1000_car_fix.json"
        data = json.loads(path.read_text())
        data["shapes"].reverse()  # the ignore square now comes first in the file
        path.write_text(json.dumps(data))
        sample = visa_core.build("dataset", "reasonseg", root=tmp_path)[0]
        assert sample.meta["ignore"][0, 5, 6] and not sample.masks[0, 0, 5, 6]

    def test_cp1252_json_is_read(self, tmp_path: Path) -> None:
        image_trees.reasonseg_tree(tmp_path)
        path = tmp_path / "val" / "2001_where_sit.json"
        data = json.loads(path.read_text())
        data["text"] = ["somewhere to sit \u2019"]
        path.write_bytes(json.dumps(data, ensure_ascii=False).encode("cp1252"))
        sample = visa_core.build("dataset", "reasonseg", root=tmp_path, split="val")[0]
        assert sample.query.text == "somewhere to sit \u2019"

    def test_missing_json_and_bad_points(self, tmp_path: Path) -> None:
        image_trees.reasonseg_tree(tmp_path)
        path = tmp_path / "val" / "2001_where_sit.json"
        data = json.loads(path.read_text())
        data["shapes"][0]["points"] = [[1, 2, 3]]
        path.write_text(json.dumps(data))
        dataset = visa_core.build("dataset", "reasonseg", root=tmp_path, split="val")
        with pytest.raises(DataFormatError, match="shape 0 has malformed points"):
            dataset[0]
        path.unlink()
        with pytest.raises(DataFormatError, match=r"annotation file .*2001_where_sit.json does not exist"):
            visa_core.build("dataset", "reasonseg", root=tmp_path, split="val")


def test_polygon_mask_fills_border_pixels() -> None:
    mask = polygon_mask([[1.7, 1.2], [4.9, 1.0], [4.0, 3.0], [1.0, 3.0]], (6, 8))
    expected = np.zeros((6, 8), dtype=bool)
    expected[1:4, 1:5] = True
    assert np.array_equal(mask, expected)
