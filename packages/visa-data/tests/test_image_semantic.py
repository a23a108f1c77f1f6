"""ADE20K, COCO-Stuff and Mapillary loaders on tiny trees in their published layouts."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import visa_core
from visa_core import ComponentOptionError, DataFormatError, VideoDecodeError
from visa_core.testing import DatasetLoaderContract

sys.path.insert(0, str(Path(__file__).parent))
import image_trees
from image_trees import blocks_label, write_image, write_label


def _check_masks_match_labels(dataset, labels: dict[str, np.ndarray], class_ids) -> None:
    for sample in dataset:
        label = class_ids(labels[sample.video.video_id])
        class_id = sample.meta["class_id"]
        assert sample.masks.shape == (1, 1, *label.shape)
        assert np.array_equal(sample.masks[0, 0], label == class_id)
        assert np.array_equal(sample.meta["ignore"][0], label == 255)
        assert sample.query.text == dataset.classes[class_id]


def _ade_ids(label: np.ndarray) -> np.ndarray:
    ids = label.astype(np.int16) - 1
    ids[label == 0] = 255
    return ids


class TestAde20k(DatasetLoaderContract):
    component_name = "ade20k"

    @pytest.fixture
    def dataset(self, tmp_path: Path):
        image_trees.ade20k_tree(tmp_path / "ade20k")
        return visa_core.build("dataset", "ade20k", root=tmp_path / "ade20k")

    def test_masks_are_the_chosen_class_with_label_zero_ignored(self, tmp_path: Path) -> None:
        labels = image_trees.ade20k_tree(tmp_path)
        dataset = visa_core.build("dataset", "ade20k", root=tmp_path)
        assert len(dataset) == 2
        _check_masks_match_labels(dataset, labels, _ade_ids)
        first = dataset[0]
        assert set(first.meta["classes"]) == {"wall", "person"}
        assert dataset[1].query.text == "sky"  # label 3 -> class 2
        assert first.video.frames[0].shape == (12, 16, 3)

    def test_seed_changes_the_class_choice_but_not_determinism(self, tmp_path: Path) -> None:
        image_trees.ade20k_tree(tmp_path)
        texts = {
            visa_core.build("dataset", "ade20k", root=tmp_path, seed=seed)[0].query.text for seed in range(12)
        }
        assert texts == {"wall", "person"}

    def test_val_split_and_unknown_split(self, tmp_path: Path) -> None:
        image_trees.ade20k_tree(tmp_path)
        assert len(visa_core.build("dataset", "ade20k", root=tmp_path, split="val")) == 1
        with pytest.raises(ComponentOptionError, match="splits are train, val"):
            visa_core.build("dataset", "ade20k", root=tmp_path, split="test")

    def test_missing_label_file_names_it(self, tmp_path: Path) -> None:
        image_trees.ade20k_tree(tmp_path)
        (tmp_path / "annotations" / "training" / "ADE_train_00000002.png").unlink()
        dataset = visa_core.build("dataset", "ade20k", root=tmp_path)
        with pytest.raises(DataFormatError, match=r"label file .*ADE_train_00000002.png does not exist"):
            dataset[1]

    def test_label_of_another_size_is_an_error(self, tmp_path: Path) -> None:
        image_trees.ade20k_tree(tmp_path)
        write_label(tmp_path / "annotations" / "training" / "ADE_train_00000001.png", np.ones((5, 5)))
        with pytest.raises(DataFormatError, match="is 5x5 but image"):
            visa_core.build("dataset", "ade20k", root=tmp_path)[0]

    def test_label_value_beyond_the_classes_is_an_error(self, tmp_path: Path) -> None:
        image_trees.ade20k_tree(tmp_path)
        write_label(
            tmp_path / "annotations" / "training" / "ADE_train_00000001.png", blocks_label((200,) * 4)
        )
        with pytest.raises(DataFormatError, match=r"values \[199\] outside its 150 classes"):
            visa_core.build("dataset", "ade20k", root=tmp_path)[0]

    def test_missing_folder(self, tmp_path: Path) -> None:
        with pytest.raises(DataFormatError, match=r"image folder .* does not exist"):
            visa_core.build("dataset", "ade20k", root=tmp_path)


class TestCocoStuff(DatasetLoaderContract):
    component_name = "cocostuff"

    @pytest.fixture
    def dataset(self, tmp_path: Path):
        image_trees.cocostuff_tree(tmp_path)
        return visa_core.build("dataset", "cocostuff", root=tmp_path / "cocostuff")

    def test_hyphenated_classes_are_ignored(self, tmp_path: Path) -> None:
        labels = image_trees.cocostuff_tree(tmp_path)
        dataset = visa_core.build("dataset", "cocostuff", root=tmp_path / "cocostuff")
        first = dataset[0]
        assert first.query.text == "person" and first.query.kind == "referring"
        expected_ignore = np.isin(labels["000000000009"], (95, 255))
        assert np.array_equal(first.meta["ignore"][0], expected_ignore)
        assert first.masks[0, 0].sum() == 96  # the two top quadrants

    def test_image_with_only_ignored_classes_gives_a_no_target_query(self, tmp_path: Path) -> None:
        image_trees.cocostuff_tree(tmp_path)
        sample = visa_core.build("dataset", "cocostuff", root=tmp_path / "cocostuff")[1]
        assert sample.query.kind == "none"
        assert "-" not in sample.query.text
        assert not sample.masks.any()
        assert sample.meta["ignore"].all()

    def test_listed_image_missing_on_disk(self, tmp_path: Path) -> None:
        image_trees.cocostuff_tree(tmp_path)
        (tmp_path / "coco" / "train2017" / "000000000025.jpg").unlink()
        dataset = visa_core.build("dataset", "cocostuff", root=tmp_path / "cocostuff")
        with pytest.raises(VideoDecodeError, match=r"cocostuff: image .*000000000025.jpg listed for"):
            dataset[1]

    def test_image_root_option(self, tmp_path: Path) -> None:
        image_trees.cocostuff_tree(tmp_path)
        moved = tmp_path / "elsewhere"
        (tmp_path / "coco").rename(moved)
        dataset = visa_core.build("dataset", "cocostuff", root=tmp_path / "cocostuff", image_root=moved)
        assert dataset[0].video.frames[0].shape == (12, 16, 3)


class TestMapillary(DatasetLoaderContract):
    component_name = "mapillary"

    @pytest.fixture
    def dataset(self, tmp_path: Path):
        image_trees.mapillary_tree(tmp_path)
        return visa_core.build("dataset", "mapillary", root=tmp_path)

    def test_classes_from_config_and_palette_labels(self, tmp_path: Path) -> None:
        labels = image_trees.mapillary_tree(tmp_path)
        dataset = visa_core.build("dataset", "mapillary", root=tmp_path)
        assert dataset.classes == ("bird", "curb", "sky")
        _check_masks_match_labels(dataset, labels, lambda label: label.astype(np.int16))

    def test_malformed_config(self, tmp_path: Path) -> None:
        image_trees.mapillary_tree(tmp_path)
        (tmp_path / "config_v2.0.json").write_text("{not json")
        with pytest.raises(DataFormatError, match=r"config_v2.0.json is not valid JSON \(line 1"):
            visa_core.build("dataset", "mapillary", root=tmp_path)

    def test_config_without_labels(self, tmp_path: Path) -> None:
        image_trees.mapillary_tree(tmp_path)
        image_trees.write_json(tmp_path / "config_v2.0.json", {"version": "2.0"})
        with pytest.raises(DataFormatError, match="has no field 'labels'"):
            visa_core.build("dataset", "mapillary", root=tmp_path)


def test_loaders_never_write_into_the_dataset(tmp_path: Path) -> None:
    image_trees.ade20k_tree(tmp_path)
    write_image(tmp_path / "images" / "training" / "extra.jpg")
    write_label(tmp_path / "annotations" / "training" / "extra.png", blocks_label((1, 1, 1, 1)))
    before = sorted((p, p.stat().st_mtime_ns) for p in tmp_path.rglob("*"))
    list(visa_core.build("dataset", "ade20k", root=tmp_path))
    assert sorted((p, p.stat().st_mtime_ns) for p in tmp_path.rglob("*")) == before
