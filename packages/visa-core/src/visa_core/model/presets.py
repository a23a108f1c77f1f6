"""Named configurations: ``tiny`` (tests and demos on a CPU) and the real ``visa-7b`` / ``visa-13b``."""

from __future__ import annotations

from typing import Any

from visa_core.model.configuration import VisaConfig

CLIP_VIT_L14_224: dict[str, Any] = {
    "hidden_size": 1024,
    "intermediate_size": 4096,
    "num_hidden_layers": 24,
    "num_attention_heads": 16,
    "image_size": 224,
    "patch_size": 14,
    "projection_dim": 768,
    "hidden_act": "quick_gelu",
}
"""``openai/clip-vit-large-patch14``: 16 x 16 = 256 patch tokens of 1024 channels."""

TINY_TOKENIZER_VOCAB = 640
"""Trained vocabulary of the tiny tokenizer; ``[SEG]`` and ``<image>`` follow (640, 641)."""


def _llama(hidden: int, intermediate: int, layers: int, heads: int, vocab: int) -> dict[str, Any]:
    return {
        "hidden_size": hidden,
        "intermediate_size": intermediate,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "num_key_value_heads": heads,
        "vocab_size": vocab,
        "max_position_embeddings": 4096,
        "rms_norm_eps": 1e-5,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "pad_token_id": 0,
        "tie_word_embeddings": False,
    }


def _tiny() -> VisaConfig:
    return VisaConfig(
        text_config=_llama(64, 128, 2, 4, TINY_TOKENIZER_VOCAB + 2),
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "image_size": 56,
            "patch_size": 7,
            "projection_dim": 32,
        },
        cluster_sizes=(16, 8, 4),
        cluster_knn=(5, 3, 3),
        sam_config={
            "image_size": 128,
            "patch_size": 8,  # 16 x 16 image tokens: masks at 64 x 64 (SAM's 16 would give 32 x 32)
            "encoder_embed_dim": 32,
            "encoder_depth": 2,
            "encoder_num_heads": 2,
            "encoder_global_attn_indexes": [1],
            "window_size": 4,
            "prompt_embed_dim": 32,
            "mask_in_chans": 4,
            "decoder_mlp_dim": 64,
            "decoder_num_heads": 2,
            "iou_head_hidden_dim": 32,
        },
        out_dim=32,
        seg_token_id=TINY_TOKENIZER_VOCAB,
        image_token_id=TINY_TOKENIZER_VOCAB + 1,
    )


def _real(hidden: int, intermediate: int, layers: int, heads: int) -> VisaConfig:
    return VisaConfig(
        text_config=_llama(hidden, intermediate, layers, heads, 32001),
        vision_config=dict(CLIP_VIT_L14_224),
        seg_token_id=32000,
        image_token_id=32001,
    )


PRESETS = {
    "tiny": _tiny,
    "visa-7b": lambda: _real(4096, 11008, 32, 32),
    "visa-13b": lambda: _real(5120, 13824, 40, 40),
}


def preset_config(name: str) -> VisaConfig:
    """A fresh :class:`VisaConfig` for a preset name (``tiny``, ``visa-7b``, ``visa-13b``).

    Raises:
        KeyError: an unknown preset (the message lists the known ones).
    """
    if name not in PRESETS:
        raise KeyError(f"unknown model preset {name!r}; known presets: {', '.join(PRESETS)}")
    return PRESETS[name]()
