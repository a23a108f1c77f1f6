"""LoRA on the LLM (peft) and the original's choice of trainable parameters."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from torch import nn

if TYPE_CHECKING:
    from visa_core.model.modeling import VisaForSegmentation

FULLY_TRAINED = ("embed_tokens", "lm_head", "sam.mask_decoder.", "text_hidden_fcs.")
"""Name fragments of parameters trained in full next to LoRA (as the original)."""


@dataclass(frozen=True)
class LoraSettings:
    """LoRA hyper-parameters: rank ``r``, ``alpha`` (scale ``alpha / r``), dropout, LLM module names."""

    r: int = 8
    alpha: int = 16
    dropout: float = 0.05
    target_modules: tuple[str, ...] = field(default=("q_proj", "v_proj"))

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> LoraSettings:
        return cls(**{**values, "target_modules": tuple(values["target_modules"])})


def inject_lora(language_model: nn.Module, settings: LoraSettings) -> None:
    """Put LoRA layers (adapter ``default``) into ``language_model``'s target linear layers, in place."""
    from peft import LoraConfig, inject_adapter_in_model

    config = LoraConfig(
        r=settings.r,
        lora_alpha=settings.alpha,
        lora_dropout=settings.dropout,
        target_modules=list(settings.target_modules),
        bias="none",
    )
    inject_adapter_in_model(config, language_model)


def set_trainable_parameters(model: VisaForSegmentation) -> None:
    """LoRA weights, ``embed_tokens``, ``lm_head``, the SAM mask decoder and ``text_hidden_fcs``
    trainable; everything else (CLIP, projector, LLM base weights, SAM encoders) frozen."""
    for name, parameter in model.named_parameters():
        parameter.requires_grad_("lora_" in name or any(part in name for part in FULLY_TRAINED))


def apply_lora(model: VisaForSegmentation, settings: LoraSettings | None = None) -> VisaForSegmentation:
    """Add LoRA to the LLM of ``model`` and set the trainable parameters; returns ``model``.

    The settings are recorded in ``model.config.lora`` so that a saved model reloads with its
    LoRA layers.
    """
    settings = settings or LoraSettings()
    if model.config.lora is not None:
        raise ValueError("the model already has LoRA layers (merge them first)")
    inject_lora(model.language_model, settings)
    model.config.lora = asdict(settings) | {"target_modules": list(settings.target_modules)}
    set_trainable_parameters(model)
    return model


def merge_lora(model: VisaForSegmentation) -> VisaForSegmentation:
    """Merge every LoRA layer into its base linear layer and remove it; ``config.lora`` becomes None."""
    from peft.tuners.lora import LoraLayer

    targets = [
        (name, module)
        for name, module in model.language_model.named_modules()
        if isinstance(module, LoraLayer)
    ]
    for name, module in targets:
        module.merge()
        parent_name, _, child = name.rpartition(".")
        parent = model.language_model.get_submodule(parent_name) if parent_name else model.language_model
        setattr(parent, child, module.get_base_layer())
    model.config.lora = None
    return model
