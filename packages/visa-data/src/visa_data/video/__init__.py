"""Referring / reasoning video object segmentation datasets."""

from __future__ import annotations

from visa_core.interfaces import DatasetLoader

VIDEO_LOADERS: tuple[type[DatasetLoader], ...] = ()
