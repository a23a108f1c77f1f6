"""Model shapes read from published weights and the ``config.json`` beside them.

Most shapes are in the tensors. Attention head counts are not (except SAM's encoder, whose
relative-position tables have one column per head channel): they come from ``config.json``, and
without it only for the published widths (:data:`PUBLISHED_HEADS`); any other width without them
is refused with an error naming the file and the field to add.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import torch

from visa_core.errors import CheckpointError

PUBLISHED_HEADS: dict[str, dict[int, int]] = {
    "num_attention_heads": {4096: 32, 5120: 40},
    "vision_config.num_attention_heads": {1024: 16},
    "sam_config.decoder_num_heads": {256: 8},
}
"""Head counts of the published widths: Vicuna / Chat-UniVi 7B and 13B (128-channel heads), CLIP
ViT-L/14, SAM's mask decoder (the same in ViT-B/L/H)."""


def head_count(source_config: dict[str, Any], field: str, width: int, what: str, config_file: Path) -> int:
    """The head count ``field`` (``a.b`` = key ``b`` of section ``a``) of ``config_file``, else the
    published one for ``width``.

    Raises:
        CheckpointError: neither is known, or the count does not divide ``width``.
    """
    section, _, key = field.rpartition(".")
    values = source_config.get(section) if section else source_config
    heads = values.get(key) if isinstance(values, dict) else None
    if heads is None:
        heads = PUBLISHED_HEADS[field].get(width)
    if heads is None:
        state = "has no" if config_file.is_file() else "is missing, so there is no"
        published = ", ".join(str(w) for w in PUBLISHED_HEADS[field])
        raise CheckpointError(
            f"{config_file} {state} {field}: the {what} is {width} wide (published widths: {published}) "
            f"and its attention head count is not in the weights; put a config.json with {field} "
            "beside the checkpoint"
        )
    if not isinstance(heads, int) or heads < 1 or width % heads:
        raise CheckpointError(f"{config_file}: {field} = {heads!r} does not divide the {what} width {width}")
    return heads


def sam_config_from_weights(
    state: dict[str, torch.Tensor], source_config: dict[str, Any], config_file: Path
) -> dict[str, Any]:
    """SAM shapes from ``sam.*`` tensors: encoder width/depth/heads, global blocks, window, sizes.

    Heads of the encoder come from the relative-position tables (``head_dim`` columns); global
    blocks have tables of ``2 * grid - 1`` rows, windowed ones ``2 * window - 1``. The decoder's
    head count is not in the shapes: ``sam_config.decoder_num_heads`` of ``config_file``, else
    SAM's 8 for its 256-wide decoder (:func:`head_count`).
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
    try:
        rel_rows = {i: state[f"sam.image_encoder.blocks.{i}.attn.rel_pos_h"].shape for i in blocks}
    except KeyError as error:
        raise CheckpointError(f"SAM weights are incomplete: {error.args[0]} is missing") from error
    if not blocks:
        raise CheckpointError("SAM weights are incomplete: no sam.image_encoder.blocks.*")
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
        "decoder_num_heads": head_count(
            source_config, "sam_config.decoder_num_heads", prompt_dim, "SAM mask decoder", config_file
        ),
        "iou_head_hidden_dim": iou_hidden,
    }


def text_config_from_weights(
    state: dict[str, torch.Tensor], source_config: dict[str, Any], config_file: Path
) -> dict[str, Any]:
    """Llama shapes from ``language_model.*`` tensors plus heads / eps / positions / rope from the
    config (heads without it: the published 7B / 13B ones, :func:`head_count`)."""
    try:
        vocab, hidden = state["language_model.model.embed_tokens.weight"].shape
        intermediate = state["language_model.model.layers.0.mlp.gate_proj.weight"].shape[0]
        kv_rows = state["language_model.model.layers.0.self_attn.k_proj.weight"].shape[0]
    except KeyError as error:
        raise CheckpointError(f"language-model weights are incomplete: {error.args[0]} is missing") from error
    layers = len({int(m[1]) for k in state if (m := re.match(r"language_model\.model\.layers\.(\d+)\.", k))})
    heads = head_count(source_config, "num_attention_heads", hidden, "language model", config_file)
    head_dim = hidden // heads
    if kv_rows % head_dim:
        raise CheckpointError(
            f"{config_file}: {heads} heads of {head_dim} channels do not fit the {kv_rows}-row k_proj weights"
        )
    return {
        "hidden_size": hidden,
        "intermediate_size": intermediate,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "num_key_value_heads": kv_rows // head_dim,
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


def clip_config_from_weights(
    state: dict[str, torch.Tensor], source_config: dict[str, Any], config_file: Path
) -> dict[str, Any]:
    """CLIP vision shapes from ``vision_tower.*`` tensors (training checkpoints carry the tower).

    Heads are not in the shapes: ``vision_config.num_attention_heads`` of ``config_file``, else
    ViT-L/14's 16 for its 1024 channels (:func:`head_count`).
    """
    patch = state["vision_tower.embeddings.patch_embedding.weight"]
    positions = state["vision_tower.embeddings.position_embedding.weight"].shape[0] - 1
    hidden = patch.shape[0]
    layers = len({int(m[1]) for k in state if (m := re.match(r"vision_tower\.encoder\.layers\.(\d+)\.", k))})
    return {
        "hidden_size": hidden,
        "intermediate_size": state["vision_tower.encoder.layers.0.mlp.fc1.weight"].shape[0],
        "num_hidden_layers": layers,
        "num_attention_heads": head_count(
            source_config, "vision_config.num_attention_heads", hidden, "CLIP tower", config_file
        ),
        "image_size": round(positions**0.5) * patch.shape[-1],
        "patch_size": patch.shape[-1],
        "projection_dim": 768,
        "hidden_act": "quick_gelu",
    }
