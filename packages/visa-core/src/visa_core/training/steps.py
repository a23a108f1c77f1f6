"""One training step as a pure function: the model's unweighted losses, weighted into one loss."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from visa_core.config import LossWeights


@dataclass(frozen=True)
class StepLosses:
    """Scalar loss tensors of one micro-batch; ``total`` carries the graph for ``backward``.

    ``mask`` is ``bce * mask_bce + dice * mask_dice`` (the original's ``train/mask_loss``).
    """

    total: torch.Tensor
    ce: torch.Tensor
    mask_bce: torch.Tensor
    mask_dice: torch.Tensor
    mask: torch.Tensor

    def detached(self) -> dict[str, torch.Tensor]:
        """Every term, detached, under its TensorBoard name (``loss``, ``ce_loss``, ...)."""
        return {
            "loss": self.total.detach(),
            "ce_loss": self.ce.detach(),
            "mask_bce_loss": self.mask_bce.detach(),
            "mask_dice_loss": self.mask_dice.detach(),
            "mask_loss": self.mask.detach(),
        }


def training_step(model: Any, batch: Mapping[str, Any], loss_weights: LossWeights) -> StepLosses:
    """Forward ``batch`` (a ``processor.collate`` output) through ``model`` and weight its losses.

    ``loss = ce * lm_loss + bce * mask_bce_loss + dice * mask_dice_loss``. No backward, no
    optimizer, no state: the loop owns those.
    """
    output = model(**batch)
    mask = loss_weights.bce * output.mask_bce_loss + loss_weights.dice * output.mask_dice_loss
    total = loss_weights.ce * output.lm_loss + mask
    return StepLosses(
        total=total,
        ce=output.lm_loss,
        mask_bce=output.mask_bce_loss,
        mask_dice=output.mask_dice_loss,
        mask=mask,
    )
