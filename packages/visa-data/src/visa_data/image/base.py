"""The base of every image segmentation loader: options shared by all and deterministic choices."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import ClassVar

import numpy as np

from visa_core.interfaces import DatasetLoader, DatasetTask


class ImageSegmentationLoader(DatasetLoader):
    """An image dataset read as one-frame videos with ``bool[N, 1, H, W]`` masks."""

    task: ClassVar[DatasetTask] = "image_segmentation"

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Config(DatasetLoader.Config):
        """``seed``: drives the per-sample choices the original made at random (class, phrasing);
        ``strict``: items the original silently skipped become errors instead of counted warnings."""

        seed: int = 0
        strict: bool = False

    @property
    def root(self) -> Path:
        """The dataset folder."""
        return Path(self.config.root)

    def choose(self, index: int, count: int, salt: int = 0) -> int:
        """A deterministic choice in ``[0, count)`` for sample ``index`` (same seed, same choice)."""
        rng = np.random.default_rng([self.config.seed, index, salt])
        return int(rng.integers(count))


def split_folder(dataset: str, split: str, folders: dict[str, str]) -> str:
    """The folder name of ``split`` (e.g. ``train`` -> ``training``), or a clear option error."""
    from visa_core.errors import ComponentOptionError

    if split not in folders:
        raise ComponentOptionError(f"{dataset}: unknown split {split!r}; splits are {', '.join(folders)}")
    return folders[split]
