"""Key rules from the published layouts to ours; every source key gets an account entry.

Published merged VISA / LISA folders: ``model.layers.*``, ``model.embed_tokens``, ``model.norm``,
``lm_head``, ``model.mm_projector.*``, ``model.visual_model.{image_encoder,prompt_encoder,
mask_decoder}.*``, ``model.text_hidden_fcs.0.{0,2}.*``; ``model.vision_tower.vision_tower.*``
only in training checkpoints, which also carry ``base_model.model.`` and peft-0.4 LoRA keys
(``...q_proj.lora_A.default.weight``). Chat-UniVi folders hold the LLM and the projector; SAM
files hold ``image_encoder.*`` etc.; CLIP folders hold ``vision_model.*`` and a text tower.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch

# (pattern on the source key, replacement) for the merged / training layouts
MODEL_RULES: tuple[tuple[str, str], ...] = (
    (r"^model\.visual_model\.(image_encoder|prompt_encoder|mask_decoder)\.", r"sam.\1."),
    (r"^model\.text_hidden_fcs\.0\.([02])\.", r"text_hidden_fcs.\1."),
    (r"^model\.mm_projector\.", "mm_projector."),
    (r"^model\.vision_tower\.vision_tower\.vision_model\.", "vision_tower."),
    (r"^model\.(embed_tokens|layers|norm)\b", r"language_model.model.\1"),
    (r"^lm_head\.", "language_model.lm_head."),
)
SAM_RULES: tuple[tuple[str, str], ...] = ((r"^(image_encoder|prompt_encoder|mask_decoder)\.", r"sam.\1."),)
CLIP_RULES: tuple[tuple[str, str], ...] = ((r"^vision_model\.", "vision_tower."),)
"""transformers 5's ``CLIPVisionModel`` has no ``vision_model`` level: its keys start at ``embeddings``."""

IGNORED: tuple[tuple[str, str], ...] = (
    (r"rotary_emb\.inv_freq$", "rotary buffer, recomputed from the config"),
    (r"^(text_model|text_projection|visual_projection|logit_scale)\b", "CLIP text tower, unused by VISA"),
    (r"position_ids$", "position-id buffer, rebuilt by the model"),
)
LORA_KEY = re.compile(r"^(?P<base>.+)\.lora_(?P<part>[AB])(?:\.default)?\.weight$")


@dataclass(frozen=True)
class KeyAccount:
    """What happened to one source key: ``used`` (-> ``target``), ``merged`` or ``ignored``."""

    source: str
    origin: str
    action: str
    target: str = ""
    reason: str = ""


def strip_peft_prefix(state: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], bool]:
    """Remove ``base_model.model.`` (peft wrapping of a training checkpoint) from every key."""
    prefix = "base_model.model."
    if not any(key.startswith(prefix) for key in state):
        return state, False
    return {key.removeprefix(prefix): value for key, value in state.items()}, True


def merge_old_lora(
    state: dict[str, torch.Tensor], alpha: float, origin: str
) -> tuple[dict[str, torch.Tensor], list[KeyAccount]]:
    """Merge peft-0.4 LoRA pairs into their base weights: ``W += alpha / r * B @ A``."""
    pairs: dict[str, dict[str, str]] = {}
    for key in state:
        match = LORA_KEY.match(key)
        if match:
            pairs.setdefault(match["base"], {})[match["part"]] = key
    merged = dict(state)
    accounts = []
    for base, parts in pairs.items():
        weight_key = base + ".weight"
        if set(parts) != {"A", "B"} or weight_key not in state:
            continue  # left for the unexpected-key error
        lora_a, lora_b = state[parts["A"]].float(), state[parts["B"]].float()
        scale = alpha / lora_a.shape[0]
        merged[weight_key] = (state[weight_key].float() + scale * lora_b @ lora_a).to(state[weight_key].dtype)
        for key in parts.values():
            del merged[key]
            accounts.append(KeyAccount(key, origin, "merged", weight_key, f"LoRA (scale {scale:g}) merged"))
    return merged, accounts


def apply_rules(
    state: dict[str, torch.Tensor], rules: tuple[tuple[str, str], ...], origin: str
) -> tuple[dict[str, torch.Tensor], list[KeyAccount], list[str]]:
    """Rename keys by the first matching rule; ignored keys are accounted; the rest are returned."""
    renamed, accounts, unknown = {}, [], []
    for key, value in state.items():
        reason = next((why for pattern, why in IGNORED if re.search(pattern, key)), None)
        if reason is not None:
            accounts.append(KeyAccount(key, origin, "ignored", reason=reason))
            continue
        for pattern, replacement in rules:
            if re.search(pattern, key):
                target = re.sub(pattern, replacement, key)
                renamed[target] = value
                accounts.append(KeyAccount(key, origin, "used", target))
                break
        else:
            unknown.append(key)
    return renamed, accounts, unknown
