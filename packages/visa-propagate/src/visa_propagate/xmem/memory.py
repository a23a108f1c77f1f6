"""XMem's memory: working memory, long-term memory of prototypes, and the memory read.

Shapes (batch axis dropped, one object group since every object is given on the key frame):
keys ``[C^k, M]``, shrinkage ``[1, M]``, selection ``[C^k, M]``, values ``[N, C^v, M]`` for ``M``
memory elements (``h*w`` per memory frame, ``h, w`` = stride-16 feature size) and ``N`` objects;
queries ``[C^k, Q]`` with ``Q = h*w``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


def similarity(
    mem_key: torch.Tensor,
    mem_shrinkage: torch.Tensor | None,
    query_key: torch.Tensor,
    query_selection: torch.Tensor | None,
) -> torch.Tensor:
    """Anisotropic L2 similarity ``[M, Q]``: ``-sum_c e_c (k_c - q_c)^2 * s / sqrt(C^k)``.

    Without a selection the query's own squared norm is left out (it is constant per query and
    cancels in the softmax), as in XMem.
    """
    key_dim = mem_key.shape[0]
    if query_selection is not None:
        mem_t = mem_key.transpose(0, 1)
        sim = (
            -(mem_t.pow(2) @ query_selection)
            + 2 * (mem_t @ (query_key * query_selection))
            - (query_selection * query_key.pow(2)).sum(0, keepdim=True)
        )
    else:
        sim = -mem_key.pow(2).sum(0).unsqueeze(1) + 2 * (mem_key.transpose(0, 1) @ query_key)
    if mem_shrinkage is not None:
        sim = sim * mem_shrinkage.reshape(-1, 1)
    return sim / math.sqrt(key_dim)


def top_k_softmax(sim: torch.Tensor, top_k: int | None) -> torch.Tensor:
    """Softmax over the memory axis (0) of ``[M, Q]`` keeping only each query's ``top_k`` largest.

    ``top_k`` is clamped to ``M``; ``None`` is a plain softmax.
    """
    if top_k is None:
        return torch.softmax(sim, dim=0)
    values, indices = torch.topk(sim, k=min(top_k, sim.shape[0]), dim=0)
    weights = torch.softmax(values, dim=0)
    return torch.zeros_like(sim).scatter_(0, indices, weights.to(sim.dtype))


class KeyValueStore:
    """Keys, shrinkage, optional selection, values and usage counters of ``M`` memory elements."""

    def __init__(self) -> None:
        self.key: torch.Tensor | None = None
        self.shrinkage: torch.Tensor | None = None
        self.selection: torch.Tensor | None = None
        self.value: torch.Tensor | None = None
        self.use_count: torch.Tensor | None = None
        self.life_count: torch.Tensor | None = None

    @property
    def size(self) -> int:
        """Number of memory elements ``M``."""
        return 0 if self.key is None else int(self.key.shape[1])

    def add(
        self,
        key: torch.Tensor,
        shrinkage: torch.Tensor,
        selection: torch.Tensor | None,
        value: torch.Tensor,
    ) -> None:
        """Append elements: ``key [C^k, m]``, ``shrinkage [1, m]``, ``value [N, C^v, m]``."""
        count = key.shape[1]
        new_use = torch.zeros(count, device=key.device, dtype=torch.float32)
        new_life = torch.full((count,), 1e-7, device=key.device, dtype=torch.float32)
        if self.key is None:
            self.key, self.shrinkage, self.selection, self.value = key, shrinkage, selection, value
            self.use_count, self.life_count = new_use, new_life
            return
        self.key = torch.cat([self.key, key], 1)
        self.shrinkage = torch.cat([self.shrinkage, shrinkage], 1)
        if selection is not None and self.selection is not None:
            self.selection = torch.cat([self.selection, selection], 1)
        self.value = torch.cat([self.value, value], 2)
        self.use_count = torch.cat([self.use_count, new_use])
        self.life_count = torch.cat([self.life_count, new_life])

    def record_usage(self, usage: torch.Tensor) -> None:
        """Add each element's summed attention ``usage [M]`` and age every element by one read."""
        self.use_count += usage.float()
        self.life_count += 1

    def usage(self) -> torch.Tensor:
        """Attention received per read, ``[M]``."""
        return self.use_count / self.life_count

    def keep(self, index: torch.Tensor) -> None:
        """Keep only the elements ``index`` selects (a bool mask or indices over ``M``)."""
        self.key = self.key[:, index]
        self.shrinkage = self.shrinkage[:, index]
        if self.selection is not None:
            self.selection = self.selection[:, index]
        self.value = self.value[:, :, index]
        self.use_count = self.use_count[index]
        self.life_count = self.life_count[index]

    def remove_least_used(self, max_size: int) -> None:
        """Drop the least used elements so that at most ``max_size`` remain (ties drop together)."""
        if self.size <= max_size:
            return
        usage = self.usage()
        lowest = torch.topk(usage, k=self.size - max_size, largest=False, sorted=True).values
        self.keep(usage > lowest[-1])


