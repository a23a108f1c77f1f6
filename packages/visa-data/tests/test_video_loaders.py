"""The video loaders on tiny trees in the published formats: masks, kinds, errors, caching, contracts."""

from __future__ import annotations

import json
import pickle
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import visa_core
from visa_core import ComponentOptionError, DataFormatError
from visa_core.testing import DatasetLoaderContract
from visa_data.video.problems import DataWarning

sys.path.insert(0, str(Path(__file__).parent))
import video_trees


def build(name: str, root: Path, split: str = "train", **options):
    return visa_core.build("dataset", name, root=root, split=split, **options)


def by_key(dataset) -> dict:
    return {(s.video.video_id, s.query.query_id): s for s in dataset}


def tree_listing(root: Path) -> list[tuple[str, int]]:
    return sorted((str(p.relative_to(root)), p.stat().st_mtime_ns) for p in root.rglob("*"))


# --- contracts -----------------------------------------------------------------------------------


class TestReVOSContract(DatasetLoaderContract):
    component_name = "revos"

    @pytest.fixture
    def dataset(self, tmp_path: Path):
        video_trees.revos_tree(tmp_path)
        return build("revos", tmp_path)


class TestMeViSContract(DatasetLoaderContract):
    component_name = "mevis"

    @pytest.fixture
    def dataset(self, tmp_path: Path):
        video_trees.mevis_tree(tmp_path, "train")
        return build("mevis", tmp_path)


class TestRefYouTubeVOSContract(DatasetLoaderContract):
    component_name = "ref_youtube_vos"

    @pytest.fixture
    def dataset(self, tmp_path: Path):
        video_trees.png_tree(tmp_path, unannotated=(1,))
        return build("ref_youtube_vos", tmp_path)


class TestDavis17Contract(DatasetLoaderContract):
    component_name = "davis17"

    @pytest.fixture
    def dataset(self, tmp_path: Path):
        video_trees.png_tree(tmp_path, "valid")
        return build("davis17", tmp_path, "valid")


class TestLVVISContract(DatasetLoaderContract):
    component_name = "lvvis"

    @pytest.fixture
    def dataset(self, tmp_path: Path):
        from visa_data.convert.lvvis import convert_lvvis

        video_trees.lvvis_instances(tmp_path / "train_instances.json")
        convert_lvvis(tmp_path / "train_instances.json", tmp_path / "train")
        video_trees.write_frames(tmp_path / "train" / "JPEGImages" / "l1", video_trees.FRAMES["v_a"])
        return build("lvvis", tmp_path)


# --- ReVOS ---------------------------------------------------------------------------------------


def test_revos_masks_kinds_and_foreground(tmp_path: Path) -> None:
    expected = video_trees.revos_tree(tmp_path)
    samples = by_key(build("revos", tmp_path))
    assert set(samples) == {("v_a", "0"), ("v_a", "1"), ("v_a", "2")}
    kinds = {key: s.query.kind for key, s in samples.items()}
    assert kinds == {("v_a", "0"): "referring", ("v_a", "1"): "reasoning", ("v_a", "2"): "none"}
    for key, sample in samples.items():
        assert sample.masks.shape == (1, 3, video_trees.HEIGHT, video_trees.WIDTH)
        assert np.array_equal(sample.masks[0], expected[key])
        assert sample.annotated.all()
        assert np.array_equal(sample.meta["foreground"], expected[("v_a", "fg")])
    assert not samples[("v_a", "2")].masks.any()
    assert samples[("v_a", "1")].meta["anno_ids"] == ("11", "12")
    assert list(samples[("v_a", "0")].video.frame_ids) == video_trees.FRAMES["v_a"]
    valid = build("revos", tmp_path, "valid")
    assert len(valid) == 1 and np.array_equal(valid[0].masks[0], expected[("v_b", "0")])
    assert not valid[0].masks[0, 2].any()


def test_revos_stats(tmp_path: Path) -> None:
    video_trees.revos_tree(tmp_path)
    stats = build("revos", tmp_path).stats()
    assert stats["videos"] == 1 and stats["expressions"] == 3 and stats["frames"] == 3
    assert stats["expressions_by_kind"] == {"none": 1, "reasoning": 1, "referring": 1}
    assert stats["annotated_frames"] == 3


