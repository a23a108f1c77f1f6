from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from visa_core.components.frame_sampling import position_to_index, spread_references


def test_original_evaluation_sampling() -> None:
    # T=100, max_image_token=12: step = ceil(100 / 11) = 10, start = target mod 10.
    assert spread_references(100, 37) == (7, 17, 27, 37, 47, 57, 67, 77, 87, 97)
    assert spread_references(5, 2) == (0, 1, 2, 3, 4)
    assert spread_references(1, 0) == (0,)


@given(st.integers(1, 3000), st.data(), st.integers(2, 20))
def test_references_cover_the_video_and_include_the_target(
    num_frames: int, data: st.DataObject, tokens: int
) -> None:
    target = data.draw(st.integers(0, num_frames - 1))
    references = spread_references(num_frames, target, tokens)
    assert target in references
    step = math.ceil(num_frames / (tokens - 1))
    assert len(references) <= tokens - 1, "the target image comes on top of the references"
    assert references[0] < step and references[-1] >= num_frames - step
    assert all(b - a == step for a, b in itertools.pairwise(references))
    assert list(references) == sorted(set(references))


def test_bad_target_is_an_error() -> None:
    with pytest.raises(ValueError, match="outside"):
        spread_references(10, 10)


def test_position_to_index_is_clamped() -> None:
    assert position_to_index(0.5, 10) == 5
    assert position_to_index(1.0, 10) == 9
    assert position_to_index(0.0, 1) == 0
    assert position_to_index(0.99, 7) == 6
