"""The EVA ViT-G vision tower of LLaMA-VID (LAVIS ``eva_vit_g.pth``), written with plain torch.

Pre-norm ViT: a 14x14 patch embedding, a CLS token, learned absolute position embeddings, blocks
whose attention has a query and a value bias but no key bias (``attn.q_bias``, ``attn.v_bias``),
exact GELU MLPs, LayerNorm eps 1e-6, and no final norm: the output is the last block's tokens
``[B, 1 + (S / 14)^2, width]`` (CLS first). Module and parameter names are those of the
published state dict (``cls_token``, ``pos_embed``, ``patch_embed.proj``, ``blocks.N.norm1``,
``blocks.N.attn.qkv``, ``blocks.N.attn.proj``, ``blocks.N.norm2``, ``blocks.N.mlp.fc1/fc2``).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping

import torch
from torch import nn
from torch.nn import functional as F

EVA_HEAD_DIM = 88
"""EVA ViT-G's attention head width: the original builds ``num_heads = width // 88`` (16 heads)."""

EVA_G_DEPTH = 39
"""Blocks LLaMA-VID builds (``depth=39``); blocks past this in the weights file are not used."""

_BLOCK = re.compile(r"^blocks\.(\d+)\.")


@dataclasses.dataclass(frozen=True)
class EvaVitConfig:
    """Geometry of the tower; the defaults are EVA ViT-G at 224 px (1408 wide, 39 blocks, 16 heads,
    MLP 6144 = int(1408 * 4.3637)), the LLaMA-VID video models' setting."""

    image_size: int = 224
    patch_size: int = 14
    width: int = 1408
    depth: int = EVA_G_DEPTH
    num_heads: int = 1408 // EVA_HEAD_DIM
    mlp_hidden: int = 6144
    layer_norm_eps: float = 1e-6

    @property
    def grid(self) -> int:
        """Patches per side."""
        return self.image_size // self.patch_size

    @classmethod
    def from_state_dict(
        cls, state: Mapping[str, torch.Tensor], image_size: int = 224, max_depth: int = EVA_G_DEPTH
    ) -> EvaVitConfig:
        """The geometry stored in a weights file: width from ``cls_token``, patch size from
        ``patch_embed.proj.weight``, MLP width from ``blocks.0.mlp.fc1.weight``, depth = blocks in
        the file capped at ``max_depth``, ``width // 88`` heads (at least one)."""
        width = state["cls_token"].shape[-1]
        blocks = {int(m.group(1)) for key in state if (m := _BLOCK.match(key))}
        return cls(
            image_size=image_size,
            patch_size=state["patch_embed.proj.weight"].shape[-1],
            width=width,
            depth=min(len(blocks), max_depth),
            num_heads=max(width // EVA_HEAD_DIM, 1),
            mlp_hidden=state["blocks.0.mlp.fc1.weight"].shape[0],
        )


class PatchEmbed(nn.Module):
    """``[B, 3, S, S]`` -> ``[B, (S / p)^2, width]`` with one strided convolution (``proj``)."""

    def __init__(self, config: EvaVitConfig) -> None:
        super().__init__()
        self.proj = nn.Conv2d(3, config.width, kernel_size=config.patch_size, stride=config.patch_size)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.proj(pixels).flatten(2).transpose(1, 2)


class Attention(nn.Module):
    """Multi-head self-attention with one fused ``qkv`` weight, biases on q and v only."""

    def __init__(self, config: EvaVitConfig) -> None:
        super().__init__()
        self.num_heads = config.num_heads
        self.qkv = nn.Linear(config.width, 3 * config.width, bias=False)
        self.q_bias = nn.Parameter(torch.zeros(config.width))
        self.v_bias = nn.Parameter(torch.zeros(config.width))
        self.proj = nn.Linear(config.width, config.width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, tokens, width = x.shape
        bias = torch.cat([self.q_bias, torch.zeros_like(self.v_bias), self.v_bias])
        qkv = F.linear(x, self.qkv.weight, bias).reshape(batch, tokens, 3, self.num_heads, -1)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v)
        return self.proj(out.transpose(1, 2).reshape(batch, tokens, width))


class Mlp(nn.Module):
    """``fc1`` -> exact GELU -> ``fc2``."""

    def __init__(self, config: EvaVitConfig) -> None:
        super().__init__()
        self.fc1 = nn.Linear(config.width, config.mlp_hidden)
        self.fc2 = nn.Linear(config.mlp_hidden, config.width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    """Pre-norm transformer block (no layer scale, no relative position bias)."""

    def __init__(self, config: EvaVitConfig) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(config.width, eps=config.layer_norm_eps)
        self.attn = Attention(config)
        self.norm2 = nn.LayerNorm(config.width, eps=config.layer_norm_eps)
        self.mlp = Mlp(config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class EvaVisionTransformer(nn.Module):
    """Pixels ``float[B, 3, S, S]`` (CLIP-normalised) -> tokens ``[B, 1 + (S / p)^2, width]``."""

    def __init__(self, config: EvaVitConfig) -> None:
        super().__init__()
        self.config = config
        self.patch_embed = PatchEmbed(config)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, config.width))
        self.pos_embed = nn.Parameter(torch.zeros(1, config.grid**2 + 1, config.width))
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.depth))

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(pixels)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        for block in self.blocks:
            x = block(x)
        return x


def resize_pos_embed(pos_embed: torch.Tensor, grid: int) -> torch.Tensor:
    """``[1, 1 + g^2, C]`` -> ``[1, 1 + grid^2, C]``: the patch part resized bicubically, the CLS
    entry kept (what LLaMA-VID does when the processor's size differs from the weights')."""
    old = math.isqrt(pos_embed.shape[1] - 1)
    if old == grid:
        return pos_embed
    cls_entry, patches = pos_embed[:, :1], pos_embed[:, 1:].float()
    patches = patches.reshape(1, old, old, -1).permute(0, 3, 1, 2)
    patches = F.interpolate(patches, size=(grid, grid), mode="bicubic", align_corners=False)
    patches = patches.permute(0, 2, 3, 1).flatten(1, 2).to(pos_embed.dtype)
    return torch.cat([cls_entry, patches], dim=1)
