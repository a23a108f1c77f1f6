"""The weighted dataset mixture: a map-style dataset whose item ``k`` is fully determined by ``(seed, k)``.

Item ``k`` picks a dataset with probability proportional to its weight, a sample of it uniformly
(plus up to ``queries_per_sample - 1`` other queries of the same video, sharing its frames), and
the clip (frames, target, negative, prompt template) with a random generator seeded by
``(seed, k)`` alone. The DataLoader reads indices ``0, 1, 2, ...`` in order and accelerate shards
the batches over processes (rank ``r`` of ``W`` gets batches ``r, r + W, ...``), so:

* the stream of training examples is the same for any number of processes and workers (the
  global batch of a step is the same; only which rank computes which part changes);
* resuming after ``s`` optimizer steps is starting the index stream at ``s`` times the samples
  of a step, without loading the skipped items.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Sequence
from typing import Any

import torch.utils.data

from visa_core.config import ConfigError, DataConfig
from visa_core.errors import DataFormatError
from visa_core.interfaces import DatasetLoader
from visa_core.training.clips import ClipSampler
from visa_core.types import Sample

NEGATIVE_TRIES = 10
"""How many random samples are tried to find another video for an absent-target negative."""


class MixtureDataset(torch.utils.data.Dataset):
    """``length`` training examples drawn from weighted ``datasets`` through ``clip_sampler``.

    Args:
        datasets: the loaders, each non-empty.
        weights: relative weights, one per loader, each > 0.
        clip_sampler: turns a Sample into an encoded example.
        length: number of items (the run's total number of samples).
        seed: the run's seed.
    """

    def __init__(
        self,
        datasets: Sequence[DatasetLoader],
        weights: Sequence[float],
        clip_sampler: ClipSampler,
        *,
        length: int,
        seed: int,
    ) -> None:
        if not datasets or len(datasets) != len(weights):
            raise ValueError(
                f"need one weight per dataset, got {len(datasets)} datasets, {len(weights)} weights"
            )
        for dataset in datasets:
            if len(dataset) == 0:
                raise DataFormatError(f"dataset {_label(dataset)} ({dataset.config}) has no samples")
        if any(not w > 0 for w in weights):
            raise ValueError(f"mixture weights must be > 0, got {list(weights)}")
        self.datasets = list(datasets)
        total = float(sum(weights))
        self.probabilities = [w / total for w in weights]
        self._cumulative = list(itertools.accumulate(self.probabilities))
        self.clip_sampler = clip_sampler
        self.length = length
        self.seed = seed

    def __len__(self) -> int:
        return self.length

    def rng(self, index: int) -> random.Random:
        """The generator of item ``index`` (string seeds hash the same in every process)."""
        return random.Random(f"visa-mixture/{self.seed}/{index}")

    def locate(self, index: int, rng: random.Random | None = None) -> tuple[int, int]:
        """``(dataset position, sample index)`` of item ``index``."""
        rng = rng or self.rng(index)
        position = min(bisect.bisect_right(self._cumulative, rng.random()), len(self.datasets) - 1)
        return position, rng.randrange(len(self.datasets[position]))

    def __getitem__(self, index: int) -> Any:
        if not 0 <= index < self.length:
            raise IndexError(f"mixture index {index} out of range [0, {self.length})")
        rng = self.rng(index)
        position, sample_index = self.locate(index, rng)
        dataset = self.datasets[position]
        sample = dataset[sample_index]

        video_id = sample.video.video_id if sample.video is not None else None

        def another_video(negative_rng: random.Random) -> Sample | None:
            for _ in range(NEGATIVE_TRIES):
                other = dataset[negative_rng.randrange(len(dataset))]
                if other.video is not None and other.video.video_id != video_id:
                    return other
            return None

        wanted = self.clip_sampler.config.queries_per_sample
        if wanted == 1:
            return self.clip_sampler.encode(sample, rng, another_video)
        siblings = [i for i in dataset.same_video_samples(sample_index) if i != sample_index]
        extra = rng.sample(siblings, min(wanted - 1, len(siblings)))
        group = [sample, *(dataset[i] for i in extra)]
        return self.clip_sampler.encode_group(group, rng, another_video)

    def shares(self) -> dict[str, float]:
        """Dataset label -> probability, for the run log."""
        return {_label(d): p for d, p in zip(self.datasets, self.probabilities, strict=True)}


def build_mixture(data: DataConfig, processor: Any, *, length: int, seed: int) -> MixtureDataset:
    """The mixture of ``data.mixture``, each dataset built with ``visa_core.build("dataset", ...)``."""
    from visa_core.plugins import build

    if not data.mixture:
        raise ConfigError("data.mixture is empty: list at least one dataset (dataset, weight, options)")
    datasets = [build("dataset", entry.dataset, **entry.options) for entry in data.mixture]
    return MixtureDataset(
        datasets,
        [entry.weight for entry in data.mixture],
        ClipSampler(data.clip, processor),
        length=length,
        seed=seed,
    )


def _label(dataset: DatasetLoader) -> str:
    split = getattr(dataset.config, "split", None)
    return f"{dataset.name}:{split}" if split else str(dataset.name)
