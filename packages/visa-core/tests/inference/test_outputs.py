"""``result.json``: per-query answer, frames and confidences, also for extreme mask logits."""

from __future__ import annotations

import json
import warnings

import numpy as np

from visa_core.inference.outputs import write_result_json
from visa_core.inference.pipeline import QueryResult
from visa_core.testing import moving_squares
from visa_core.types import FrameSelection, Query


def test_confidence_of_saturated_logits_is_finite_and_warning_free(tmp_path):
    video, _ = moving_squares(num_frames=3, height=8, width=8, num_objects=1)
    logits = np.full((1, 8, 8), -1e4, dtype=np.float32)
    logits[0, :4] = 1e4  # a fully confident mask: exp(1e4) overflows a naive sigmoid
    result = QueryResult(Query("the square"), "It is [SEG].", FrameSelection(1, (0, 1, 2)), logits, None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = write_result_json(tmp_path, "clip", video, [result], [np.array([32, 32, 32])])
    query = json.loads(path.read_text())["queries"][0]
    assert query["keyframe_confidence"] == [1.0]
