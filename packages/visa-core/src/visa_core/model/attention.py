"""Which attention kernel the LLM uses: flash-attention 2 where it can run, else PyTorch SDPA."""

from __future__ import annotations

import torch
from transformers.utils import is_flash_attn_2_available


def default_attention_implementation() -> str:
    """``"flash_attention_2"`` with CUDA and flash-attn installed, else ``"sdpa"`` (never fails on CPU)."""
    if torch.cuda.is_available() and is_flash_attn_2_available():
        return "flash_attention_2"
    return "sdpa"
