"""The query-blind baselines of the synthetic dataset: regenerated object masks match the written
annotations; the random baseline picks only visible objects; the largest baseline the largest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from visa_core import DataFormatError
from visa_data.synthetic import SyntheticConfig, generate_dataset
from visa_data.synthetic.baselines import (
    largest_object_track,
    object_masks,
    random_object_track,
    visible_objects,
)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synthetic")
    generate_dataset(root, SyntheticConfig(videos=4, images=2, frames=5, size=32), progress=False)
    return root


def test_object_masks_match_the_written_annotations(written: Path) -> None:
    import visa_core

    dataset = visa_core.build("dataset", "revos", root=written, split="train")
    for index in range(len(dataset)):
        sample = dataset[index]
        masks = object_masks(written, sample.video.video_id)
        targets = sample.meta["obj_ids"]
        if targets:
            expected = masks[list(targets)].any(axis=0)
            assert np.array_equal(sample.masks[0], expected)


def test_unknown_items_are_a_clear_error(written: Path, tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match="vid00099"):
        object_masks(written, "vid00099")
    with pytest.raises(DataFormatError, match="no synthetic.json"):
        object_masks(tmp_path, "vid00000")


def test_baselines_choose_visible_and_largest_objects() -> None:
    masks = np.zeros((3, 2, 8, 8), dtype=bool)
    masks[0, :, :2, :2] = True  # 8 pixels
    masks[2, 0, 2:6, 2:6] = True  # 16 pixels; object 1 never visible
    assert visible_objects(masks).tolist() == [0, 2]
    assert np.array_equal(largest_object_track(masks), masks[2])
    rng = np.random.default_rng(0)
    tracks = [random_object_track(masks, rng) for _ in range(20)]
    picks = {n for track in tracks for n, m in enumerate(masks) if np.array_equal(track, m)}
    assert picks == {0, 2}
    assert not random_object_track(np.zeros((2, 2, 4, 4), dtype=bool), rng).any()


def test_a_dataset_of_another_generator_format_is_refused(written: Path, tmp_path: Path) -> None:
    old = tmp_path / "old"
    shutil.copytree(written, old)
    manifest = json.loads((old / "synthetic.json").read_text())
    (old / "synthetic.json").write_text(json.dumps({**manifest, "format": manifest["format"] - 1}))
    with pytest.raises(DataFormatError, match="generator format"):
        object_masks(old, "vid00000")
