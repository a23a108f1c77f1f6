"""Chat-UniVi's parameter-free DPC-KNN token merging (density-peak clustering on k-NN density).

A frame's patch tokens ``[B, N, C]`` are clustered into ``cluster_num`` groups and each group
averaged; levels are applied one after the other (256 -> 64 -> 32 -> 16) and concatenated
(112 tokens). Without density noise the result is deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch


def dpc_knn_assign(x: torch.Tensor, cluster_num: int, k: int, density_noise: float = 0.0) -> torch.Tensor:
    """Cluster index ``long[B, N]`` in ``[0, cluster_num)`` of every token of ``x`` ``[B, N, C]``.

    Density = exp(-mean squared distance to the k nearest tokens); distance indicator = distance
    to the nearest denser token (the largest distance for the densest); centres are the
    ``cluster_num`` tokens with the largest density x distance; every token joins its nearest
    centre and each centre joins its own cluster. Distances are scaled by ``1/sqrt(C)``.
    """
    batch, num_tokens, channels = x.shape
    with torch.no_grad():
        dist = torch.cdist(x.float(), x.float()) / math.sqrt(channels)
        nearest, _ = torch.topk(dist, k=k, dim=-1, largest=False)
        density = (-(nearest**2).mean(dim=-1)).exp()
        if density_noise > 0:
            density = density + torch.rand_like(density) * density_noise
        denser = (density[:, None, :] > density[:, :, None]).to(dist.dtype)
        dist_max = dist.flatten(1).max(dim=-1).values[:, None, None]
        parent_dist = (dist * denser + dist_max * (1 - denser)).min(dim=-1).values
        score = parent_dist * density
        centres = torch.topk(score, k=cluster_num, dim=-1).indices  # [B, cluster_num]
        dist_to_centres = torch.gather(dist, 1, centres[:, :, None].expand(-1, -1, num_tokens))
        assignment = dist_to_centres.argmin(dim=1)  # [B, N]
        batch_index = torch.arange(batch, device=x.device)[:, None].expand(-1, cluster_num)
        own = torch.arange(cluster_num, device=x.device)[None, :].expand(batch, -1)
        assignment[batch_index.reshape(-1), centres.reshape(-1)] = own.reshape(-1)
    return assignment


def merge_by_assignment(x: torch.Tensor, assignment: torch.Tensor, cluster_num: int) -> torch.Tensor:
    """Average the tokens ``x`` ``[B, N, C]`` of each cluster -> ``[B, cluster_num, C]`` (differentiable)."""
    batch, num_tokens, channels = x.shape
    flat_index = (assignment + torch.arange(batch, device=x.device)[:, None] * cluster_num).reshape(-1)
    counts = x.new_zeros(batch * cluster_num, 1)
    counts.index_add_(0, flat_index, x.new_ones(batch * num_tokens, 1))
    weights = 1.0 / (counts + 1e-6)
    merged = x.new_zeros(batch * cluster_num, channels)
    merged.index_add_(0, flat_index, x.reshape(-1, channels) * weights[flat_index])
    return merged.reshape(batch, cluster_num, channels)


def cluster_count(size: int, num_tokens: int) -> int:
    """Clusters for a level: an absolute count when ``size > 1``, else a fraction of the tokens."""
    return max(math.ceil(size), 1) if size > 1 else max(math.ceil(num_tokens * size), 1)


@dataclass(frozen=True)
class MergeLevel:
    """One level of merging: its ``tokens`` ``[B, clusters, C]`` and the ``assignment``
    ``long[B, N]`` of the previous level's tokens (the patches for the first level) to them."""

    tokens: torch.Tensor
    assignment: torch.Tensor


def merge_levels(
    x: torch.Tensor, cluster_sizes: Sequence[int], knn: Sequence[int], density_noise: float = 0.0
) -> list[MergeLevel]:
    """The levels of the hierarchical merging of ``x`` ``[B, N, C]``, each clustering the previous
    level's tokens (none for an empty ``cluster_sizes``)."""
    levels = []
    tokens = x
    for size, k in zip(cluster_sizes, knn, strict=True):
        cluster_num = cluster_count(size, tokens.shape[1])
        if cluster_num > tokens.shape[1]:
            raise ValueError(f"cannot merge {tokens.shape[1]} tokens into {cluster_num} clusters")
        k_eff = min(3, max(cluster_num // 2, 1)) if k > cluster_num else k
        assignment = dpc_knn_assign(tokens, cluster_num, k_eff, density_noise)
        tokens = merge_by_assignment(tokens, assignment, cluster_num)
        levels.append(MergeLevel(tokens, assignment))
    return levels


def merge_tokens(
    x: torch.Tensor, cluster_sizes: Sequence[int], knn: Sequence[int], density_noise: float = 0.0
) -> torch.Tensor:
    """Hierarchical merging of ``x`` ``[B, N, C]`` -> ``[B, sum(cluster_sizes), C]``.

    Each level clusters the previous level's output; the levels' tokens are concatenated in order.
    An empty ``cluster_sizes`` returns ``x`` unchanged.
    """
    return concat_levels(x, merge_levels(x, cluster_sizes, knn, density_noise))


def concat_levels(x: torch.Tensor, levels: Sequence[MergeLevel]) -> torch.Tensor:
    """The levels' tokens concatenated in order ``[B, sum of the levels' clusters, C]``; ``x``
    itself when there are no levels."""
    return torch.cat([level.tokens for level in levels], dim=1) if levels else x


def carry_through(values: torch.Tensor, levels: Sequence[MergeLevel]) -> torch.Tensor:
    """Per-patch ``values`` ``[B, N, D]`` (e.g. patch positions) averaged over the same clusters as
    the tokens, level by level -> ``[B, sum of the levels' clusters, D]``; unchanged without levels."""
    if not levels:
        return values
    carried = []
    for level in levels:
        values = merge_by_assignment(values, level.assignment, level.tokens.shape[1])
        carried.append(values)
    return torch.cat(carried, dim=1)
