"""Image segmentation datasets (one-frame videos)."""

from __future__ import annotations

from visa_core.interfaces import DatasetLoader
from visa_data.image.parts import PART_LOADERS
from visa_data.image.reasonseg import ReasonSeg
from visa_data.image.refer import REFER_LOADERS
from visa_data.image.semantic import SEMANTIC_LOADERS

IMAGE_LOADERS: tuple[type[DatasetLoader], ...] = (*SEMANTIC_LOADERS, *PART_LOADERS, *REFER_LOADERS, ReasonSeg)
