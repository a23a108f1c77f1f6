from __future__ import annotations

import pytest

import visa_core
from visa_core import ComponentOptionError, Query
from visa_core.testing import FrameSelectorContract, moving_squares


class TestUniformContract(FrameSelectorContract):
    component_name = "uniform"

    @pytest.fixture
    def selector(self):
        return visa_core.build("frame_selector", "uniform")


@pytest.mark.parametrize(
    ("rule", "expected"), [("middle", 6), ("first", 0), ("last", 12), (4, 4), (-2, 11), ("3", 3)]
)
def test_target_rules(rule: str | int, expected: int) -> None:
    video, _ = moving_squares(num_frames=13)
    selection = visa_core.build("frame_selector", "uniform", target=rule).select(video, Query("x"))
    assert selection.target == expected
    assert expected in selection.references


def test_references_follow_the_original_sampling() -> None:
    video, _ = moving_squares(num_frames=30)
    selection = visa_core.build("frame_selector", "uniform", target=7).select(video, Query("x"))
    # step = ceil(30 / 11) = 3, start = 7 mod 3 = 1
    assert selection.references == tuple(range(1, 30, 3))


def test_index_outside_the_video_is_a_clear_error() -> None:
    video, _ = moving_squares(num_frames=5, video_id="short")
    selector = visa_core.build("frame_selector", "uniform", target=9)
    with pytest.raises(ComponentOptionError, match=r"target index 9 .*'short' of 5 frames"):
        selector.select(video, Query("x"))


def test_unknown_rule_is_rejected() -> None:
    with pytest.raises(ComponentOptionError, match="middle"):
        visa_core.build("frame_selector", "uniform", target="centre")
