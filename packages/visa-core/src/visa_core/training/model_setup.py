"""Building the model and processor a run trains, and exporting the trained model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from visa_core.config import ENCODERS, LoraConfig, ModelConfig
from visa_core.errors import CheckpointError


def build_model(model: ModelConfig, lora: LoraConfig) -> tuple[Any, Any]:
    """``(VisaForSegmentation, VisaProcessor)`` from ``model.path`` or ``model.preset`` (random weights).

    Trainable parameters: the original's (LoRA on the LLM plus embeddings, ``lm_head``, mask
    decoder and ``text_hidden_fcs``) when ``lora.enabled``, else the whole LLM, mask decoder and
    ``text_hidden_fcs``; also the encoders (CLIP tower, projector, SAM encoders) not named in
    ``model.frozen_encoders`` (training a random-weight preset from scratch).
    """
    from visa_core.model import VisaForSegmentation, VisaProcessor

    if model.path is not None:
        network = VisaForSegmentation.from_pretrained(model.path)
        processor = VisaProcessor.from_pretrained(model.path)
    else:
        assert model.preset is not None  # ModelConfig guarantees a path or a preset
        network, processor = _from_preset(model.preset)
    return prepare_for_training(network, model, lora), processor


def prepare_for_training(network: Any, model: ModelConfig, lora: LoraConfig) -> Any:
    """Gradient checkpointing, LoRA and the trainable parameters of :func:`build_model` applied
    to a built ``VisaForSegmentation`` (returned, LoRA-wrapped when ``lora.enabled``)."""
    from visa_core.model import LoraSettings, apply_lora

    if model.gradient_checkpointing:
        network.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if lora.enabled:
        settings = LoraSettings(
            r=lora.r, alpha=lora.alpha, dropout=lora.dropout, target_modules=lora.target_modules
        )
        network = apply_lora(network, settings)
    for name in ENCODERS:
        network.get_submodule(name).requires_grad_(name not in model.frozen_encoders)
    return network


def _from_preset(preset: str) -> tuple[Any, Any]:
    """A random-weight model of ``preset``; only ``tiny`` ships its tokenizer (real presets need
    a model folder holding the Chat-UniVi tokenizer: set ``model.path``)."""
    from visa_core.model import VisaForSegmentation, VisaProcessor, preset_config
    from visa_core.model.processor import ImageSettings
    from visa_core.model.tokenization import build_tiny_tokenizer

    config = preset_config(preset)
    if preset != "tiny":
        raise CheckpointError(
            f"model.preset {preset!r} has no built-in tokenizer or weights: set model.path to a VISA "
            "model folder (e.g. converted Chat-UniVi + SAM weights)"
        )
    images = ImageSettings(
        clip_size=config.vision_config.image_size, sam_size=config.sam_config["image_size"]
    )
    return VisaForSegmentation(config), VisaProcessor(build_tiny_tokenizer(), images)


def export_model(network: Any, processor: Any, folder: Path, *, merge_lora: bool) -> None:
    """Write the trained model (LoRA merged) and its processor with ``save_pretrained``."""
    if merge_lora:
        network = network.merge_lora()
    network.save_pretrained(folder)
    processor.save_pretrained(folder)


def describe_model_folder(network: Any, processor: Any, folder: Path) -> None:
    """Write ``network``'s ``config.json`` and ``processor``'s files into ``folder`` (beside weights
    written elsewhere); models and processors without ``save_pretrained`` are left out."""
    config = getattr(network, "config", None)
    if hasattr(config, "save_pretrained"):
        config.save_pretrained(folder)
    if hasattr(processor, "save_pretrained"):
        processor.save_pretrained(folder)
