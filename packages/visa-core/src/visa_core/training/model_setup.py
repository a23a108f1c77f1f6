"""Building the model and processor a run trains, and exporting the trained model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from visa_core.config import LoraConfig, ModelConfig


def build_model(model: ModelConfig, lora: LoraConfig) -> tuple[Any, Any]:
    """``(VisaForSegmentation, VisaProcessor)`` from ``model.path`` or the ``model.preset`` (random
    weights), with LoRA applied when ``lora.enabled`` (otherwise every parameter trains)."""
    from visa_core.model import (
        LoraSettings,
        VisaForSegmentation,
        VisaProcessor,
        apply_lora,
        preset_config,
    )

    if model.path is not None:
        network = VisaForSegmentation.from_pretrained(model.path)
        processor = VisaProcessor.from_pretrained(model.path)
    else:
        assert model.preset is not None  # ModelConfig guarantees path or preset
        network = VisaForSegmentation(preset_config(model.preset))
        processor = VisaProcessor.for_config(network.config)
    if model.gradient_checkpointing:
        network.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if lora.enabled:
        network = apply_lora(
            network,
            LoraSettings(
                r=lora.r, alpha=lora.alpha, dropout=lora.dropout, target_modules=lora.target_modules
            ),
        )
    return network, processor


def export_model(network: Any, processor: Any, folder: Path, *, merge_lora: bool) -> None:
    """Write the trained model (LoRA merged) and its processor with ``save_pretrained``."""
    if merge_lora:
        network.merge_lora()
    network.save_pretrained(folder)
    processor.save_pretrained(folder)
