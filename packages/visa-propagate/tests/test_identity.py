from __future__ import annotations

import numpy as np
import pytest

import visa_core
from visa_core.components.propagation_prompts import PropagationInputError, nearest_key_frame
from visa_core.testing import PropagatorContract, moving_squares


class TestIdentityContract(PropagatorContract):
    component_name = "identity"

    @pytest.fixture
    def propagator(self):
        return visa_core.build("propagator", "identity")


def test_every_frame_gets_the_key_frame_mask() -> None:
    video, masks = moving_squares(num_frames=5, num_objects=2)
    result = visa_core.build("propagator", "identity").propagate(video, {3: masks[:, 3]})
    assert np.array_equal(result.masks, np.repeat(masks[:, 3:4], 5, axis=1))


def test_several_key_frames_use_the_nearest() -> None:
    video, masks = moving_squares(num_frames=9, num_objects=1)
    result = visa_core.build("propagator", "identity").propagate(video, {1: masks[:, 1], 6: masks[:, 6]})
    for index, key in enumerate([1, 1, 1, 1, 6, 6, 6, 6, 6]):
        assert np.array_equal(result.masks[:, index], masks[:, key]), index


def test_nearest_key_frame_prefers_the_earlier_on_ties() -> None:
    assert nearest_key_frame(4, [2, 6]) == 2
    assert nearest_key_frame(0, [5]) == 5


def test_bad_prompts_are_clear_errors() -> None:
    video, masks = moving_squares(num_frames=4, height=32, width=48, video_id="v")
    identity = visa_core.build("propagator", "identity")
    with pytest.raises(PropagationInputError, match="key frame 7 is outside the 4 frames"):
        list(identity.stream(video, {7: masks[:, 0]}))
    with pytest.raises(PropagationInputError, match=r"frame 0 is 16x48, the video 32x48"):
        list(identity.stream(video, {0: masks[:, 0, :16]}))
    with pytest.raises(PropagationInputError, match=r"bool\[N, H, W\], got uint8"):
        list(identity.stream(video, {0: masks[:, 0].astype(np.uint8)}))
    with pytest.raises(PropagationInputError, match="disagree on the number of objects"):
        list(identity.stream(video, {0: masks[:, 0], 1: masks[:1, 1]}))
    with pytest.raises(PropagationInputError, match="at least one"):
        list(identity.stream(video, {}))
