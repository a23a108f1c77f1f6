"""``convert_checkpoint``: a published checkpoint (+ CLIP / SAM files) -> a VISA model folder.

Every source key is accounted for (used, merged or ignored with a reason); a key that no rule
knows, a key the model needs that no source gives, or a shape mismatch is a ``CheckpointError``
that lists them.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn

from visa_core.errors import CheckpointError
from visa_core.model.checkpoints.layouts import (
    CLIP_RULES,
    MODEL_RULES,
    SAM_RULES,
    KeyAccount,
    apply_rules,
    merge_old_lora,
    strip_peft_prefix,
)
from visa_core.model.checkpoints.reading import load_state_dict, read_json
from visa_core.model.checkpoints.shapes import (
    clip_config_from_weights,
    cluster_sizes_from_config,
    sam_config_from_weights,
    text_config_from_weights,
)
from visa_core.model.configuration import VisaConfig
from visa_core.model.folders import image_settings_for
from visa_core.model.presets import CLIP_VIT_L14_224
from visa_core.model.processor import VisaProcessor

LAYOUTS = ("visa", "lisa", "chat-univi")
ACCOUNT_FILE = "conversion_account.json"


@dataclass
class ConversionResult:
    """The written folder, its configuration and the account of every source key."""

    out: Path
    config: VisaConfig
    accounts: list[KeyAccount] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line per (origin, action) with counts, then the notes."""
        counts = Counter((a.origin, a.action, a.reason) for a in self.accounts)
        lines = [
            f"{origin}: {count} keys {action}" + (f" ({reason})" if reason and action == "ignored" else "")
            for (origin, action, reason), count in sorted(counts.items())
        ]
        return "\n".join([*lines, *self.notes])


def _clip_vision_config(clip_dir: Path | None) -> dict:
    if clip_dir is None:
        return dict(CLIP_VIT_L14_224)
    raw = read_json(clip_dir / "config.json")
    vision = raw.get("vision_config", raw)
    keys = (
        "hidden_size",
        "intermediate_size",
        "num_hidden_layers",
        "num_attention_heads",
        "image_size",
        "patch_size",
        "projection_dim",
        "hidden_act",
        "layer_norm_eps",
    )
    return {k: vision[k] for k in keys if k in vision}


def _add_token_rows(state: dict[str, torch.Tensor], processor: VisaProcessor, notes: list[str]) -> None:
    """Grow ``embed_tokens`` and ``lm_head`` to the rows the tokenizer needs for ``[SEG]`` (and the
    prompt style's tokens, LISA's ``<im_start>`` / ``<im_end>``); new rows = mean of the others."""
    rows = processor.embedding_rows
    added = " and ".join(["[SEG]", *processor.style.special_tokens])
    for key in ("language_model.model.embed_tokens.weight", "language_model.lm_head.weight"):
        weight = state[key]
        if weight.shape[0] < rows:
            extra = weight.float().mean(0, keepdim=True).expand(rows - weight.shape[0], -1).to(weight.dtype)
            state[key] = torch.cat([weight, extra])
            notes.append(f"{key}: {weight.shape[0]} -> {rows} rows for {added} (new rows = mean row)")


def _fresh_text_hidden_fcs(config: VisaConfig, dtype: torch.dtype, seed: int) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    hidden = config.hidden_size
    head = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, config.out_dim))
    return {f"text_hidden_fcs.{k}": v.to(dtype) for k, v in head.state_dict().items()}


