"""Image segmentation datasets (one-frame videos)."""

from __future__ import annotations

from visa_core.interfaces import DatasetLoader

IMAGE_LOADERS: tuple[type[DatasetLoader], ...] = ()
