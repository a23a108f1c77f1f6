"""visa_eval.groundtruth and davis_truth on files in the published formats (read via visa_core)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from visa_core.annotations import encode_rle, read_meta_expressions
from visa_core.errors import DataFormatError
from visa_eval.davis_truth import DavisTargets
from visa_eval.groundtruth import VideoMasks, foreground_values

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pycocotools under numpy 2


def _meta(tmp_path: Path, expressions: dict) -> Path:
    path = tmp_path / "meta_expressions.json"
    videos = {"v": {"frames": ["00000", "00001"], "expressions": expressions}}
    path.write_text(json.dumps({"videos": videos}))
    return path


def _square(y: int, x: int) -> np.ndarray:
    mask = np.zeros((4, 6), dtype=bool)
    mask[y : y + 2, x : x + 2] = True
    return mask


def test_overlapping_objects_sum_to_two_and_null_frames_are_empty(tmp_path):
    (video,) = read_meta_expressions(_meta(tmp_path, {"0": {"exp": "both", "anno_id": [1, 2]}}))
    mask_dict = {
        "1": [encode_rle(_square(0, 0)), None],
        "2": [encode_rle(_square(1, 1)), encode_rle(_square(2, 4))],
    }
    masks = VideoMasks(video, mask_dict, tmp_path / "mask_dict.json")
    assert masks.frame_size() == (4, 6)
    values = masks.target_values(video.expressions[0], (4, 6))
    assert values.dtype == np.uint8 and values[0, 1, 1] == 2 and values[0, 0, 0] == 1
    assert np.array_equal(values[1] > 0, _square(2, 4))


def test_short_object_track_names_file_object_and_video(tmp_path):
    (video,) = read_meta_expressions(_meta(tmp_path, {"0": {"exp": "one", "anno_id": [1]}}))
    masks = VideoMasks(video, {"1": [encode_rle(_square(0, 0))]}, tmp_path / "mask_dict.json")
    with pytest.raises(
        DataFormatError, match=r"mask_dict.json: anno_id 1 \(video 'v'\) should list .*\(2 frames\), got 1"
    ):
        masks.object_masks("1", (4, 6))


def test_foreground_size_mismatch_names_the_frame(tmp_path):
    (video,) = read_meta_expressions(_meta(tmp_path, {"0": {"exp": "one", "anno_id": [1]}}))
    foreground = {"v": {"masks_rle": [encode_rle(_square(0, 0)), encode_rle(np.zeros((3, 6), bool))]}}
    with pytest.raises(
        DataFormatError, match=r"fg.json: foreground of v/00001 is an RLE of 6x3 but its frame is 6x4"
    ):
        foreground_values(foreground, video, (4, 6), tmp_path / "fg.json")


def test_davis_obj_id_given_as_a_string_of_two_digits(tmp_path):
    from PIL import Image

    (video,) = read_meta_expressions(_meta(tmp_path, {"0": {"exp": "twelve", "obj_id": "12"}}))
    folder = tmp_path / "Annotations" / "v"
    folder.mkdir(parents=True)
    for frame, mask in zip(video.frames, (_square(0, 0), _square(2, 4)), strict=True):
        Image.fromarray(mask.astype(np.uint8) * 12, mode="L").convert("P").save(folder / f"{frame}.png")
    target = DavisTargets(video, tmp_path / "Annotations").target("0", (4, 6))
    assert np.array_equal(target, np.stack([_square(0, 0), _square(2, 4)]))
