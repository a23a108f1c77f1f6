"""RefCOCO, RefCOCO+, RefCOCOg and RefCLEF loaders on tiny REFER trees (refs pickle + instances.json)."""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest

import visa_core
from visa_core import DataFormatError, VideoDecodeError
from visa_core.testing import DatasetLoaderContract

sys.path.insert(0, str(Path(__file__).parent))
import image_trees

REFER = [("refcoco", "unc"), ("refcoco+", "unc"), ("refcocog", "umd"), ("refclef", "unc")]


class _ReferContract(DatasetLoaderContract):
    split_by = "unc"

    @pytest.fixture
    def dataset(self, tmp_path: Path):
        image_trees.refer_tree(tmp_path, self.component_name, self.split_by)
        return visa_core.build("dataset", self.component_name, root=tmp_path)


class TestRefCoco(_ReferContract):
    component_name = "refcoco"


class TestRefCocoPlus(_ReferContract):
    component_name = "refcoco+"


class TestRefCocog(_ReferContract):
    component_name = "refcocog"
    split_by = "umd"


class TestRefClef(_ReferContract):
    component_name = "refclef"


@pytest.mark.parametrize(("name", "split_by"), REFER)
def test_one_sample_per_sentence_with_the_referred_mask(tmp_path: Path, name: str, split_by: str) -> None:
    tree = image_trees.refer_tree(tmp_path, name, split_by)
    dataset = visa_core.build("dataset", name, root=tmp_path)
    assert [s.query.text for s in dataset] == ["man on the left", "guy in red", "left dog"]
    assert [s.query.query_id for s in dataset] == ["0_0", "0_1", "1_10"]
    for sample in dataset:
        assert np.array_equal(sample.masks[0, 0], tree["masks"][sample.meta["ann_id"]])
    # the two sentences about the first image can share a training clip; the dog's image has one
    assert [tuple(dataset.same_video_samples(i)) for i in range(3)] == [(0, 1), (0, 1), (2,)]
    test = visa_core.build("dataset", name, root=tmp_path, split="testA")
    assert [s.query.text for s in test] == ["the person"]


def test_unknown_split_lists_the_splits(tmp_path: Path) -> None:
    image_trees.refer_tree(tmp_path)
    with pytest.raises(DataFormatError, match=r"no sentences in split 'testC' \(its splits: testA, train\)"):
        visa_core.build("dataset", "refcoco", root=tmp_path, split="testC")


def test_split_by_option_picks_the_pickle(tmp_path: Path) -> None:
    image_trees.refer_tree(tmp_path, "refcocog", "google")
    with pytest.raises(DataFormatError, match=r"refs\(umd\).p does not exist"):
        visa_core.build("dataset", "refcocog", root=tmp_path)
    assert len(visa_core.build("dataset", "refcocog", root=tmp_path, split_by="google")) == 3


def test_ref_pointing_at_an_unknown_annotation(tmp_path: Path) -> None:
    tree = image_trees.refer_tree(tmp_path)
    tree["refs"][1]["ann_id"] = 555
    with (tmp_path / "refcoco" / "refs(unc).p").open("wb") as handle:
        pickle.dump(tree["refs"], handle)
    with pytest.raises(DataFormatError, match="ref 1 points at annotation 555"):
        visa_core.build("dataset", "refcoco", root=tmp_path)


def test_pickle_with_classes_is_refused(tmp_path: Path) -> None:
    image_trees.refer_tree(tmp_path)
    with (tmp_path / "refcoco" / "refs(unc).p").open("wb") as handle:
        pickle.dump([Path("x")], handle)
    with pytest.raises(DataFormatError, match="not a readable refs pickle: refusing to load"):
        visa_core.build("dataset", "refcoco", root=tmp_path)


def test_malformed_instances(tmp_path: Path) -> None:
    image_trees.refer_tree(tmp_path)
    (tmp_path / "refcoco" / "instances.json").write_text('{"images": [')
    with pytest.raises(DataFormatError, match=r"refcoco: .*instances.json is not valid JSON"):
        visa_core.build("dataset", "refcoco", root=tmp_path)


def test_listed_image_missing(tmp_path: Path) -> None:
    image_trees.refer_tree(tmp_path)
    (tmp_path / "images/mscoco/images/train2014/COCO_train2014_000000000025.jpg").unlink()
    dataset = visa_core.build("dataset", "refcoco", root=tmp_path)
    with pytest.raises(VideoDecodeError, match=r"COCO_train2014_000000000025.jpg listed for ref 1"):
        dataset[2]


def test_image_size_disagreeing_with_instances(tmp_path: Path) -> None:
    image_trees.refer_tree(tmp_path)
    path = tmp_path / "refcoco" / "instances.json"
    data = json.loads(path.read_text())
    data["images"][0]["height"] = 20
    path.write_text(json.dumps(data))
    with pytest.raises(DataFormatError, match="is 16x12 but its entry says 16x20"):
        visa_core.build("dataset", "refcoco", root=tmp_path)[0]
