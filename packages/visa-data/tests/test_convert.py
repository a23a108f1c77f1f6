"""Converters round-trip: convert, then load with the video loaders, gives the original masks."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import visa_core
from visa_core import DataFormatError
from visa_data.convert.foreground import make_foreground
from visa_data.convert.lvvis import convert_lvvis
from visa_data.convert.png import convert_png_annotations

sys.path.insert(0, str(Path(__file__).parent))
import video_trees


@pytest.mark.parametrize("dataset", ["ref_youtube_vos", "davis17"])
def test_png_annotations_round_trip(tmp_path: Path, dataset: str) -> None:
    root, out = tmp_path / "data", tmp_path / "converted"
    expected = video_trees.png_tree(root)
    counts = convert_png_annotations(root, "train", out, dataset)
    assert counts == {"videos": 1, "expressions": 2, "frames": 4}
    meta = json.loads((out / "meta_expressions.json").read_text())
    assert meta["videos"]["y1"]["expressions"]["1"] == {"exp": "a cat running", "obj_id": [2], "anno_id": [1]}
    converted = visa_core.build(
        "dataset",
        dataset,
        root=root,
        split="train",
        mask_dict=out / "mask_dict.json",
        meta_expressions=out / "meta_expressions.json",
    )
    from_png = visa_core.build("dataset", dataset, root=root, split="train")
    for a, b in zip(converted, from_png, strict=True):
        assert np.array_equal(a.masks[0], expected[(a.video.video_id, a.query.query_id)])
        assert np.array_equal(a.masks, b.masks) and a.query == b.query


def test_png_converter_needs_every_listed_frame_annotated(tmp_path: Path) -> None:
    video_trees.png_tree(tmp_path, unannotated=(1,))
    with pytest.raises(DataFormatError, match=r"Annotations/y1/00001\.png does not exist"):
        convert_png_annotations(tmp_path, "train", tmp_path / "out", "ref_youtube_vos")


def test_foreground_round_trip(tmp_path: Path) -> None:
    expected = video_trees.revos_tree(tmp_path)
    out = tmp_path / "generated_foreground.json"
    metas = [tmp_path / "meta_expressions_train_.json", tmp_path / "meta_expressions_valid_.json"]
    assert make_foreground(metas, tmp_path / "mask_dict.json", out) == 2
    entries = json.loads(out.read_text())
    assert set(entries["v_a"]) == {"masks_rle", "foreground_ratio"}
    assert entries["v_b"]["foreground_ratio"][0] == pytest.approx(expected[("v_b", "fg")][0].mean())
    out.replace(tmp_path / "mask_dict_foreground.json")
    for split in ("train", "valid"):
        for sample in visa_core.build("dataset", "revos", root=tmp_path, split=split):
            assert np.array_equal(sample.meta["foreground"], expected[(sample.video.video_id, "fg")])


def test_lvvis_round_trip(tmp_path: Path) -> None:
    expected = video_trees.lvvis_instances(tmp_path / "train_instances.json")
    counts = convert_lvvis(tmp_path / "train_instances.json", tmp_path / "train")
    assert counts == {"videos": 1, "expressions": 2, "objects": 3}
    meta = json.loads((tmp_path / "train" / "meta_expressions.json").read_text())
    assert meta["videos"]["l1"]["expressions"]["0"]["anno_id"] == [101, 102]
    video_trees.write_frames(tmp_path / "train" / "JPEGImages" / "l1", video_trees.FRAMES["v_a"])
    for sample in visa_core.build("dataset", "lvvis", root=tmp_path):
        assert np.array_equal(sample.masks[0], expected[("l1", sample.query.query_id)])


def test_lvvis_unknown_video(tmp_path: Path) -> None:
    video_trees.lvvis_instances(tmp_path / "i.json")
    data = json.loads((tmp_path / "i.json").read_text())
    data["annotations"][0]["video_id"] = 9
    (tmp_path / "i.json").write_text(json.dumps(data))
    with pytest.raises(DataFormatError, match="annotation 101 names unknown video 9"):
        convert_lvvis(tmp_path / "i.json", tmp_path / "out")
