"""Model shapes read from published weights and configs (SAM from its tensors, LLM from both)."""

from __future__ import annotations

import re
from typing import Any

import torch

from visa_core.errors import CheckpointError


def sam_config_from_weights(state: dict[str, torch.Tensor]) -> dict[str, Any]:
    """SAM shapes from ``sam.*`` tensors: encoder width/depth/heads, global blocks, window, sizes.

    Heads of the encoder come from the relative-position tables (``head_dim`` columns); global
    blocks have tables of ``2 * grid - 1`` rows, windowed ones ``2 * window - 1``. The decoder's
    head count is not visible in shapes and stays SAM's 8.
    """
    try:
        patch = state["sam.image_encoder.patch_embed.proj.weight"]
        grid = state["sam.image_encoder.pos_embed"].shape[1]
        prompt_dim = state["sam.prompt_encoder.no_mask_embed.weight"].shape[1]
        mask_in = state["sam.prompt_encoder.mask_downscaling.3.weight"].shape[0]
        mlp = state["sam.mask_decoder.transformer.layers.0.mlp.lin1.weight"].shape[0]
        iou_hidden = state["sam.mask_decoder.iou_prediction_head.layers.0.weight"].shape[0]
    except KeyError as error:
        raise CheckpointError(f"SAM weights are incomplete: {error.args[0]} is missing") from error
    blocks = sorted({int(m[1]) for k in state if (m := re.match(r"sam\.image_encoder\.blocks\.(\d+)\.", k))})
    rel_rows = {i: state[f"sam.image_encoder.blocks.{i}.attn.rel_pos_h"].shape for i in blocks}
    global_blocks = [i for i in blocks if rel_rows[i][0] == 2 * grid - 1]
    windowed = [rel_rows[i][0] for i in blocks if i not in global_blocks]
    embed_dim = patch.shape[0]
    return {
        "image_size": grid * patch.shape[-1],
        "patch_size": patch.shape[-1],
        "encoder_embed_dim": embed_dim,
        "encoder_depth": len(blocks),
        "encoder_num_heads": embed_dim // rel_rows[blocks[0]][1],
        "encoder_global_attn_indexes": global_blocks,
        "window_size": (windowed[0] + 1) // 2 if windowed else 0,
        "prompt_embed_dim": prompt_dim,
        "mask_in_chans": mask_in,
        "decoder_depth": len(
            {k.split(".")[4] for k in state if k.startswith("sam.mask_decoder.transformer.layers.")}
        ),
        "decoder_mlp_dim": mlp,
        "iou_head_hidden_dim": iou_hidden,
    }


def text_config_from_weights(state: dict[str, torch.Tensor], source_config: dict[str, Any]) -> dict[str, Any]:
    """Llama shapes from ``language_model.*`` tensors plus eps / positions / rope from the config."""
    try:
        vocab, hidden = state["language_model.model.embed_tokens.weight"].shape
        intermediate = state["language_model.model.layers.0.mlp.gate_proj.weight"].shape[0]
        kv_rows = state["language_model.model.layers.0.self_attn.k_proj.weight"].shape[0]
    except KeyError as error:
        raise CheckpointError(f"language-model weights are incomplete: {error.args[0]} is missing") from error
    layers = len({int(m[1]) for k in state if (m := re.match(r"language_model\.model\.layers\.(\d+)\.", k))})
    heads = int(source_config.get("num_attention_heads", hidden // 128))
    return {
        "hidden_size": hidden,
        "intermediate_size": intermediate,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "num_key_value_heads": kv_rows // (hidden // heads),
        "vocab_size": vocab,
        "max_position_embeddings": int(source_config.get("max_position_embeddings", 4096)),
        "rms_norm_eps": float(source_config.get("rms_norm_eps", 1e-5)),
        "rope_theta": float(source_config.get("rope_theta", 10000.0)),
        "bos_token_id": 1,
        "eos_token_id": 2,
        "pad_token_id": 0,
        "tie_word_embeddings": False,
    }


def cluster_sizes_from_config(source_config: dict[str, Any], layout: str) -> list[int]:
    """Chat-UniVi's spatial cluster counts (64, 32, 16 by default); none for LISA (LLaVA)."""
    if layout == "lisa":
        return []
    inner = source_config.get("config") or {}
    if inner.get("use_cluster") is False:
        return []
    return [int(inner.get(f"spatial_cluster_rate{i}", default)) for i, default in enumerate((64, 32, 16))]


def clip_config_from_weights(state: dict[str, torch.Tensor]) -> dict[str, Any]:
    """CLIP vision shapes from ``vision_tower.*`` tensors (training checkpoints carry the tower).

    Heads are not visible in shapes; CLIP uses 64-channel heads (ViT-L/14: 1024 / 64 = 16).
    """
    patch = state["vision_tower.embeddings.patch_embedding.weight"]
    positions = state["vision_tower.embeddings.position_embedding.weight"].shape[0] - 1
    hidden = patch.shape[0]
    layers = len({int(m[1]) for k in state if (m := re.match(r"vision_tower\.encoder\.layers\.(\d+)\.", k))})
    return {
        "hidden_size": hidden,
        "intermediate_size": state["vision_tower.encoder.layers.0.mlp.fc1.weight"].shape[0],
        "num_hidden_layers": layers,
        "num_attention_heads": max(1, hidden // 64),
        "image_size": round(positions**0.5) * patch.shape[-1],
        "patch_size": patch.shape[-1],
        "projection_dim": 768,
        "hidden_act": "quick_gelu",
    }
