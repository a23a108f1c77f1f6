from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import visa_core
from visa_core import CheckpointError, ComponentOptionError
from visa_core.testing import PropagatorContract, moving_squares


class TestSam2Contract(PropagatorContract):
    component_name = "sam2"

    @pytest.fixture
    def propagator(self, tiny_sam2_dir: Path):
        return visa_core.build("propagator", "sam2", checkpoint=tiny_sam2_dir)


def _stock_transformers_masks(folder: Path, frames: np.ndarray, key: int, prompt: np.ndarray) -> np.ndarray:
    """The documented transformers flow: whole video in the session, forward then reverse iterator."""
    import torch
    from transformers import Sam2VideoInferenceSession, Sam2VideoModel

    from visa_propagate.sam2.preprocess import frame_to_pixels, logits_to_masks, mask_to_input

    model = Sam2VideoModel.from_pretrained(folder).eval()
    size = (model.config.image_size, model.config.image_size)
    height, width = frames.shape[1:3]
    pixels = torch.stack([frame_to_pixels(frame, size) for frame in frames])
    session = Sam2VideoInferenceSession(
        video=pixels, video_height=height, video_width=width, dtype=torch.float32
    )
    for obj_id, mask in enumerate(prompt):
        session.add_mask_inputs(session.obj_id_to_idx(obj_id), key, mask_to_input(mask, size))
    session.obj_with_new_inputs = list(range(len(prompt)))
    model(inference_session=session, frame_idx=key)
    masks = np.zeros((len(prompt), len(frames), height, width), dtype=bool)
    for reverse in (False, True):
        for out in model.propagate_in_video_iterator(session, start_frame_idx=key, reverse=reverse):
            masks[:, out.frame_idx] = logits_to_masks(out.pred_masks, size, (height, width))
    masks[:, key] = prompt
    return masks


def test_same_masks_as_the_stock_transformers_session(tiny_sam2_dir: Path) -> None:
    # 11 frames, key frame 2: the memory window of the tiny model is 4 frames, so the bounded
    # session forgets frame 6 during the forward pass; the results must not change
    video, masks = moving_squares(num_frames=11, height=40, width=64, num_objects=2)
    frames = np.stack([video.frames[i] for i in range(len(video))])
    key = 2
    expected = _stock_transformers_masks(tiny_sam2_dir, frames, key, masks[:, key])
    propagator = visa_core.build("propagator", "sam2", checkpoint=tiny_sam2_dir)
    assert propagator.memory_window() == 4
    result = propagator.propagate(video, {key: masks[:, key]})
    assert np.array_equal(result.masks, expected)


def test_session_memory_is_bounded(tiny_sam2_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from visa_propagate.sam2 import propagator as module

    sessions = []
    original = module._Sam2Tracker.__init__

    def spy(self, *args, **kwargs):
        original(self, *args, **kwargs)
        sessions.append(self.session)

    monkeypatch.setattr(module._Sam2Tracker, "__init__", spy)
    video, masks = moving_squares(num_frames=12, num_objects=1)
    propagator = visa_core.build("propagator", "sam2", checkpoint=tiny_sam2_dir, memory_window=3)
    largest = 0
    for _ in propagator.stream(video, {6: masks[:, 6]}):
        session = sessions[0]
        assert session.processed_frames is None or len(session.processed_frames) == 0
        largest = max(largest, len(session.stored_frames()))
    # the key frame, frames within the window of it (kept for the reverse pass) and the window
    assert largest <= 1 + 2 * 2 + 3


def test_several_key_frames_keep_their_prompts(tiny_sam2_dir: Path) -> None:
    video, masks = moving_squares(num_frames=6, num_objects=2)
    prompts = {1: masks[:, 1], 4: masks[:, 4]}
    result = visa_core.build("propagator", "sam2", checkpoint=tiny_sam2_dir).propagate(video, prompts)
    assert np.array_equal(result.masks[:, 1], masks[:, 1])
    assert np.array_equal(result.masks[:, 4], masks[:, 4])


def test_bad_checkpoint_and_options(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="not a Sam2VideoModel folder"):
        visa_core.build("propagator", "sam2", checkpoint=tmp_path)
    (tmp_path / "config.json").write_text('{"model_type": "sam2_video"}')
    with pytest.raises(CheckpointError, match="cannot load a Sam2VideoModel"):
        _ = visa_core.build("propagator", "sam2", checkpoint=tmp_path).model
    with pytest.raises(ComponentOptionError, match="dtype must be one of"):
        visa_core.build("propagator", "sam2", checkpoint=tmp_path, dtype="float64")
