"""Samples that show the same video or image, for ``DatasetLoader.same_video_samples``."""

from __future__ import annotations

from collections.abc import Hashable, Iterable


def group_indices(keys: Iterable[Hashable]) -> dict[Hashable, tuple[int, ...]]:
    """``key -> indices`` (in order) of the positions of ``keys`` that hold it: ``["a", "b", "a"]``
    gives ``{"a": (0, 2), "b": (1,)}``."""
    groups: dict[Hashable, list[int]] = {}
    for index, key in enumerate(keys):
        groups.setdefault(key, []).append(index)
    return {key: tuple(indices) for key, indices in groups.items()}
