"""Write tiny checkpoints in the published layouts (merged VISA / LISA folders, the training
checkpoint, Chat-UniVi base folders, SAM ``.pth`` files, CLIP folders) from one of our models."""

from __future__ import annotations

import json
import re
from pathlib import Path

import torch
from safetensors.torch import save_file

PUBLISHED_NAMES = (
    (r"^language_model\.model\.", "model."),
    (r"^language_model\.lm_head\.", "lm_head."),
    (r"^mm_projector\.", "model.mm_projector."),
    (r"^text_hidden_fcs\.([02])\.", r"model.text_hidden_fcs.0.\1."),
    (r"^sam\.", "model.visual_model."),
    (r"^vision_tower\.", "model.vision_tower.vision_tower.vision_model."),
)


def published_state(model, with_clip: bool = False) -> dict[str, torch.Tensor]:
    """Our state dict under the original key names (+ rotary ``inv_freq`` buffers, as 4.31 saved)."""
    state = {}
    for key, value in model.state_dict().items():
        if key.startswith("vision_tower.") and not with_clip:
            continue
        key = key.replace(".base_layer.", ".")  # peft >= 0.7 -> 0.4 naming
        for pattern, replacement in PUBLISHED_NAMES:
            if re.search(pattern, key):
                state[re.sub(pattern, replacement, key)] = value.clone()
                break
    head_dim = model.config.hidden_size // model.config.text_config.num_attention_heads
    for layer in range(model.config.text_config.num_hidden_layers):
        state[f"model.layers.{layer}.self_attn.rotary_emb.inv_freq"] = torch.rand(head_dim // 2)
    return state


def llm_config(model, model_type: str = "ChatUniVi", head_counts: bool = True) -> dict:
    """A published ``config.json`` (ChatUniVi / LLaVA keys); ``head_counts`` adds the CLIP and SAM
    decoder head counts, which tiny (unpublished) widths need and published configs lack."""
    text = model.config.text_config
    extra = {
        "vision_config": {"num_attention_heads": model.config.vision_config.num_attention_heads},
        "sam_config": {"decoder_num_heads": model.config.sam_config["decoder_num_heads"]},
    }
    return {
        **(extra if head_counts else {}),
        "architectures": ["VISAForCausalLM"],
        "model_type": model_type,
        "hidden_size": text.hidden_size,
        "intermediate_size": text.intermediate_size,
        "num_attention_heads": text.num_attention_heads,
        "num_hidden_layers": text.num_hidden_layers,
        "rms_norm_eps": text.rms_norm_eps,
        "max_position_embeddings": text.max_position_embeddings,
        "vocab_size": text.vocab_size,
        "mm_hidden_size": model.config.mm_hidden_size,
        "mm_vision_select_layer": -2,
        "mm_use_im_start_end": True,
        "train_mask_decoder": True,
        "out_dim": model.config.out_dim,
        "config": {
            "use_cluster": True,
            **{f"spatial_cluster_rate{i}": n for i, n in enumerate(model.config.cluster_sizes)},
        },
    }


def write_sharded_bin(state: dict[str, torch.Tensor], folder: Path, shards: int = 2) -> None:
    keys = sorted(state)
    weight_map = {}
    for index in range(shards):
        name = f"pytorch_model-{index + 1:05d}-of-{shards:05d}.bin"
        part = {k: state[k] for k in keys[index::shards]}
        torch.save(part, folder / name)
        weight_map.update(dict.fromkeys(part, name))
    (folder / "pytorch_model.bin.index.json").write_text(
        json.dumps({"metadata": {}, "weight_map": weight_map})
    )


def write_merged_folder(model, processor, folder: Path) -> Path:
    """A merged VISA/LISA folder: sharded ``.bin``, ChatUniVi config, tokenizer, CLIP absent."""
    folder.mkdir(parents=True)
    write_sharded_bin(published_state(model), folder)
    (folder / "config.json").write_text(json.dumps(llm_config(model)))
    processor.tokenizer.save_pretrained(str(folder))
    return folder


def write_clip_folder(model, folder: Path) -> Path:
    """A CLIP folder (``openai/clip-vit-large-patch14`` layout): vision and text towers."""
    folder.mkdir(parents=True)
    state = {"vision_model." + k: v.clone() for k, v in model.vision_tower.state_dict().items()}
    state = {k: v for k, v in state.items() if not k.endswith("position_ids")}
    hidden = model.config.mm_hidden_size
    state["text_model.embeddings.token_embedding.weight"] = torch.randn(10, hidden)
    state["text_projection.weight"] = torch.randn(8, hidden)
    state["visual_projection.weight"] = torch.randn(8, hidden)
    state["logit_scale"] = torch.tensor(2.6592)
    save_file(state, str(folder / "model.safetensors"))
    vision = model.config.vision_config.to_dict()
    (folder / "config.json").write_text(
        json.dumps({"model_type": "clip", "vision_config": vision, "text_config": {}})
    )
    return folder


def write_sam_file(model, path: Path) -> Path:
    """A ``sam_vit_h_4b8939.pth``-style state dict (``image_encoder.*``, ...)."""
    torch.save({k: v.clone() for k, v in model.sam.state_dict().items()}, path)
    return path