@dataclass(frozen=True)
class MemorySettings:
    """XMem's memory options (defaults of its ``eval.py``).

    ``min_working_frames``/``max_working_frames`` are T_min/T_max; ``num_prototypes`` is P;
    ``max_long_term_elements`` is LT_max; ``long_term=False`` keeps only working memory.
    """

    top_k: int = 30
    min_working_frames: int = 5
    max_working_frames: int = 10
    num_prototypes: int = 128
    max_long_term_elements: int = 10_000
    long_term: bool = True


class MemoryManager:
    """Working memory, long-term memory and the sensory (hidden) state of one propagation run."""

    def __init__(self, settings: MemorySettings) -> None:
        self.settings = settings
        self.working = KeyValueStore()
        self.long_term = KeyValueStore()
        self.hidden: torch.Tensor | None = None
        self.frame_elements = 0

    def read(self, query_key: torch.Tensor, query_selection: torch.Tensor | None) -> torch.Tensor:
        """Memory readout ``[N, C^v, Q]`` for ``query_key [C^k, Q]``; records usage."""
        long_size = self.long_term.size
        if long_size:
            key = torch.cat([self.long_term.key, self.working.key], 1)
            shrinkage = torch.cat([self.long_term.shrinkage, self.working.shrinkage], 1)
            value = torch.cat([self.long_term.value, self.working.value], 2)
        else:
            key, shrinkage, value = self.working.key, self.working.shrinkage, self.working.value
        affinity = top_k_softmax(similarity(key, shrinkage, query_key, query_selection), self.settings.top_k)
        if self.settings.long_term:
            usage = affinity.sum(dim=1)
            self.working.record_usage(usage[long_size:])
            if long_size:
                self.long_term.record_usage(usage[:long_size])
        return value @ affinity.to(value.dtype)

    def add(
        self,
        key: torch.Tensor,
        shrinkage: torch.Tensor,
        selection: torch.Tensor | None,
        value: torch.Tensor,
    ) -> None:
        """Store one memory frame (``key [C^k, hw]``...); consolidate when working memory is full."""
        self.frame_elements = key.shape[1]
        self.working.add(key, shrinkage, selection if self.settings.long_term else None, value)
        settings = self.settings
        if not settings.long_term:
            return
        if self.working.size >= settings.max_working_frames * self.frame_elements:
            room = settings.max_long_term_elements - settings.num_prototypes
            if self.long_term.size >= room:
                self.long_term.remove_least_used(room)
            self.consolidate()

    def consolidate(self) -> None:
        """Move working memory into long-term prototypes.

        The first memory frame (the prompt) and the newest ``min_working_frames - 1`` frames stay;
        the elements in between become ``num_prototypes`` prototypes: the most used candidate keys,
        with values and shrinkage read out from all candidates (potentiation).
        """
        hw = self.frame_elements
        start, end = hw, self.working.size - (self.settings.min_working_frames - 1) * hw
        if end <= start:
            return
        work = self.working
        cand_key = work.key[:, start:end]
        cand_shrinkage = work.shrinkage[:, start:end]
        cand_value = work.value[:, :, start:end]
        cand_usage = work.usage()[start:end]
        count = min(self.settings.num_prototypes, end - start)
        chosen = torch.topk(cand_usage, k=count, dim=0, sorted=True).indices
        proto_key = cand_key[:, chosen]
        proto_selection = work.selection[:, start:end][:, chosen] if work.selection is not None else None
        affinity = top_k_softmax(similarity(cand_key, cand_shrinkage, proto_key, proto_selection), None)
        proto_value = cand_value @ affinity.to(cand_value.dtype)
        proto_shrinkage = cand_shrinkage @ affinity.to(cand_shrinkage.dtype)
        keep = torch.ones(work.size, dtype=torch.bool, device=work.key.device)
        keep[start:end] = False
        work.keep(keep)
        self.long_term.add(proto_key, proto_shrinkage, None, proto_value)