def test_loaders_never_write_into_the_dataset(tmp_path: Path) -> None:
    video_trees.revos_tree(tmp_path)
    before = tree_listing(tmp_path)
    dataset = build("revos", tmp_path, cache_dir=tmp_path.parent / f"{tmp_path.name}-cache")
    for sample in dataset:
        sample.video.frames[0]
    assert tree_listing(tmp_path) == before


def test_arrow_cache_gives_the_same_samples_and_follows_source_changes(tmp_path: Path) -> None:
    root, cache = tmp_path / "ReVOS", tmp_path / "cache"
    expected = video_trees.revos_tree(root)
    cached = build("revos", root, cache_dir=cache)
    plain = build("revos", root)
    for a, b in zip(cached, plain, strict=True):
        assert np.array_equal(a.masks, b.masks)
    assert len(list(cache.glob("mask_dict-*.arrow"))) == 1
    clone = pickle.loads(pickle.dumps(cached))
    assert np.array_equal(clone[1].masks[0], expected[("v_a", "1")])
    # the source changes: the next loader sees the new masks and the stale cache is replaced
    mask_dict = json.loads((root / "mask_dict.json").read_text())
    mask_dict["11"] = [None, None, None]
    (root / "mask_dict.json").write_text(json.dumps(mask_dict))
    fresh = build("revos", root, cache_dir=cache)
    assert np.array_equal(fresh[0].masks[0], np.zeros_like(expected[("v_a", "0")]))
    assert len(list(cache.glob("mask_dict-*.arrow"))) == 1


# --- MeViS, Ref-YouTube-VOS, DAVIS17, LV-VIS ------------------------------------------------------


def test_mevis_train_valid_u_and_valid_without_masks(tmp_path: Path) -> None:
    expected = video_trees.mevis_tree(tmp_path, "valid_u")
    samples = by_key(build("mevis", tmp_path, "valid_u"))
    for key, sample in samples.items():
        assert np.array_equal(sample.masks[0], expected[key])
        assert sample.query.kind == "referring"
    video_trees.mevis_tree(tmp_path, "valid", with_masks=False)
    valid = build("mevis", tmp_path, "valid")
    assert len(valid) == 2 and valid[0].masks is None and valid[0].annotated is None


def test_png_masks_mark_unannotated_frames(tmp_path: Path) -> None:
    expected = video_trees.png_tree(tmp_path, unannotated=(2,))
    samples = by_key(build("ref_youtube_vos", tmp_path))
    for key, sample in samples.items():
        assert sample.annotated.tolist() == [True, True, False, True]
        want = expected[key].copy()
        want[2] = False
        assert np.array_equal(sample.masks[0], want)
    assert build("ref_youtube_vos", tmp_path).stats()["annotated_frames"] == 3


def test_ref_youtube_vos_valid_leaves_out_the_test_videos(tmp_path: Path) -> None:
    video_trees.png_tree(tmp_path, "valid")
    video_trees.write_frames(tmp_path / "valid" / "JPEGImages" / "y2", ["00000"])
    meta_path = tmp_path / "meta_expressions" / "valid" / "meta_expressions.json"
    meta = json.loads(meta_path.read_text())
    meta["videos"]["y2"] = {"expressions": {"0": {"exp": "a cat"}}, "frames": ["00000"]}
    meta_path.write_text(json.dumps(meta))
    assert {s.video.video_id for s in build("ref_youtube_vos", tmp_path, "valid")} == {"y1", "y2"}
    video_trees.write_json(
        tmp_path / "meta_expressions" / "test" / "meta_expressions.json",
        {"videos": {"y2": meta["videos"]["y2"]}},
    )
    valid = build("ref_youtube_vos", tmp_path, "valid")
    assert {s.video.video_id for s in valid} == {"y1"} and valid[0].masks is None


