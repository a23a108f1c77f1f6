"""The XMem network (Cheng & Schwing, ECCV 2022) with the published ``XMem.pth`` parameter names.

Top-level modules: ``key_encoder`` (ResNet-50 to stride 16), ``value_encoder`` (ResNet-18 on
image + object mask + other objects' masks, fused with the key features), ``key_proj`` (key,
shrinkage and selection heads) and ``decoder`` (memory readout + sensory memory -> mask logits).
Widths are set by :class:`XMemDims`; the published network is ``XMemDims()``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from visa_propagate.xmem.blocks import (
    FeatureFusionBlock,
    HiddenReinforcer,
    HiddenUpdater,
    UpsampleBlock,
    concat_shared,
)
from visa_propagate.xmem.resnet import BasicBlock, Bottleneck, make_stage


@dataclass(frozen=True)
class XMemDims:
    """Channel widths.

    ``width`` is the stem width of both ResNets (64 published): the key features have
    ``4w, 8w, 16w`` channels at strides 4, 8, 16 and the decoder ``8w`` then ``4w``.
    ``key_dim`` is C^k (64), ``value_dim`` C^v (512), ``hidden_dim`` the sensory memory C^h (64;
    0 for the no-sensory variant).
    """

    width: int = 64
    key_dim: int = 64
    value_dim: int = 512
    hidden_dim: int = 64

    @classmethod
    def tiny(cls) -> XMemDims:
        """The smallest widths the architecture allows (CBAM divides channels by 16)."""
        return cls(width=4, key_dim=8, value_dim=16, hidden_dim=4)


class KeyEncoder(nn.Module):
    """ResNet-50 to stride 16: ``[B, 3, H, W]`` -> ``f16 [B, 16w, H/16, W/16]``, ``f8``, ``f4``."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.res2 = make_stage(Bottleneck, width, width, 3, stride=1)
        self.layer2 = make_stage(Bottleneck, 4 * width, 2 * width, 4, stride=2)
        self.layer3 = make_stage(Bottleneck, 8 * width, 4 * width, 6, stride=2)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = self.maxpool(torch.relu(self.bn1(self.conv1(image))))
        f4 = self.res2(x)
        f8 = self.layer2(f4)
        return self.layer3(f8), f8, f4


