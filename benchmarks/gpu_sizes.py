"""Sizes of the VISA model computed from its configuration: parameters, weights memory per precision,
and the FLOPs and bytes of each inference and training stage (the physical floors of gpu_check.py).

Parameter counts come from the model built on the meta device (no memory, exact shapes); the rest
is arithmetic on the configuration. Nothing here is measured.

    python benchmarks/gpu_sizes.py [--presets visa-7b visa-13b]    # the weights-memory table
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass

import torch
from torch import nn

from visa_core.model import VisaForSegmentation, preset_config
from visa_core.model.configuration import VisaConfig

PRECISIONS = ("float32", "bfloat16", "float16", "8bit", "4bit")
"""Precisions of the weights: a torch dtype, or bitsandbytes 8-bit / 4-bit over bfloat16."""

QUANTIZATION_SKIPPED = ("sam", "text_hidden_fcs", "vision_tower")
"""Modules ``visa_core.inference.loading`` keeps out of bitsandbytes quantisation; every other
``nn.Linear`` (the LLM's layers and ``lm_head``, ``mm_projector``) is quantised."""

BNB_4BIT_BLOCK = 64
"""Weights per float32 absmax of bitsandbytes 4-bit (no double quantisation, as loading asks)."""


@dataclass(frozen=True)
class ModelSizes:
    """Parameter counts of one configuration.

    Attributes:
        parts: parameters of each top-level part (``language_model``, ``vision_tower``, ``sam``, ...).
        quantized: parameters of the ``nn.Linear`` weights that 8/4-bit loading quantises.
        quantized_rows: output features of those layers (one float32 scale each at 8-bit).
        llm_layers: parameters of the LLM's decoder layers (every token's matrix work).
        lm_head: parameters of the LLM's output projection.
    """

    parts: dict[str, int]
    quantized: int
    quantized_rows: int
    llm_layers: int
    lm_head: int

    @property
    def total(self) -> int:
        return sum(self.parts.values())

    def weights_bytes(self, precision: str) -> float:
        """Bytes of all weights at ``precision`` (one of :data:`PRECISIONS`)."""
        if precision in ("float32", "bfloat16", "float16"):
            return self.total * torch.finfo(getattr(torch, precision)).bits / 8
        rest = (self.total - self.quantized) * 2  # kept in bfloat16
        if precision == "8bit":
            return rest + self.quantized + 4 * self.quantized_rows
        if precision == "4bit":
            return rest + self.quantized / 2 + 4 * math.ceil(self.quantized / BNB_4BIT_BLOCK)
        raise ValueError(f"unknown precision {precision!r}; known: {', '.join(PRECISIONS)}")

    def llm_bytes_per_token(self, precision: str) -> float:
        """Weight bytes one generated token reads: the decoder layers and ``lm_head``."""
        matrices = self.llm_layers + self.lm_head
        if precision == "8bit":
            return matrices
        if precision == "4bit":
            return matrices / 2
        return matrices * torch.finfo(getattr(torch, precision)).bits / 8


def model_sizes(config: VisaConfig) -> ModelSizes:
    """The :class:`ModelSizes` of a configuration (built on the meta device)."""
    with torch.device("meta"):
        model = VisaForSegmentation(config)
    parts = {name: sum(p.numel() for p in child.parameters()) for name, child in model.named_children()}
    quantized = rows = 0
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear) and not any(skip in name for skip in QUANTIZATION_SKIPPED):
            quantized += module.weight.numel()
            rows += module.out_features
    llm = model.language_model
    return ModelSizes(
        parts=parts,
        quantized=quantized,
        quantized_rows=rows,
        llm_layers=sum(p.numel() for p in llm.model.layers.parameters()),
        lm_head=llm.lm_head.weight.numel(),
    )


def vit_flops(tokens: int, width: int, mlp: int, layers: int, attended: int) -> float:
    """Matrix FLOPs of ``layers`` transformer blocks over ``tokens`` tokens, each attending to
    ``attended`` tokens (the sequence, or its window)."""
    linear = 2 * tokens * (4 * width * width + 2 * width * mlp)
    attention = 4 * tokens * attended * width
    return layers * (linear + attention)


