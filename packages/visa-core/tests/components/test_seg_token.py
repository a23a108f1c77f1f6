from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import visa_core
from visa_core.components.propagation_prompts import PropagationInputError
from visa_core.testing import ColourDecoder, PropagatorContract, moving_squares, run_with_fitted_decoder


@pytest.fixture
def colour_decoder() -> ColourDecoder:
    """Finds the first two moving squares of ``moving_squares`` (red, green)."""
    return ColourDecoder(np.array([[230, 40, 40], [40, 200, 60]]))


class TestSegTokenContract(PropagatorContract):
    component_name = "seg_token"

    @pytest.fixture
    def propagator(self):
        return visa_core.build("propagator", "seg_token")

    @pytest.fixture
    def decoder(self) -> Any:
        return ColourDecoder(np.array([[230, 40, 40]]))  # the first (red) square

    def _run(self, propagator: Any, decoder: Any, video: Any, prompts: dict[int, np.ndarray]) -> Any:
        return run_with_fitted_decoder(propagator, video, prompts)


def test_decodes_every_frame_but_the_key_frame(colour_decoder: Any) -> None:
    video, masks = moving_squares(num_frames=6, num_objects=2)
    prompt = masks[:, 2].copy()
    prompt[0, 0, 0] = True  # a pixel the decoder would not find: the key frame keeps its prompt
    result = visa_core.build("propagator", "seg_token").propagate(video, {2: prompt}, decoder=colour_decoder)
    assert colour_decoder.calls == 5
    assert np.array_equal(result.masks[:, 2], prompt)
    others = [0, 1, 3, 4, 5]
    assert np.array_equal(result.masks[:, others], masks[:, others])


def test_missing_decoder_is_a_clear_error() -> None:
    video, masks = moving_squares(num_frames=3, num_objects=1)
    with pytest.raises(PropagationInputError, match="pass decoder="):
        list(visa_core.build("propagator", "seg_token").stream(video, {0: masks[:, 0]}))


def test_decoder_of_the_wrong_shape_is_named(colour_decoder: Any) -> None:
    video, masks = moving_squares(num_frames=3, num_objects=1, video_id="clip7")
    with pytest.raises(PropagationInputError, match=r"returned \[2, 32, 48\] for frame 1 of video 'clip7'"):
        list(
            visa_core.build("propagator", "seg_token").stream(video, {0: masks[:, 0]}, decoder=colour_decoder)
        )
