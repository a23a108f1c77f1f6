"""The loop on the real ``tiny`` preset with LoRA: export, reload, resume equals uninterrupted."""

from __future__ import annotations

import dataclasses

import torch
from safetensors.torch import load_file

from visa_core.config import LoraConfig, ModelConfig, ScheduleConfig
from visa_core.training import train


def test_tiny_lora_run_resumes_exactly_and_exports_a_loadable_model(standin_config, tmp_path):
    from visa_core.model import VisaForSegmentation, VisaProcessor

    config = dataclasses.replace(
        standin_config,
        model=ModelConfig(preset="tiny"),
        lora=LoraConfig(enabled=True, r=4, alpha=8),
        schedule=ScheduleConfig(
            epochs=2, steps_per_epoch=2, warmup_steps=1, batch_size=1, grad_accumulation_steps=2
        ),
        data=dataclasses.replace(
            standin_config.data,
            clip=dataclasses.replace(standin_config.data.clip, min_frames=2, max_frames=3),
        ),
    )
    whole = dataclasses.replace(config, output_dir=tmp_path / "whole")
    result = train(whole)
    assert result.step == 4 and all(torch.isfinite(torch.tensor(v)) for v in result.last_losses.values())

    broken = dataclasses.replace(config, output_dir=tmp_path / "broken")
    assert train(broken, stop_after=3).model_dir is None  # checkpoint at step 2 survives
    assert train(broken).step == 4

    expected = load_file(whole.output_dir / "model" / "model.safetensors")
    got = load_file(broken.output_dir / "model" / "model.safetensors")
    assert expected.keys() == got.keys() and not any("lora_" in key for key in got)  # LoRA merged
    for key in expected:
        torch.testing.assert_close(got[key], expected[key], rtol=1e-5, atol=1e-6)

    model = VisaForSegmentation.from_pretrained(whole.output_dir / "model")
    processor = VisaProcessor.from_pretrained(whole.output_dir / "model")
    assert model.config.lora is None and processor.seg_token_id == model.config.seg_token_id


def test_an_intermediate_checkpoint_is_a_model_folder_that_predict_and_export_read(standin_config, tmp_path):
    from visa_core.inference.loading import load_model
    from visa_core.model.folders import export_model_folder
    from visa_core.training import RunFolder

    config = dataclasses.replace(
        standin_config,
        model=ModelConfig(preset="tiny"),
        lora=LoraConfig(enabled=True, r=4, alpha=8),
        schedule=ScheduleConfig(epochs=1, steps_per_epoch=1, batch_size=1),
    )
    train(config)
    (checkpoint,) = RunFolder(config.output_dir).list_checkpoints()
    model, processor = load_model(checkpoint)
    assert model.config.lora is not None and processor.seg_token_id == model.config.seg_token_id
    notes = export_model_folder(checkpoint, tmp_path / "merged", merge_lora=True)
    assert notes == ["merged LoRA into the language model"]
    merged = load_file(tmp_path / "merged" / "model.safetensors")
    final = load_file(config.output_dir / "model" / "model.safetensors")
    assert merged.keys() == final.keys()
    for key in final:
        torch.testing.assert_close(merged[key], final[key])