def test_lvvis_expression_is_the_category_name(tmp_path: Path) -> None:
    from visa_data.convert.lvvis import convert_lvvis

    video_trees.lvvis_instances(tmp_path / "instances.json")
    convert_lvvis(tmp_path / "instances.json", tmp_path / "train")
    video_trees.write_frames(tmp_path / "train" / "JPEGImages" / "l1", video_trees.FRAMES["v_a"])
    texts = [s.query.text for s in build("lvvis", tmp_path)]
    assert texts == ["tennis racket", "dog"]


# --- query text ----------------------------------------------------------------------------------


def shout_expressions(meta_path: Path) -> dict[str, str]:
    """Rewrite every expression of ``meta_path`` in capitals with runs of whitespace; returns
    ``{exp_id: written text}``."""
    meta = json.loads(meta_path.read_text())
    written = {}
    for video in meta["videos"].values():
        for exp_id, expression in video["expressions"].items():
            expression["exp"] = " " + expression["exp"].upper().replace(" ", " \t ") + "\n"
            written[exp_id] = expression["exp"]
    meta_path.write_text(json.dumps(meta))
    return written


EVALUATION_TREES = [
    ("revos", "valid", lambda root: video_trees.revos_tree(root), "meta_expressions_valid_.json"),
    (
        "mevis",
        "valid_u",
        lambda root: video_trees.mevis_tree(root, "valid_u"),
        "valid_u/meta_expressions.json",
    ),
    (
        "mevis",
        "valid",
        lambda root: video_trees.mevis_tree(root, "valid", with_masks=False),
        "valid/meta_expressions.json",
    ),
    (
        "ref_youtube_vos",
        "valid",
        lambda root: video_trees.png_tree(root, "valid"),
        "meta_expressions/valid/meta_expressions.json",
    ),
    (
        "davis17",
        "valid",
        lambda root: video_trees.png_tree(root, "valid"),
        "meta_expressions/valid/meta_expressions.json",
    ),
]


@pytest.mark.parametrize(("name", "split", "write_tree", "meta_file"), EVALUATION_TREES)
def test_evaluation_queries_are_lower_cased_and_whitespace_normalised(
    tmp_path: Path, name: str, split: str, write_tree, meta_file: str
) -> None:
    write_tree(tmp_path)
    written = shout_expressions(tmp_path / meta_file)
    dataset = build(name, tmp_path, split)
    expected = {exp_id: " ".join(text.lower().split()) for exp_id, text in written.items()}
    assert {s.query.query_id: s.query.text for s in dataset} == expected
    assert [q.text for _, queries in dataset.queries_by_video() for q in queries] == [
        s.query.text for s in dataset
    ]
    kept = build(name, tmp_path, split, normalise_queries=False)
    assert {s.query.query_id: s.query.text for s in kept} == {k: t.strip() for k, t in written.items()}


@pytest.mark.parametrize(
    ("name", "write_tree", "meta_file"),
    [
        ("revos", video_trees.revos_tree, "meta_expressions_train_.json"),
        ("mevis", lambda root: video_trees.mevis_tree(root, "train"), "train/meta_expressions.json"),
        ("ref_youtube_vos", video_trees.png_tree, "meta_expressions/train/meta_expressions.json"),
        ("davis17", video_trees.png_tree, "meta_expressions/train/meta_expressions.json"),
    ],
)
def test_training_queries_are_only_stripped(tmp_path: Path, name: str, write_tree, meta_file: str) -> None:
    write_tree(tmp_path)
    written = shout_expressions(tmp_path / meta_file)
    texts = {s.query.query_id: s.query.text for s in build(name, tmp_path)}
    assert texts == {exp_id: text.strip() for exp_id, text in written.items()}
    normalised = {s.query.query_id: s.query.text for s in build(name, tmp_path, normalise_queries=True)}
    assert normalised == {exp_id: " ".join(text.lower().split()) for exp_id, text in written.items()}


# --- errors --------------------------------------------------------------------------------------


def test_missing_and_malformed_meta_files_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match=r"revos: annotation file .*meta_expressions_train_\.json"):
        build("revos", tmp_path)
    video_trees.revos_tree(tmp_path)
    (tmp_path / "meta_expressions_train_.json").write_text('{"videos": {')
    with pytest.raises(DataFormatError, match=r"meta_expressions_train_\.json is not valid JSON"):
        build("revos", tmp_path)


