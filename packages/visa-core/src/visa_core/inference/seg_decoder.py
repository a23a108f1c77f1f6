"""A :class:`~visa_core.FrameDecoder` that re-segments any frame with fixed ``[SEG]`` embeddings."""

from __future__ import annotations

from typing import Any

import numpy as np


class SegEmbeddingDecoder:
    """Decode frames with projected ``[SEG]`` embeddings through the VISA model's SAM decoder.

    Args:
        model: a ``VisaForSegmentation``.
        processor: its ``VisaProcessor``.
        seg_embeddings: ``float[N, 256]``, the N objects' prompts (every query of a video can be
            stacked here, so each frame is SAM-encoded once for all of them).
        features: a ``FrameFeatureCache`` whose ``tracking`` video the propagator reads: SAM
            embeddings of frames already encoded (e.g. another query's target) are reused.
    """

    def __init__(self, model: Any, processor: Any, seg_embeddings: Any, features: Any = None) -> None:
        self.model = model
        self.processor = processor
        self.seg_embeddings = seg_embeddings
        self.features = features

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        """``uint8[H, W, 3]`` -> logits ``float32[N, H, W]``."""
        import torch

        with torch.inference_mode():
            if self.features is not None:
                embeddings = self.features.sam_embedding_of(frame)
            else:
                embeddings = self.model.sam_image_embeddings(self.processor, frame)
            return self.model.decode_masks(
                embeddings, self.seg_embeddings, self.processor, original_size=frame.shape[:2]
            )
