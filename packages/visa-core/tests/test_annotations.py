"""visa_core.annotations: JSON files, COCO RLEs and polygons, meta_expressions, label PNGs, labelme."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from visa_core.annotations import (
    decode_frames,
    decode_polygons,
    decode_rle,
    decode_segmentation,
    encode_rle,
    label_map,
    read_json,
    read_label_png,
    read_labelme_json,
    read_meta_expressions,
    require_key,
    rle_size,
    write_json,
)
from visa_core.errors import DataFormatError
from visa_core.testing import modules_imported_by

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pycocotools under numpy 2

# A 4x5 mask with pixels (1, 2), (2, 2), (1, 3), (2, 3) set. Column-major runs: 9 zeros, 2 ones,
# 2 zeros, 2 ones, 5 zeros; pycocotools compresses them to "92203".
KNOWN = np.zeros((4, 5), dtype=bool)
KNOWN[1:3, 2:4] = True
KNOWN_COUNTS = [9, 2, 2, 2, 5]
KNOWN_STRING = "92203"
PATH = Path("data/mask_dict.json")


def test_importing_the_package_stays_cheap():
    assert modules_imported_by("import visa_core.annotations", ("pycocotools", "PIL", "torch")) == []


class TestRle:
    def test_encode_gives_the_known_string(self):
        assert encode_rle(KNOWN) == {"size": [4, 5], "counts": KNOWN_STRING}

    @pytest.mark.parametrize("counts", [KNOWN_STRING, KNOWN_STRING.encode(), KNOWN_COUNTS])
    def test_str_bytes_and_list_counts_decode_to_uint8(self, counts):
        decoded = decode_rle({"size": [4, 5], "counts": counts}, (4, 5), "ds", PATH, "anno_id 1 frame 0")
        assert decoded.dtype == np.uint8 and decoded.flags["C_CONTIGUOUS"]
        assert np.array_equal(decoded, KNOWN.astype(np.uint8))

    def test_round_trip_of_random_masks(self):
        rng = np.random.default_rng(0)
        for _ in range(20):
            mask = rng.random((7, 11)) < rng.random()
            assert np.array_equal(decode_rle(encode_rle(mask), (7, 11), None, PATH, "m") > 0, mask)

    def test_a_list_of_rles_is_summed_over_objects(self):
        other = np.zeros((4, 5), dtype=bool)
        other[2:4, 3:5] = True
        summed = decode_rle([encode_rle(KNOWN), encode_rle(other)], (4, 5), None, PATH, "fg")
        assert summed[2, 3] == 2 and summed[1, 2] == 1 and summed[3, 4] == 1 and summed[0, 0] == 0

    def test_size_mismatch_names_dataset_file_item_and_sizes(self):
        with pytest.raises(DataFormatError) as caught:
            decode_rle(encode_rle(KNOWN), (6, 5), "revos", PATH, "anno_id 7 frame 3")
        assert str(caught.value) == (
            f"revos: {PATH}: anno_id 7 frame 3 is an RLE of 5x4 but its frame is 5x6"
        )

    def test_a_part_of_a_list_is_named(self):
        with pytest.raises(DataFormatError, match="fg part 1 is an RLE of 5x4 but its frame is 5x3"):
            decode_rle([{"size": [3, 5], "counts": [15]}, encode_rle(KNOWN)], (3, 5), None, PATH, "fg")

    @pytest.mark.parametrize(
        ("counts", "reason"),
        [
            ("zz!!", "corrupt RLE: Invalid RLE mask representation"),
            ("922033", "corrupt RLE"),
            ("92\u00e9", "corrupt RLE"),
            ([9, 2, 2], "adding up to 4x5 = 20 pixels"),
            ([9, 2, 2, 2, 6], "adding up to 4x5 = 20 pixels"),
            ([9, -2, 13], "non-negative integers"),
            ([9.0, 11], "non-negative integers"),
            (12, "'counts' should be a string or a list, got int"),
        ],
    )
    def test_corrupt_counts(self, counts, reason):
        with pytest.raises(
            DataFormatError, match=r"ds: .*mask_dict.json: anno_id 1 frame 2 is a corrupt RLE.*"
        ):
            decode_rle({"size": [4, 5], "counts": counts}, (4, 5), "ds", PATH, "anno_id 1 frame 2")
        with pytest.raises(DataFormatError, match=reason):
            decode_rle({"size": [4, 5], "counts": counts}, (4, 5), "ds", PATH, "anno_id 1 frame 2")

    @pytest.mark.parametrize("rle", [None, {"counts": "3"}, {"size": [4, 5]}, [], "92203"])
    def test_not_an_rle(self, rle):
        with pytest.raises(DataFormatError, match=r"mask_dict.json: obj"):
            decode_rle(rle, (4, 5), None, PATH, "obj")

    def test_bad_size_field(self):
        with pytest.raises(DataFormatError, match=r"obj has an RLE 'size' that is not \[H, W\]: \[4\]"):
            rle_size({"size": [4], "counts": "3"}, None, PATH, "obj")
        assert rle_size([encode_rle(KNOWN)], None, PATH, "obj") == (4, 5)

    def test_polygons_and_segmentations(self):
        square = [[1.0, 1.0, 3.0, 1.0, 3.0, 3.0, 1.0, 3.0]]
        mask = decode_polygons(square, (5, 5), "refcoco", PATH, "annotation 3")
        assert mask.dtype == np.uint8 and mask.sum() > 0 and mask[0].sum() == 0
        assert np.array_equal(decode_segmentation(square, (5, 5), None, PATH, "a"), mask)
        assert np.array_equal(decode_segmentation(encode_rle(KNOWN), (4, 5), None, PATH, "a") > 0, KNOWN)
        assert np.array_equal(decode_segmentation([encode_rle(KNOWN)], (4, 5), None, PATH, "a") > 0, KNOWN)
        with pytest.raises(DataFormatError, match="refcoco: .*annotation 3 has a malformed polygon"):
            decode_segmentation([[1, 2, 3, 4]], (5, 5), "refcoco", PATH, "annotation 3")
        with pytest.raises(DataFormatError, match="annotation 3 has an empty or unreadable segmentation"):
            decode_segmentation([], (5, 5), None, PATH, "annotation 3")

    def test_decode_frames_zeros_null_frames_and_checks_the_length(self):
        items = [f"anno_id 4 frame {t}" for t in range(3)]
        masks = decode_frames(
            [encode_rle(KNOWN), None, encode_rle(~KNOWN)], (4, 5), None, PATH, "anno_id 4", items
        )
        assert masks.shape == (3, 4, 5) and masks.dtype == np.uint8
        assert (
            np.array_equal(masks[0] > 0, KNOWN)
            and masks[1].sum() == 0
            and np.array_equal(masks[2] > 0, ~KNOWN)
        )
        assert decode_frames([None] * 5, (4, 5), None, PATH, "anno_id 4", items).shape == (3, 4, 5)
        with pytest.raises(DataFormatError, match=r"anno_id 4 should list .* \(3 frames\), got 5"):
            decode_frames([None] * 5, (4, 5), None, PATH, "anno_id 4", items, exact=True)
        with pytest.raises(DataFormatError, match=r"anno_id 4 should list .* \(3 frames\), got dict"):
            decode_frames({}, (4, 5), None, PATH, "anno_id 4", items)
        with pytest.raises(
            DataFormatError, match=r"anno_id 4 should list one RLE or null per frame \(3 frames\), got 2"
        ):
            decode_frames([None, None], (4, 5), None, PATH, "anno_id 4", items)
        with pytest.raises(DataFormatError, match="anno_id 4 frame 1 is an RLE of 5x4 but its frame is 6x4"):
            decode_frames([None, encode_rle(KNOWN), None], (4, 6), None, PATH, "anno_id 4", items)


class TestJsonFiles:
    def test_missing_and_invalid(self, tmp_path):
        with pytest.raises(DataFormatError, match=r"^mevis: annotation file .*a.json does not exist$"):
            read_json(tmp_path / "a.json", "mevis")
        with pytest.raises(DataFormatError, match=r"^ReVOS mask file .*a.json does not exist$"):
            read_json(tmp_path / "a.json", what="ReVOS mask file")
        (tmp_path / "a.json").write_text('{"videos": ')
        with pytest.raises(DataFormatError, match=r"mevis: .*a.json is not valid JSON \(line 1, column 12"):
            read_json(tmp_path / "a.json", "mevis")

    def test_encodings(self, tmp_path):
        path = tmp_path / "cp.json"
        path.write_bytes('{"text": ["caf\u00e9"]}'.encode("cp1252"))
        with pytest.raises(DataFormatError, match="is not UTF-8 text"):
            read_json(path)
        assert read_json(path, fallback_encoding="cp1252") == {"text": ["caf\u00e9"]}

    def test_write_then_read(self, tmp_path):
        path = tmp_path / "deep" / "x.json"
        write_json(path, {"a": [1, None]})
        assert path.read_text() == '{"a":[1,null]}' and read_json(path) == {"a": [1, None]}
        assert not list(path.parent.glob("*.partial"))

    def test_require_key(self):
        assert require_key({"k": 3}, "k", "ds", PATH, "entry 0") == 3
        with pytest.raises(DataFormatError, match=r"^ds: data/mask_dict.json: entry 0 has no field 'k'$"):
            require_key({}, "k", "ds", PATH, "entry 0")
        with pytest.raises(DataFormatError, match="entry 0 should be a JSON object, got list"):
            require_key([], "k", None, PATH, "entry 0")


def _write_meta(tmp_path: Path, videos: object) -> Path:
    path = tmp_path / "meta_expressions.json"
    path.write_text(json.dumps({"videos": videos}))
    return path


META_VIDEOS = {
    "v_b": {
        "frames": ["00000", "00001"],
        "expressions": {
            "10": {"exp": "the dog", "obj_id": "12", "anno_id": 7, "type_id": 1, "answer": "the brown dog"},
            "2": {"exp": "the cat", "obj_id": [1, "2"], "anno_id": ["3", 4]},
        },
        "height": 6,
        "width": 8,
    },
    "v_a": {"frames": ["x"], "expressions": {"0": {"exp": "nothing", "type_id": "2"}}},
}


class TestMetaExpressions:
    def test_fields_in_file_order(self, tmp_path):
        videos = read_meta_expressions(_write_meta(tmp_path, META_VIDEOS))
        assert [v.video_id for v in videos] == ["v_b", "v_a"] and videos[0].video == "v_b"
        b = videos[0]
        assert b.frames == ("00000", "00001") and b.size == (6, 8)
        assert [e.exp_id for e in b.expressions] == ["10", "2"]
        dog, cat = b.expressions
        assert (dog.text, dog.obj_ids, dog.anno_ids, dog.type_id) == ("the dog", (12,), ("7",), 1)
        assert (cat.obj_ids, cat.anno_ids, cat.type_id) == ((1, 2), ("3", "4"), None)
        assert (dog.answer, cat.answer) == ("the brown dog", None)
        nothing = videos[1].expressions[0]
        assert (nothing.obj_ids, nothing.anno_ids, nothing.type_id) == ((), (), 2) and videos[1].size is None

    def test_id_order(self, tmp_path):
        videos = read_meta_expressions(_write_meta(tmp_path, META_VIDEOS), order="id")
        assert [v.video_id for v in videos] == ["v_a", "v_b"]
        assert [e.exp_id for e in videos[1].expressions] == ["2", "10"]

    @pytest.mark.parametrize(
        ("videos", "message"),
        [
            ([], r"'videos' should be an object keyed by video id"),
            ({"v": {"frames": []}}, r"video 'v' has no field 'expressions'"),
            ({"v": {"expressions": {}}}, r"video 'v' has no field 'frames'"),
            (
                {"v": {"frames": [0], "expressions": {}}},
                r"video 'v': 'frames' should be a list of frame names",
            ),
            ({"v": {"frames": [], "expressions": []}}, r"video 'v': 'expressions' should be an object"),
            (
                {"v": {"frames": [], "expressions": {}, "height": "x", "width": 3}},
                r"video 'v': expected an integer",
            ),
            ({"v": {"frames": [], "expressions": {"3": {}}}}, r"video 'v' expression '3' has no field 'exp'"),
            (
                {"v": {"frames": [], "expressions": {"3": "text"}}},
                r"video 'v' expression '3' should be a JSON object",
            ),
            (
                {"v": {"frames": [], "expressions": {"3": {"exp": 5}}}},
                r"expression '3': 'exp' should be a string",
            ),
            (
                {"v": {"frames": [], "expressions": {"3": {"exp": "a", "answer": ["the dog"]}}}},
                r"expression '3': 'answer' should be a string, got \['the dog'\]",
            ),
            (
                {"v": {"frames": [], "expressions": {"3": {"exp": "a", "obj_id": ["x"]}}}},
                r"video 'v' expression '3': expected an integer, got 'x'",
            ),
            (
                {"v": {"frames": [], "expressions": {"3": {"exp": "a", "type_id": None, "obj_id": [[1]]}}}},
                r"expression '3': expected an integer, got \[1\]",
            ),
        ],
    )
    def test_errors_name_dataset_file_and_item(self, tmp_path, videos, message):
        path = _write_meta(tmp_path, videos)
        with pytest.raises(DataFormatError, match=rf"^mevis: {path}: .*{message}"):
            read_meta_expressions(path, "mevis")

    def test_missing_file_and_no_videos(self, tmp_path):
        with pytest.raises(
            DataFormatError, match=r"^revos: annotation file .*meta_expressions.json does not exist"
        ):
            read_meta_expressions(tmp_path / "meta_expressions.json", "revos")
        (tmp_path / "m.json").write_text("{}")
        with pytest.raises(DataFormatError, match=r"m.json: the top level has no field 'videos'"):
            read_meta_expressions(tmp_path / "m.json")


class TestLabelPng:
    def test_palette_values_are_object_ids(self, tmp_path):
        from PIL import Image

        labels = np.zeros((3, 4), dtype=np.uint8)
        labels[1, 2] = 7
        image = Image.fromarray(labels, mode="L").convert("P")
        image.putpalette([0, 0, 0, 255, 0, 0] * 128)
        image.save(tmp_path / "00000.png")
        assert np.array_equal(read_label_png(tmp_path / "00000.png", "davis17", (3, 4)), labels)
        with pytest.raises(DataFormatError, match=r"davis17: .*00000.png is 4x3 but its frame is 5x3"):
            read_label_png(tmp_path / "00000.png", "davis17", (3, 5))

    def test_bad_files(self, tmp_path):
        from PIL import Image

        Image.new("RGB", (2, 2)).save(tmp_path / "rgb.png")
        (tmp_path / "junk.png").write_bytes(b"not a png")
        with pytest.raises(DataFormatError, match="rgb.png is a RGB image"):
            read_label_png(tmp_path / "rgb.png")
        with pytest.raises(DataFormatError, match="junk.png cannot be decoded"):
            read_label_png(tmp_path / "junk.png")
        with pytest.raises(DataFormatError, match=r"^ytvos: annotation .*none.png does not exist"):
            read_label_png(tmp_path / "none.png", "ytvos")


class TestLabelme:
    def test_label_map_paints_largest_first_and_drops_flags(self):
        shapes = [
            {"label": "target", "points": [[0, 0], [7, 0], [7, 7], [0, 7]]},
            {"label": "Ignore", "points": [[2, 2], [4, 2], [4, 4], [2, 4]]},
            {"label": "flag", "points": [[0, 0], [7, 0], [7, 7]]},
        ]
        labels = label_map(shapes, (10, 10), "reasonseg", PATH)
        assert labels[0, 0] == 1 and labels[3, 3] == 255 and labels[9, 9] == 0
        assert set(np.unique(labels)) == {0, 1, 255}

    def test_label_map_errors(self):
        with pytest.raises(DataFormatError, match="reasonseg: .*: shape 0 has no field 'points'"):
            label_map([{"label": "target"}], (4, 4), "reasonseg", PATH)
        with pytest.raises(DataFormatError, match="shape 0 has malformed points"):
            label_map([{"label": "target", "points": [[1]]}], (4, 4), None, PATH)

    def test_read_labelme_json(self, tmp_path):
        path = tmp_path / "a.json"
        path.write_bytes('{"text": ["caf\u00e9"], "shapes": []}'.encode("cp1252"))
        assert read_labelme_json(path)["text"] == ["caf\u00e9"]
        path.write_text("[]")
        with pytest.raises(DataFormatError, match="a.json should hold a JSON object"):
            read_labelme_json(path, "reasonseg")
