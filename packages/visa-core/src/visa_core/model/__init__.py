"""The VISA model: configuration, model, processor, LoRA and presets (imports torch / transformers)."""

from visa_core.model.configuration import VisaConfig
from visa_core.model.lora import LoraSettings, apply_lora, merge_lora
from visa_core.model.modeling import VisaForSegmentation
from visa_core.model.outputs import SegmentationOutput, VisaOutput
from visa_core.model.presets import preset_config
from visa_core.model.processor import VisaProcessor

__all__ = [
    "LoraSettings",
    "SegmentationOutput",
    "VisaConfig",
    "VisaForSegmentation",
    "VisaOutput",
    "VisaProcessor",
    "apply_lora",
    "merge_lora",
    "preset_config",
]