def convert_checkpoint(
    layout: str,
    src: str | Path,
    out: str | Path,
    *,
    clip: str | Path | None = None,
    sam: str | Path | None = None,
    tokenizer: str | Path | None = None,
    lora_alpha: float = 16.0,
    seed: int = 0,
) -> ConversionResult:
    """Convert ``src`` in a published ``layout`` (``visa``, ``lisa`` or ``chat-univi``) to ``out``.

    ``visa`` / ``lisa``: merged model folders, or a ``zero_to_fp32`` training checkpoint (keys
    ``base_model.model.*`` with LoRA pairs, merged with ``alpha / r``). ``chat-univi``: the base
    LLM folder; SAM comes from ``sam`` (``sam_vit_h_4b8939.pth``) and ``text_hidden_fcs`` is newly
    initialised. The CLIP tower comes from the ``clip`` folder unless ``src`` contains it. The
    tokenizer is read from ``tokenizer`` or ``src`` and gets ``[SEG]`` / ``<image>``. ``lisa``
    folders get the ``lisa`` prompt style (saved in ``visa_processor.json``: one image of 256
    patch tokens, LISA's ``<im_start><image><im_end>`` questions and answers).
    """
    from huggingface_hub import save_torch_state_dict

    from visa_core.model.modeling import VisaForSegmentation

    if layout not in LAYOUTS:
        raise CheckpointError(f"unknown checkpoint layout {layout!r}; choose one of {', '.join(LAYOUTS)}")
    src, out = Path(src), Path(out)
    source_dir = src if src.is_dir() else src.parent
    config_file = source_dir / "config.json"
    source_config = read_json(config_file)
    notes: list[str] = []

    state, had_peft = strip_peft_prefix(load_state_dict(src))
    accounts: list[KeyAccount] = []
    if had_peft:
        state, merged = merge_old_lora(state, lora_alpha, src.name)
        accounts += merged
        notes.append(
            f"training checkpoint: base_model.model. prefix removed, {len(merged) // 2} LoRA pairs merged"
        )
    target, used, unknown = apply_rules(state, MODEL_RULES, src.name)
    accounts += used
    for extra_path, rules in ((sam, SAM_RULES), (clip, CLIP_RULES)):
        if extra_path is not None:
            extra_state = load_state_dict(extra_path)
            renamed, used, extra_unknown = apply_rules(extra_state, rules, Path(extra_path).name)
            duplicates = sorted(set(renamed) & set(target))
            if duplicates:
                raise CheckpointError(f"{extra_path}: keys also given by {src}: {duplicates[:10]}")
            target.update(renamed)
            accounts += used
            unknown += [f"{Path(extra_path).name}:{k}" for k in extra_unknown]
    if unknown:
        raise CheckpointError(
            f"{len(unknown)} unexpected source keys (no rule knows them): {sorted(unknown)[:20]}"
        )

    processor = VisaProcessor.from_pretrained(
        Path(tokenizer) if tokenizer else source_dir, prompt_style="lisa" if layout == "lisa" else "visa"
    )
    dtype = target["language_model.model.embed_tokens.weight"].dtype
    if "language_model.lm_head.weight" in target:
        _add_token_rows(target, processor, notes)
    text_config = text_config_from_weights(target, source_config, config_file)
    has_sam = any(k.startswith("sam.") for k in target)
    sam_config = sam_config_from_weights(target, source_config, config_file) if has_sam else None
    config = VisaConfig(
        text_config=text_config,
        vision_config=(
            clip_config_from_weights(target, source_config, config_file)
            if clip is None and "vision_tower.embeddings.patch_embedding.weight" in target
            else _clip_vision_config(Path(clip) if clip else None)
        ),
        mm_vision_select_layer=int(source_config.get("mm_vision_select_layer", -2)),
        cluster_sizes=cluster_sizes_from_config(source_config, layout),
        cluster_knn=[5, 3, 3][: len(cluster_sizes_from_config(source_config, layout))],
        sam_config=sam_config,
        out_dim=(sam_config or {}).get("prompt_embed_dim", 256),
        seg_token_id=processor.seg_token_id,
        image_token_id=processor.image_token_id,
        dtype=dtype,
    )
    if layout == "chat-univi" and not any(k.startswith("text_hidden_fcs.") for k in target):
        target.update(_fresh_text_hidden_fcs(config, dtype, seed))
        notes.append("text_hidden_fcs: newly initialised (not part of a Chat-UniVi checkpoint)")

    with torch.device("meta"):
        expected = {k: v.shape for k, v in VisaForSegmentation(config).state_dict().items()}
    missing = sorted(set(expected) - set(target))
    unexpected = sorted(set(target) - set(expected))
    wrong = sorted(k for k in set(expected) & set(target) if tuple(target[k].shape) != tuple(expected[k]))
    if missing or unexpected or wrong:
        hint = (
            " (the CLIP tower is not in this checkpoint: pass its folder)"
            if any(k.startswith("vision_tower.") for k in missing)
            else ""
        )
        raise CheckpointError(
            f"converting {src}: {len(missing)} missing keys {missing[:20]}{hint}; "
            f"{len(unexpected)} unexpected keys {unexpected[:20]}; {len(wrong)} with wrong shapes "
            f"{[(k, tuple(target[k].shape), tuple(expected[k])) for k in wrong[:10]]}"
        )
    out.mkdir(parents=True, exist_ok=True)
    config.architectures = ["VisaForSegmentation"]
    config.save_pretrained(str(out))
    save_torch_state_dict({k: v.contiguous() for k, v in target.items()}, str(out), max_shard_size="5GB")
    processor.images = image_settings_for(config)
    processor.save_pretrained(out)
    result = ConversionResult(out, config, accounts, notes)
    (out / ACCOUNT_FILE).write_text(json.dumps([asdict(a) for a in accounts], indent=1) + "\n")
    return result
