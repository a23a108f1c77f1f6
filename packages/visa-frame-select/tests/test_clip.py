from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import visa_core
from visa_core import CheckpointError, Query
from visa_core.testing import FrameSelectorContract, moving_squares


class TestClipContract(FrameSelectorContract):
    component_name = "clip"

    @pytest.fixture
    def selector(self, tiny_clip_dir: Path):
        return visa_core.build("frame_selector", "clip", model=tiny_clip_dir, batch_size=4)


def _reference_scores(folder: Path, frames: np.ndarray, text: str) -> np.ndarray:
    """Cosine similarities computed independently through CLIPModel.forward."""
    import torch
    from transformers import AutoTokenizer, CLIPImageProcessorPil, CLIPModel

    model = CLIPModel.from_pretrained(folder).eval()
    processor = CLIPImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    tokens = AutoTokenizer.from_pretrained(folder)([text], return_tensors="pt")
    pixels = processor(images=list(frames), return_tensors="pt")["pixel_values"]
    with torch.inference_mode():
        out = model(
            input_ids=tokens["input_ids"], attention_mask=tokens["attention_mask"], pixel_values=pixels
        )
    return out.logits_per_image[:, 0].numpy() / model.logit_scale.exp().item()


def test_target_is_the_most_similar_frame(tiny_clip_dir: Path) -> None:
    video, _ = moving_squares(num_frames=11, height=40, width=56)
    selector = visa_core.build("frame_selector", "clip", model=tiny_clip_dir, batch_size=3)
    selection = selector.select(video, Query("the red square"))
    frames = np.stack([video.frames[i] for i in range(len(video))])
    expected = _reference_scores(tiny_clip_dir, frames, "the red square")
    assert selection.scores is not None and selection.scores.shape == (11,)
    np.testing.assert_allclose(selection.scores, expected, atol=1e-4)
    assert selection.target == int(np.argmax(expected))
    assert selection.target in selection.references


def test_frame_embeddings_are_reused_across_queries(tiny_clip_dir: Path) -> None:
    video, _ = moving_squares(num_frames=5)
    selector = visa_core.build("frame_selector", "clip", model=tiny_clip_dir)
    first = selector.frame_embeddings(video)
    selector.select(video, Query("the green square"))
    assert selector.frame_embeddings(video) is first
    other, _ = moving_squares(num_frames=5, video_id="other")
    assert selector.frame_embeddings(other) is not first


def test_frame_stride_repeats_scores(tiny_clip_dir: Path) -> None:
    video, _ = moving_squares(num_frames=7)
    full = visa_core.build("frame_selector", "clip", model=tiny_clip_dir).scores(video, Query("a square"))
    strided = visa_core.build("frame_selector", "clip", model=tiny_clip_dir, frame_stride=3)
    scores = strided.scores(video, Query("a square"))
    np.testing.assert_allclose(scores, full[[0, 0, 0, 3, 3, 3, 6]], atol=1e-5)


def test_missing_model_folder_is_a_checkpoint_error(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match=r"no config\.json"):
        visa_core.build("frame_selector", "clip", model=tmp_path / "nowhere")
