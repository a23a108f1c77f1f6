"""Every shipped training config loads, names registered datasets with valid options, and the
real-size VISA-7B recipe builds (without weights, on the meta device)."""

from __future__ import annotations

from pathlib import Path

import pytest

from visa_core.component import resolve_config
from visa_core.config import load_config
from visa_core.plugins import get_registry

CONFIGS = sorted((Path(__file__).parents[2] / "examples" / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_config_names_registered_datasets_with_valid_options(path):
    config = load_config(path)
    registry = get_registry("dataset")
    for entry in config.data.mixture:
        resolve_config(registry.get(entry.dataset), None, dict(entry.options))


def test_visa_7b_recipe_builds_on_the_meta_device():
    import torch

    from visa_core.model import LoraSettings, VisaForSegmentation, apply_lora, preset_config

    config = load_config(Path(__file__).parents[2] / "examples" / "configs" / "visa-7b.yaml")
    schedule = config.schedule
    assert schedule.batch_size * schedule.grad_accumulation_steps * 8 == 128
    assert schedule.total_steps == 15_000 and schedule.warmup_steps == 100
    groups = {"sem": 0.0, "refer": 0.0, "vqa": 0.0, "reason": 0.0, "chat": 0.0, "video": 0.0}
    group_of = {
        "ade20k": "sem", "cocostuff": "sem", "mapillary": "sem", "paco_lvis": "sem", "pascal_part": "sem",
        "refclef": "refer", "refcoco": "refer", "refcoco+": "refer", "refcocog": "refer",
        "llava_instruct": "vqa", "reasonseg": "reason", "chat_univi": "chat",
        "mevis": "video", "ref_youtube_vos": "video", "davis17": "video", "revos": "video", "lvvis": "video",
    }  # fmt: skip
    for entry in config.data.mixture:
        groups[group_of[entry.dataset]] += entry.weight
    assert [round(w, 2) for w in groups.values()] == [9, 3, 3, 1, 4, 12]
    assert (config.data.clip.min_frames, config.data.clip.max_frames) == (8, 12)
    assert config.data.clip.queries_per_sample == 3

    with torch.device("meta"):
        model = VisaForSegmentation(preset_config(config.model.preset))
        lora = config.lora
        model = apply_lora(model, LoraSettings(lora.r, lora.alpha, lora.dropout, lora.target_modules))
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert model.config.hidden_size == 4096 and model.config.text_config.num_hidden_layers == 32
    assert 7.0e9 < total < 8.0e9, total
    assert 0.2e9 < trainable < 0.4e9, trainable  # LoRA + embeddings + lm_head + mask decoder + fcs
