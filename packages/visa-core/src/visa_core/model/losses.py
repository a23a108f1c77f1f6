"""The mask losses of LISA / VISA: per-pixel BCE and the 1/1000-scaled Dice, per mask."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def sigmoid_bce_per_mask(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """``float[N, H, W]`` logits and targets -> ``float[N]``: BCE-with-logits averaged over pixels."""
    loss = F.binary_cross_entropy_with_logits(logits.float(), targets.float(), reduction="none")
    return loss.flatten(1).mean(dim=1)


def dice_per_mask(
    logits: torch.Tensor, targets: torch.Tensor, scale: float = 1000.0, eps: float = 1e-6
) -> torch.Tensor:
    """``float[N, H, W]`` -> ``float[N]``: ``1 - (2 sum(p t)/s + eps) / (sum p/s + sum t/s + eps)``.

    ``p = sigmoid(logits)``, ``s = scale`` (LISA's 1/1000 trick).
    """
    probs = logits.float().sigmoid().flatten(1)
    targets = targets.float().flatten(1)
    numerator = 2 * (probs / scale * targets).sum(-1)
    denominator = (probs / scale).sum(-1) + (targets / scale).sum(-1)
    return 1 - (numerator + eps) / (denominator + eps)


def mask_losses(
    pred_masks: list[torch.Tensor], gt_masks: list[torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Unweighted (BCE, Dice) over a batch: summed over every mask, divided by the mask count.

    This equals the original's per-sample mean weighted by the sample's mask count and normalised
    by the batch's total. Both are 0 (still attached to the graph when possible) without masks.
    """
    bce_terms = [
        sigmoid_bce_per_mask(p, t).sum() for p, t in zip(pred_masks, gt_masks, strict=True) if len(t)
    ]
    dice_terms = [dice_per_mask(p, t).sum() for p, t in zip(pred_masks, gt_masks, strict=True) if len(t)]
    total = sum(int(t.shape[0]) for t in gt_masks)
    if total == 0:
        zero = sum((p.sum() * 0 for p in pred_masks), torch.zeros(()))
        return zero, zero.clone()
    return torch.stack(bce_terms).sum() / (total + 1e-8), torch.stack(dice_terms).sum() / (total + 1e-8)
