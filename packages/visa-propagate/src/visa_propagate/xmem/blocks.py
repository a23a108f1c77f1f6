"""XMem's building blocks for per-object feature maps.

"Grouped" tensors carry an object axis: ``[B, N, C, H, W]`` (``N`` objects); image features
shared by every object are ``[B, C, H, W]``. Parameter names follow the published ``XMem.pth``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class GroupConv2d(nn.Conv2d):
    """A ``Conv2d`` applied to every object of a grouped tensor ``[B, N, C, H, W]``."""

    def forward(self, g: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        batch, objects = g.shape[:2]
        out = super().forward(g.flatten(0, 1))
        return out.view(batch, objects, *out.shape[1:])


def resize_groups(g: torch.Tensor, scale: float, mode: str) -> torch.Tensor:
    """Rescale every object's map of ``[B, N, C, H, W]`` by ``scale`` (bilinear up, area down)."""
    batch, objects = g.shape[:2]
    align = False if mode == "bilinear" else None
    out = F.interpolate(g.flatten(0, 1), scale_factor=scale, mode=mode, align_corners=align)
    return out.view(batch, objects, *out.shape[1:])


def concat_shared(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Prepend the shared image features ``x [B, C, H, W]`` to every object's channels of ``g``."""
    return torch.cat([x.unsqueeze(1).expand(-1, g.shape[1], -1, -1, -1), g], 2)


class GroupResBlock(nn.Module):
    """Pre-activation residual block of two 3x3 grouped convolutions (projection if widths differ)."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.downsample = None if in_dim == out_dim else GroupConv2d(in_dim, out_dim, 3, padding=1)
        self.conv1 = GroupConv2d(in_dim, out_dim, 3, padding=1)
        self.conv2 = GroupConv2d(out_dim, out_dim, 3, padding=1)

    def forward(self, g: torch.Tensor) -> torch.Tensor:
        out = self.conv2(F.relu(self.conv1(F.relu(g))))
        return out + (g if self.downsample is None else self.downsample(g))


class _SpatialConv(nn.Module):
    """Holds the 7x7 spatial-attention convolution under the name ``conv`` (CBAM's BasicConv)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 1, 7, padding=3)


class ChannelGate(nn.Module):
    """CBAM channel attention: a shared MLP on the average- and max-pooled channels."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        hidden = channels // reduction
        self.mlp = nn.Sequential(
            nn.Flatten(), nn.Linear(channels, hidden), nn.ReLU(), nn.Linear(hidden, channels)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.mlp(x.mean(dim=(2, 3))) + self.mlp(x.amax(dim=(2, 3)))
        return x * torch.sigmoid(logits)[:, :, None, None]


class SpatialGate(nn.Module):
    """CBAM spatial attention: a 7x7 convolution over the channel max and mean."""

    def __init__(self) -> None:
        super().__init__()
        self.spatial = _SpatialConv()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = torch.cat([x.amax(dim=1, keepdim=True), x.mean(dim=1, keepdim=True)], dim=1)
        return x * torch.sigmoid(self.spatial.conv(pooled))


class CBAM(nn.Module):
    """Channel then spatial attention on ``[B, C, H, W]``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.ChannelGate = ChannelGate(channels)
        self.SpatialGate = SpatialGate()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.SpatialGate(self.ChannelGate(x))


class FeatureFusionBlock(nn.Module):
    """Fuses shared image features ``x`` into every object's features ``g`` (res block, CBAM, res block)."""

    def __init__(self, x_dim: int, g_dim: int, mid_dim: int, out_dim: int) -> None:
        super().__init__()
        self.block1 = GroupResBlock(x_dim + g_dim, mid_dim)
        self.attention = CBAM(mid_dim)
        self.block2 = GroupResBlock(mid_dim, out_dim)

    def forward(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        g = self.block1(concat_shared(x, g))
        attended = self.attention(g.flatten(0, 1)).view_as(g)
        return self.block2(g + attended)


class UpsampleBlock(nn.Module):
    """Doubles the resolution of ``g`` and adds a projected skip feature map, then a res block."""

    def __init__(self, skip_dim: int, up_dim: int, out_dim: int) -> None:
        super().__init__()
        self.skip_conv = nn.Conv2d(skip_dim, up_dim, 3, padding=1)
        self.out_conv = GroupResBlock(up_dim, out_dim)

    def forward(self, skip: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        g = resize_groups(g, 2.0, "bilinear") + self.skip_conv(skip).unsqueeze(1)
        return self.out_conv(g)


def gated_update(values: torch.Tensor, hidden: torch.Tensor, hidden_dim: int) -> torch.Tensor:
    """XMem's GRU-like sensory update: ``forget * h * (1 - update) + update * tanh(new)``."""
    forget = torch.sigmoid(values[:, :, :hidden_dim])
    update = torch.sigmoid(values[:, :, hidden_dim : 2 * hidden_dim])
    new_value = torch.tanh(values[:, :, 2 * hidden_dim :])
    return forget * hidden * (1 - update) + update * new_value


class HiddenUpdater(nn.Module):
    """Updates the sensory memory from the decoder's features at strides 16, 8 and 4."""

    def __init__(self, g_dims: tuple[int, int, int], mid_dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.hidden_dim = hidden_dim
        self.g16_conv = GroupConv2d(g_dims[0], mid_dim, 1)
        self.g8_conv = GroupConv2d(g_dims[1], mid_dim, 1)
        self.g4_conv = GroupConv2d(g_dims[2], mid_dim, 1)
        self.transform = GroupConv2d(mid_dim + hidden_dim, hidden_dim * 3, 3, padding=1)

    def forward(
        self, g16: torch.Tensor, g8: torch.Tensor, g4: torch.Tensor, hidden: torch.Tensor
    ) -> torch.Tensor:
        g = (
            self.g16_conv(g16)
            + self.g8_conv(resize_groups(g8, 0.5, "area"))
            + self.g4_conv(resize_groups(g4, 0.25, "area"))
        )
        return gated_update(self.transform(torch.cat([g, hidden], 2)), hidden, self.hidden_dim)


class HiddenReinforcer(nn.Module):
    """Deep update of the sensory memory from a new memory value (value encoder)."""

    def __init__(self, g_dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.hidden_dim = hidden_dim
        self.transform = GroupConv2d(g_dim + hidden_dim, hidden_dim * 3, 3, padding=1)

    def forward(self, g: torch.Tensor, hidden: torch.Tensor) -> torch.Tensor:
        return gated_update(self.transform(torch.cat([g, hidden], 2)), hidden, self.hidden_dim)