class ValueEncoder(nn.Module):
    """Encodes each object's mask (and the other objects' masks) with the image into a memory value.

    Input channels of ``conv1``: RGB + this object's mask + the sum of the other objects' masks.
    """

    def __init__(self, dims: XMemDims) -> None:
        super().__init__()
        width = dims.width
        self.conv1 = nn.Conv2d(5, width, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = make_stage(BasicBlock, width, width, 2, stride=1)
        self.layer2 = make_stage(BasicBlock, width, 2 * width, 2, stride=2)
        self.layer3 = make_stage(BasicBlock, 2 * width, 4 * width, 2, stride=2)
        self.fuser = FeatureFusionBlock(16 * width, 4 * width, dims.value_dim, dims.value_dim)
        self.hidden_reinforce = (
            HiddenReinforcer(dims.value_dim, dims.hidden_dim) if dims.hidden_dim > 0 else None
        )

    def forward(
        self,
        image: torch.Tensor,
        f16: torch.Tensor,
        hidden: torch.Tensor | None,
        masks: torch.Tensor,
        deep_update: bool,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``image [B,3,H,W]``, ``masks [B,N,H,W]`` -> value ``[B,N,C^v,H/16,W/16]``, hidden state."""
        others = masks.sum(dim=1, keepdim=True) - masks
        g = concat_shared(image, torch.stack([masks, others], 2))
        batch, objects = g.shape[:2]
        g = self.bn1(self.conv1(g.flatten(0, 1)))
        g = torch.relu(self.maxpool(g))  # XMem pools before the ReLU here (same result)
        g = self.layer3(self.layer2(self.layer1(g)))
        value = self.fuser(f16, g.view(batch, objects, *g.shape[1:]))
        if deep_update and self.hidden_reinforce is not None and hidden is not None:
            hidden = self.hidden_reinforce(value, hidden)
        return value, hidden


class KeyProjection(nn.Module):
    """Key ``[B, C^k, h, w]``, shrinkage ``d^2 + 1`` ``[B, 1, h, w]`` and selection ``sigmoid(e)``."""

    def __init__(self, in_dim: int, key_dim: int) -> None:
        super().__init__()
        self.key_proj = nn.Conv2d(in_dim, key_dim, 3, padding=1)
        self.d_proj = nn.Conv2d(in_dim, 1, 3, padding=1)
        self.e_proj = nn.Conv2d(in_dim, key_dim, 3, padding=1)

    def forward(
        self, f16: torch.Tensor, need_shrinkage: bool, need_selection: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        shrinkage = self.d_proj(f16) ** 2 + 1 if need_shrinkage else None
        selection = torch.sigmoid(self.e_proj(f16)) if need_selection else None
        return self.key_proj(f16), shrinkage, selection


class Decoder(nn.Module):
    """Memory readout (+ sensory memory) and the key features -> per-object logits at full size."""

    def __init__(self, dims: XMemDims) -> None:
        super().__init__()
        wide, narrow = 8 * dims.width, 4 * dims.width
        self.fuser = FeatureFusionBlock(16 * dims.width, dims.value_dim + dims.hidden_dim, wide, wide)
        self.hidden_update = (
            HiddenUpdater((wide, narrow, narrow + 1), narrow, dims.hidden_dim)
            if dims.hidden_dim > 0
            else None
        )
        self.up_16_8 = UpsampleBlock(8 * dims.width, wide, narrow)
        self.up_8_4 = UpsampleBlock(4 * dims.width, narrow, narrow)
        self.pred = nn.Conv2d(narrow, 1, 3, padding=1)

    def forward(
        self,
        features: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
        readout: torch.Tensor,
        hidden: torch.Tensor | None,
        update_hidden: bool,
    ) -> tuple[torch.Tensor | None, torch.Tensor]:
        """``readout [B,N,C^v,h,w]`` -> (new hidden or None, logits ``[B,N,16h,16w]``)."""
        f16, f8, f4 = features
        batch, objects = readout.shape[:2]
        if self.hidden_update is not None:
            readout = torch.cat([readout, hidden], 2)
        g16 = self.fuser(f16, readout)
        g8 = self.up_16_8(f8, g16)
        g4 = self.up_8_4(f4, g8)
        logits = self.pred(F.relu(g4.flatten(0, 1)))
        new_hidden = None
        if update_hidden and self.hidden_update is not None:
            g4 = torch.cat([g4, logits.view(batch, objects, 1, *logits.shape[-2:])], 2)
            new_hidden = self.hidden_update(g16, g8, g4, hidden)
        logits = F.interpolate(logits, scale_factor=4, mode="bilinear", align_corners=False)
        return new_hidden, logits.view(batch, objects, *logits.shape[-2:])


def aggregate(prob: torch.Tensor, dim: int) -> torch.Tensor:
    """Soft-aggregate per-object probabilities into ``[background, objects...]`` along ``dim``.

    The background is ``prod(1 - p)``; all terms are turned into odds, and a softmax over the
    log-odds makes them sum to one. Computed in float32 (half precision would saturate).
    """
    prob = prob.float()
    with_bg = torch.cat([torch.prod(1 - prob, dim=dim, keepdim=True), prob], dim).clamp(1e-7, 1 - 1e-7)
    return torch.softmax(torch.log(with_bg / (1 - with_bg)), dim=dim)


class XMemNetwork(nn.Module):
    """The four XMem modules and the three operations inference needs."""

    def __init__(self, dims: XMemDims | None = None) -> None:
        super().__init__()
        self.dims = dims or XMemDims()
        self.key_encoder = KeyEncoder(self.dims.width)
        self.value_encoder = ValueEncoder(self.dims)
        self.key_proj = KeyProjection(16 * self.dims.width, self.dims.key_dim)
        self.decoder = Decoder(self.dims)

    def encode_key(
        self, image: torch.Tensor, need_shrinkage: bool, need_selection: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None, tuple[torch.Tensor, ...]]:
        """``image [B,3,H,W]`` (H, W multiples of 16) -> key, shrinkage, selection, (f16, f8, f4)."""
        f16, f8, f4 = self.key_encoder(image)
        key, shrinkage, selection = self.key_proj(f16, need_shrinkage, need_selection)
        return key, shrinkage, selection, (f16, f8, f4)

    def encode_value(
        self,
        image: torch.Tensor,
        f16: torch.Tensor,
        hidden: torch.Tensor | None,
        masks: torch.Tensor,
        deep_update: bool,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Memory value ``[B,N,C^v,h,w]`` of ``masks [B,N,H,W]``, and the (deep-updated) hidden state."""
        return self.value_encoder(image, f16, hidden, masks, deep_update)

    def segment(
        self,
        features: tuple[torch.Tensor, ...],
        readout: torch.Tensor,
        hidden: torch.Tensor | None,
        update_hidden: bool,
    ) -> tuple[torch.Tensor | None, torch.Tensor]:
        """(new hidden or None, probabilities ``[B, 1 + N, H, W]`` with the background first)."""
        f16, f8, f4 = features
        new_hidden, logits = self.decoder((f16, f8, f4), readout, hidden, update_hidden)
        return new_hidden, aggregate(torch.sigmoid(logits), dim=1)


def build_random_network(dims: XMemDims, seed: int) -> XMemNetwork:
    """A network with seeded random weights (for tests and benchmarks), in eval mode."""
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        network = XMemNetwork(dims)
    finally:
        torch.random.set_rng_state(generator_state)
    return network.eval()
