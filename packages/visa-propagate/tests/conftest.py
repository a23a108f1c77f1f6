"""Shared fixtures: a tiny random SAM 2 video checkpoint and a deterministic frame decoder."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from visa_propagate.testing import ColourDecoder

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def tiny_sam2_config():
    """A 1.8M-parameter ``Sam2VideoConfig`` at 256x256 (the smallest shape the model accepts)
    that remembers 3 frames and 4 object pointers."""
    from transformers import (
        Sam2HieraDetConfig,
        Sam2VideoConfig,
        Sam2VideoMaskDecoderConfig,
        Sam2VideoPromptEncoderConfig,
        Sam2VisionConfig,
    )

    backbone = Sam2HieraDetConfig(
        hidden_size=16,
        num_attention_heads=1,
        image_size=[256, 256],
        blocks_per_stage=[1, 1, 2, 1],
        embed_dim_per_stage=[16, 32, 64, 128],
        num_attention_heads_per_stage=[1, 1, 2, 2],
        window_size_per_stage=[8, 4, 4, 4],
        global_attention_blocks=[3],
    )
    vision = Sam2VisionConfig(
        backbone_config=backbone,
        backbone_channel_list=[128, 64, 32, 16],
        backbone_feature_sizes=[[64, 64], [32, 32], [16, 16]],
        fpn_hidden_size=128,
    )
    return Sam2VideoConfig(
        vision_config=vision,
        prompt_encoder_config=Sam2VideoPromptEncoderConfig(hidden_size=128, image_size=256, patch_size=16),
        mask_decoder_config=Sam2VideoMaskDecoderConfig(
            hidden_size=128, mlp_dim=256, num_attention_heads=4, iou_head_hidden_dim=128
        ),
        image_size=256,
        memory_attention_hidden_size=128,
        memory_attention_num_layers=2,
        memory_attention_feed_forward_hidden_size=256,
        memory_attention_rope_feat_sizes=[16, 16],
        memory_encoder_hidden_size=128,
        memory_encoder_output_channels=64,
        mask_downsampler_embed_dim=128,
        memory_fuser_embed_dim=128,
        memory_fuser_intermediate_dim=256,
        num_maskmem=3,  # memory reach of 4 frames (the published models: 7 and 16)
        max_object_pointers_in_encoder=4,
    )


@pytest.fixture(scope="session")
def tiny_sam2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight ``Sam2VideoModel`` saved with ``save_pretrained``.

    Random weights decide at random whether the object is visible (and SAM 2 then empties the
    mask); a positive object-score bias makes the tiny model always report it present, so tracked
    frames hold (random but non-empty) masks.
    """
    import torch
    from transformers import Sam2VideoModel

    folder = tmp_path_factory.mktemp("tiny-sam2")
    torch.manual_seed(0)
    model = Sam2VideoModel(tiny_sam2_config())
    with torch.no_grad():
        model.mask_decoder.pred_obj_score_head.proj_out.bias.fill_(5.0)
    model.save_pretrained(folder)
    return folder


@pytest.fixture
def colour_decoder() -> ColourDecoder:
    """Finds the first two moving squares of ``visa_core.testing.moving_squares`` (red, green)."""
    return ColourDecoder(np.array([[230, 40, 40], [40, 200, 60]]))
