"""Test helpers for visa-propagate: a tiny random SAM 2 video checkpoint writer for ``sam2``
(transformers imported on use)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def tiny_sam2_config(image_size: int = 128) -> Any:
    """A 1.8M-parameter ``Sam2VideoConfig`` (hidden size 128) that remembers 3 frames and 4
    object pointers; ``image_size`` a multiple of 64 (the published models: 1024, 7 and 16)."""
    from transformers import (
        Sam2HieraDetConfig,
        Sam2VideoConfig,
        Sam2VideoMaskDecoderConfig,
        Sam2VideoPromptEncoderConfig,
        Sam2VisionConfig,
    )

    if image_size % 64:
        raise ValueError(f"image_size must be a multiple of 64, got {image_size}")
    backbone = Sam2HieraDetConfig(
        hidden_size=16,
        num_attention_heads=1,
        image_size=[image_size, image_size],
        blocks_per_stage=[1, 1, 2, 1],
        embed_dim_per_stage=[16, 32, 64, 128],
        num_attention_heads_per_stage=[1, 1, 2, 2],
        window_size_per_stage=[8, 4, 4, 4],
        global_attention_blocks=[3],  # never the first block of a pooled stage
    )
    vision = Sam2VisionConfig(
        backbone_config=backbone,
        backbone_channel_list=[128, 64, 32, 16],
        backbone_feature_sizes=[[image_size // stride] * 2 for stride in (4, 8, 16)],
        fpn_hidden_size=128,
    )
    return Sam2VideoConfig(
        vision_config=vision,
        prompt_encoder_config=Sam2VideoPromptEncoderConfig(
            hidden_size=128, image_size=image_size, patch_size=16
        ),
        mask_decoder_config=Sam2VideoMaskDecoderConfig(
            hidden_size=128, mlp_dim=256, num_attention_heads=4, iou_head_hidden_dim=128
        ),
        image_size=image_size,
        memory_attention_hidden_size=128,  # must exceed the memory size of 64
        memory_attention_num_layers=2,
        memory_attention_feed_forward_hidden_size=256,
        memory_attention_rope_feat_sizes=[image_size // 16] * 2,
        memory_encoder_hidden_size=128,
        memory_encoder_output_channels=64,  # hard-coded in the memory attention
        mask_downsampler_embed_dim=128,
        memory_fuser_embed_dim=128,
        memory_fuser_intermediate_dim=256,
        num_maskmem=3,
        max_object_pointers_in_encoder=4,
    )


def write_tiny_sam2_checkpoint(folder: str | Path, seed: int = 0, image_size: int = 128) -> Path:
    """Save a random-weight ``Sam2VideoModel`` of :func:`tiny_sam2_config` into ``folder``.

    Random weights decide at random whether an object is visible (SAM 2 then empties its mask);
    a positive object-score bias makes the tiny model always report it present, so tracked
    frames hold (random but non-empty) masks.
    """
    import torch
    from transformers import Sam2VideoModel

    torch.manual_seed(seed)
    model = Sam2VideoModel(tiny_sam2_config(image_size))
    with torch.no_grad():
        model.mask_decoder.pred_obj_score_head.proj_out.bias.fill_(5.0)
    model.save_pretrained(folder)
    return Path(folder)
