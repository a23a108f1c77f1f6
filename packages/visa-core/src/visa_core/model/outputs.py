"""Return types of the VISA model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from transformers.utils import ModelOutput


@dataclass
class VisaOutput(ModelOutput):
    """Training / teacher-forced forward output.

    Attributes:
        lm_loss: shifted next-token cross-entropy over the expanded sequence (None without labels).
        mask_bce_loss / mask_dice_loss: unweighted mask losses (0 when the batch has no masks).
        pred_masks: per sample, float logits ``[N_b, H_b, W_b]`` at the target frame's original size.
        seg_embeddings: per sample, projected ``[SEG]`` embeddings ``[N_b, out_dim]``.
        logits: ``[B, L', vocab]`` over the expanded sequence.
        labels: the expanded labels ``[B, L']`` (-100 on images, instruction and padding).
    """

    lm_loss: torch.Tensor | None = None
    mask_bce_loss: torch.Tensor | None = None
    mask_dice_loss: torch.Tensor | None = None
    pred_masks: list[torch.Tensor] | None = None
    seg_embeddings: list[torch.Tensor] | None = None
    logits: torch.Tensor | None = None
    labels: torch.Tensor | None = None


@dataclass
class SegmentationOutput:
    """What :meth:`VisaForSegmentation.segment` returns for one query.

    Attributes:
        answer: the answer text (generated or the teacher-forced one), ``[SEG]`` kept.
        mask_logits: ``float32[N, H, W]`` at the target frame's size; ``N`` = number of ``[SEG]``.
        seg_embeddings: ``float[N, out_dim]`` projected ``[SEG]`` embeddings (SAM prompts).
        has_seg: False when the answer contains no ``[SEG]`` (then ``N`` = 0: no mask was made).
    """

    answer: str
    mask_logits: np.ndarray
    seg_embeddings: torch.Tensor
    has_seg: bool

    @property
    def masks(self) -> np.ndarray:
        """``bool[N, H, W]``: logits > 0."""
        return self.mask_logits > 0