def clip_frame_flops(config: VisaConfig) -> float:
    """FLOPs of the CLIP tower on one frame (patch embedding and every layer)."""
    vision = config.vision_config
    patches = config.num_patches
    embed = 2 * patches * 3 * vision.patch_size**2 * vision.hidden_size
    tokens = patches + 1
    layers = vit_flops(tokens, vision.hidden_size, vision.intermediate_size, vision.num_hidden_layers, tokens)
    return embed + layers


def sam_frame_flops(config: VisaConfig) -> float:
    """FLOPs of SAM's image encoder on one frame: windowed blocks (windows padded to whole
    windows), global blocks, patch embedding and neck."""
    sam = config.sam_config
    width, grid, window = sam["encoder_embed_dim"], config.sam_embedding_size, sam["window_size"]
    tokens = grid * grid
    padded = (math.ceil(grid / window) * window) ** 2
    mlp = 4 * width
    global_layers = len(sam["encoder_global_attn_indexes"])
    windowed_layers = sam["encoder_depth"] - global_layers
    attention_linear = 2 * 4 * width * width
    windowed = windowed_layers * (
        padded * attention_linear + 2 * tokens * 2 * width * mlp + 4 * padded * window * window * width
    )
    global_ = vit_flops(tokens, width, mlp, global_layers, tokens)
    embed = 2 * tokens * 3 * sam["patch_size"] ** 2 * width
    out = sam["prompt_embed_dim"]
    neck = 2 * tokens * (width * out + 9 * out * out)
    return windowed + global_ + embed + neck


def llm_flops(config: VisaConfig, sizes: ModelSizes, tokens: int, logits_tokens: int) -> float:
    """Forward FLOPs of the LLM over ``tokens`` causal tokens of one row, ``lm_head`` on
    ``logits_tokens`` of them (1 when generating)."""
    text = config.text_config
    attention = 2 * text.num_hidden_layers * tokens * tokens * text.hidden_size  # causal: half of 4 T^2 d
    return 2 * tokens * sizes.llm_layers + attention + 2 * logits_tokens * sizes.lm_head


def kv_cache_bytes(config: VisaConfig, tokens: int, element_bytes: float) -> float:
    """Bytes of the keys and values of ``tokens`` tokens in every layer."""
    text = config.text_config
    head_dim = text.hidden_size // text.num_attention_heads
    return 2 * text.num_hidden_layers * tokens * text.num_key_value_heads * head_dim * element_bytes


def training_flops(config: VisaConfig, sizes: ModelSizes, rows: int, tokens: int, frames: int) -> float:
    """FLOPs a LoRA training step cannot avoid: the frozen encoders' forward (CLIP on ``frames``
    frames, SAM on one), the LLM's forward on ``rows`` rows of ``tokens`` tokens and its input
    gradients (as much again; attention's backward twice its forward), and ``lm_head``'s weight
    gradient. The recomputation of gradient checkpointing is not counted."""
    text = config.text_config
    attention = 2 * text.num_hidden_layers * tokens * tokens * text.hidden_size
    layers = 2 * tokens * sizes.llm_layers
    head = 2 * tokens * sizes.lm_head
    per_row = 2 * layers + 3 * attention + 3 * head
    return frames * clip_frame_flops(config) + sam_frame_flops(config) + rows * per_row


def readable_bytes(count: float) -> str:
    """``count`` bytes in GiB, or MiB below one GiB."""
    return f"{count / 2**30:.1f} GiB" if count >= 2**30 else f"{count / 2**20:.1f} MiB"


def memory_table(presets: list[str]) -> str:
    """A markdown table: parameters and weights memory of each preset at each precision."""
    header = "| preset | parameters | " + " | ".join(PRECISIONS) + " |"
    lines = [header, "| --- " * (len(PRECISIONS) + 2) + "|"]
    for preset in presets:
        sizes = model_sizes(preset_config(preset))
        cells = [readable_bytes(sizes.weights_bytes(p)) for p in PRECISIONS]
        count = f"{sizes.total / 1e9:.2f} B" if sizes.total >= 1e8 else f"{sizes.total / 1e6:.2f} M"
        lines.append(f"| {preset} | {count} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--presets", nargs="+", default=["visa-7b", "visa-13b"])
    args = parser.parse_args()
    print(memory_table(args.presets))


if __name__ == "__main__":
    main()
