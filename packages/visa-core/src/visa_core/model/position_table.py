"""The starting position embeddings of a CLIP tower built with random weights.

CLIP's own initialisation draws them at std 0.02, an order of magnitude below what the patch
embedding passes on, so the frame tokens of a random tower say nothing linear about where a patch
is (measured on the tiny preset: R^2 about 0 for x and y). A 2-D sine-cosine table (MAE's) makes
the position readable from the first step. Loaded CLIP weights replace it.
"""

from __future__ import annotations

import math

import torch

POSITION_TABLE_SCALE = 0.25
"""Factor on the sine-cosine values (spread about 0.13, against about 0.2 for the tiny preset's
patch embeddings of normalised pixels)."""


def sincos_position_table(grid: int, channels: int) -> torch.Tensor:
    """``float32[grid * grid, channels]``, row-major patches: the first half of the channels encodes
    the row, the second the column, each as sines then cosines of ``channels // 4`` frequencies
    (``10000 ** (-i / (channels // 4))`` radians per patch).

    Raises:
        ValueError: ``channels`` not a multiple of 4.
    """
    if channels % 4:
        raise ValueError(f"a 2-D sine-cosine table needs channels divisible by 4, got {channels}")
    quarter = channels // 4
    frequencies = torch.exp(-math.log(10000.0) * torch.arange(quarter, dtype=torch.float64) / quarter)
    rows, cols = torch.meshgrid(
        torch.arange(grid, dtype=torch.float64), torch.arange(grid, dtype=torch.float64), indexing="ij"
    )

    def encode(coordinate: torch.Tensor) -> torch.Tensor:
        angles = coordinate.reshape(-1, 1) * frequencies
        return torch.cat([angles.sin(), angles.cos()], dim=1)

    return torch.cat([encode(rows), encode(cols)], dim=1).float()


def init_clip_positions(position_embedding: torch.nn.Embedding, grid: int) -> None:
    """Set a CLIP tower's ``[1 + grid * grid, C]`` position embeddings in place: zeros for the class
    token, :data:`POSITION_TABLE_SCALE` x :func:`sincos_position_table` for the patches."""
    weight = position_embedding.weight
    if weight.shape[0] != 1 + grid * grid:
        raise ValueError(f"{weight.shape[0]} positions for a {grid} x {grid} patch grid plus the class token")
    table = POSITION_TABLE_SCALE * sincos_position_table(grid, weight.shape[1])
    with torch.no_grad():
        weight[0].zero_()
        weight[1:].copy_(table.to(weight.dtype))