def test_missing_field_names_the_video(tmp_path: Path) -> None:
    video_trees.revos_tree(tmp_path)
    video_trees.write_json(
        tmp_path / "meta_expressions_train_.json", {"videos": {"v_a": {"frames": ["00000"]}}}
    )
    with pytest.raises(DataFormatError, match=r"video 'v_a' has no field 'expressions'"):
        build("revos", tmp_path)


def test_rle_of_the_wrong_size(tmp_path: Path) -> None:
    video_trees.revos_tree(tmp_path)
    mask_dict = json.loads((tmp_path / "mask_dict.json").read_text())
    mask_dict["11"][1] = video_trees.encode_rle(np.ones((4, 4), dtype=bool))
    (tmp_path / "mask_dict.json").write_text(json.dumps(mask_dict))
    with pytest.raises(
        DataFormatError, match=r"mask_dict\.json: anno_id 11 frame 1 .* RLE of 4x4 but its frame is 14x10"
    ):
        build("revos", tmp_path)[0]


def test_unknown_object(tmp_path: Path) -> None:
    video_trees.revos_tree(tmp_path)
    mask_dict = json.loads((tmp_path / "mask_dict.json").read_text())
    del mask_dict["12"]
    (tmp_path / "mask_dict.json").write_text(json.dumps(mask_dict))
    with pytest.raises(DataFormatError, match=r"video 'v_a' expression '1' points at anno_id 12"):
        build("revos", tmp_path)[1]


def test_unknown_png_object(tmp_path: Path) -> None:
    video_trees.png_tree(tmp_path)
    meta_path = tmp_path / "meta_expressions" / "train" / "meta_expressions.json"
    meta = json.loads(meta_path.read_text())
    meta["videos"]["y1"]["expressions"]["1"]["obj_id"] = "3"
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(DataFormatError, match=r"expression '1' points at object 3"):
        build("davis17", tmp_path)[1]


def test_listed_frame_missing_on_disk(tmp_path: Path) -> None:
    video_trees.revos_tree(tmp_path)
    (tmp_path / "JPEGImages" / "v_a" / "00005.jpg").unlink()
    with pytest.raises(
        DataFormatError, match=r"video 'v_a' lists frame '00005' but .*00005\.jpg does not exist"
    ):
        build("revos", tmp_path)[0]


def test_bad_type_id_and_unknown_split(tmp_path: Path) -> None:
    video_trees.revos_tree(tmp_path)
    meta = json.loads((tmp_path / "meta_expressions_train_.json").read_text())
    meta["videos"]["v_a"]["expressions"]["0"]["type_id"] = 7
    (tmp_path / "meta_expressions_train_.json").write_text(json.dumps(meta))
    with pytest.raises(DataFormatError, match="type_id 7"):
        build("revos", tmp_path)[0]
    with pytest.raises(
        ComponentOptionError, match=r"no split 'test' \(its splits: train, valid, train_sub\)"
    ):
        build("revos", tmp_path, "test")


def test_left_out_items_are_counted_warnings_or_strict_errors(tmp_path: Path) -> None:
    video_trees.revos_tree(tmp_path)
    meta = json.loads((tmp_path / "meta_expressions_train_.json").read_text())
    meta["videos"]["v_a"]["expressions"]["0"]["exp"] = "  "
    (tmp_path / "meta_expressions_train_.json").write_text(json.dumps(meta))
    with pytest.warns(DataWarning, match=r"left out 1 expressions with empty text, e.g. video 'v_a' exp '0'"):
        dataset = build("revos", tmp_path)
    assert len(dataset) == 2 and dataset.skipped == {"expressions with empty text": 1}
    with pytest.raises(DataFormatError, match="strict=True"):
        build("revos", tmp_path, strict=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        short = build("revos", tmp_path, "valid", min_frames=5)
    assert len(short) == 0 and "fewer than 5 frames" in str(caught[0].message)
