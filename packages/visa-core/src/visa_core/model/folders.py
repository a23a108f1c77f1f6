"""Writing model folders: a freshly initialised preset, and the LoRA-merged export."""

from __future__ import annotations

from pathlib import Path

import torch

from visa_core.errors import CheckpointError
from visa_core.model.configuration import VisaConfig
from visa_core.model.modeling import VisaForSegmentation
from visa_core.model.presets import preset_config
from visa_core.model.processor import ImageSettings, VisaProcessor
from visa_core.model.tokenization import build_tiny_tokenizer


def image_settings_for(config: VisaConfig) -> ImageSettings:
    """The processor's image sizes for a model configuration."""
    return ImageSettings(clip_size=config.vision_config.image_size, sam_size=config.sam_config["image_size"])


def processor_for(config: VisaConfig, tokenizer_dir: str | Path | None = None) -> VisaProcessor:
    """A processor matching ``config``: the tokenizer of ``tokenizer_dir`` (a Llama tokenizer for
    real models, which prompts are encoded with as transformers 4.31 did, its ``legacy`` mode kept
    when the processor is saved) or, without one, the offline tiny tokenizer. The token ids of
    ``[SEG]`` / ``<image>`` and the vocabulary size are written into ``config``."""
    if tokenizer_dir is not None:
        processor = VisaProcessor.from_pretrained(tokenizer_dir, prompt_style="visa")
        processor.images = image_settings_for(config)
    else:
        processor = VisaProcessor(build_tiny_tokenizer(), image_settings_for(config))
    config.seg_token_id = processor.seg_token_id
    config.image_token_id = processor.image_token_id
    needed = processor.embedding_rows
    if tokenizer_dir is None:
        config.text_config.vocab_size = len(processor.tokenizer)
    elif config.text_config.vocab_size < needed:
        raise CheckpointError(
            f"tokenizer {tokenizer_dir} needs {needed} embedding rows but the preset has "
            f"{config.text_config.vocab_size}"
        )
    return processor


def init_model_folder(
    preset: str, out: str | Path, tokenizer_dir: str | Path | None = None, seed: int = 0
) -> VisaForSegmentation:
    """Write a randomly initialised model of ``preset`` to ``out``: ``config.json``,
    ``model.safetensors``, the tokenizer files and ``visa_processor.json``."""
    config = preset_config(preset)
    if tokenizer_dir is None and preset != "tiny":
        raise CheckpointError(
            f"preset {preset!r} needs the Llama tokenizer folder of its checkpoint (--tokenizer)"
        )
    processor = processor_for(config, tokenizer_dir)
    torch.manual_seed(seed)
    model = VisaForSegmentation(config)
    model.save_pretrained(str(out))
    processor.save_pretrained(out)
    return model


def export_model_folder(src: str | Path, out: str | Path, merge_lora: bool = True) -> list[str]:
    """Load ``src``, merge its LoRA layers (when ``merge_lora``), save a plain folder to ``out``.

    Returns notes on what was done. Raises ``CheckpointError`` when ``src`` is no VISA folder.
    """
    src = Path(src)
    if not (src / "config.json").is_file():
        raise CheckpointError(f"{src}: no config.json (not a VISA model folder)")
    model = VisaForSegmentation.from_pretrained(str(src))
    notes = []
    if model.config.lora is not None and merge_lora:
        model.merge_lora()
        notes.append("merged LoRA into the language model")
    elif model.config.lora is None:
        notes.append("the model has no LoRA layers; exported unchanged")
    else:
        notes.append("LoRA layers kept (loading needs peft)")
    model.save_pretrained(str(out))
    VisaProcessor.from_pretrained(src).save_pretrained(out)
    return notes
