"""Every dtype the CLI offers runs the pipeline on CPU, close to float32's masks.

Measured on the tiny model (seed 0): keyframe logits differ from float32's by at most 1.5% of
float32's largest |logit| in bfloat16 and 0.2% in float16; the tests allow 3% and 0.5%.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from visa_core.inference import VisaPipeline
from visa_core.inference.loading import DTYPES
from visa_core.testing.synthetic import moving_squares

TOLERANCE = {"float32": 0.0, "bfloat16": 0.03, "float16": 0.005}
"""Largest |logit - float32 logit| allowed, as a share of float32's largest |logit|."""


def _force_seg_answer(model, processor):
    """Greedy generation answers "[SEG]" then stops (a hook on lm_head)."""
    order = [processor.seg_token_id, processor.tokenizer.eos_token_id]
    step = {"n": 0}

    def hook(_module, _inputs, logits):
        logits = logits.clone()
        logits[:, -1, order[min(step["n"], 1)]] += 1e4
        step["n"] += 1
        return logits

    return model.language_model.lm_head.register_forward_hook(hook)


@pytest.fixture(scope="module")
def squares():
    video, _ = moving_squares(num_frames=6, height=48, width=64)
    return video


@pytest.fixture(scope="module")
def runs(tiny_visa_model_dir, squares):
    """Per dtype: the pipeline's teacher-forced and generated results on the clip, with masks."""
    out = {}
    for dtype in DTYPES:
        pipeline = VisaPipeline.from_pretrained(
            tiny_visa_model_dir, dtype=dtype, forced_answer="Sure, [SEG]."
        )
        forced, forced_masks = pipeline(squares, "the red square")
        generating = VisaPipeline(pipeline.model, pipeline.processor, pipeline.selector, pipeline.propagator)
        generating.max_new_tokens = 4
        handle = _force_seg_answer(pipeline.model, pipeline.processor)
        try:
            generated, _ = generating(squares, "the red square")
        finally:
            handle.remove()
        out[dtype] = {
            "model": pipeline.model,
            "forced": forced,
            "masks": forced_masks,
            "generated": generated,
        }
    return out


@pytest.mark.parametrize("dtype", DTYPES)
def test_model_runs_in_the_dtype_with_the_sam_positions_in_float32(runs, dtype):
    model = runs[dtype]["model"]
    assert model.language_model.dtype == model.sam_dtype == model.vision_tower.dtype == getattr(torch, dtype)
    assert model.sam.prompt_encoder.pe_layer.positional_encoding_gaussian_matrix.dtype == torch.float32


@pytest.mark.parametrize("dtype", DTYPES)
def test_pipeline_logits_and_masks_close_to_float32(runs, dtype):
    reference = runs["float32"]
    result = runs[dtype]["forced"]
    assert result.keyframe_logits.dtype == np.float32 and result.keyframe_logits.shape == (1, 48, 64)
    scale = np.abs(reference["forced"].keyframe_logits).max()
    error = np.abs(result.keyframe_logits - reference["forced"].keyframe_logits).max()
    assert error <= TOLERANCE[dtype] * scale
    assert runs[dtype]["masks"].shape == reference["masks"].shape == (1, 6, 48, 64)
    assert (runs[dtype]["masks"] == reference["masks"]).mean() >= 0.95


@pytest.mark.parametrize("dtype", DTYPES)
def test_generated_seg_answer_is_decoded_in_the_dtype(runs, dtype):
    generated, reference = runs[dtype]["generated"], runs["float32"]["generated"]
    assert generated.answer == "[SEG]" and generated.has_target
    scale = np.abs(reference.keyframe_logits).max()
    error = np.abs(generated.keyframe_logits - reference.keyframe_logits).max()
    assert error <= TOLERANCE[dtype] * scale
