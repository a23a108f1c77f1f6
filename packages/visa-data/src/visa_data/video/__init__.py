"""Referring / reasoning video object segmentation datasets in the ``meta_expressions`` format."""

from __future__ import annotations

from visa_core.interfaces import DatasetLoader
from visa_data.video.loaders import (
    Davis17Dataset,
    LVVISDataset,
    MeViSDataset,
    RefYouTubeVOSDataset,
    ReVOSDataset,
)

VIDEO_LOADERS: tuple[type[DatasetLoader], ...] = (
    ReVOSDataset,
    MeViSDataset,
    RefYouTubeVOSDataset,
    Davis17Dataset,
    LVVISDataset,
)

__all__ = [
    "VIDEO_LOADERS",
    "Davis17Dataset",
    "LVVISDataset",
    "MeViSDataset",
    "ReVOSDataset",
    "RefYouTubeVOSDataset",
]
