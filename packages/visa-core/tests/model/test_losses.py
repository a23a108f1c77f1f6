from __future__ import annotations

import math

import torch

from visa_core.model.losses import dice_per_mask, mask_losses, sigmoid_bce_per_mask


def test_bce_and_dice_match_their_definitions():
    logits = torch.tensor([[[0.0, 2.0], [-1.0, 3.0]]])
    target = torch.tensor([[[0.0, 1.0], [0.0, 1.0]]])
    p = torch.sigmoid(logits)
    expected_bce = -(target * p.log() + (1 - target) * (1 - p).log()).mean()
    assert torch.allclose(sigmoid_bce_per_mask(logits, target), expected_bce[None])
    s = 1000.0
    expected_dice = 1 - (2 * (p * target).sum() / s + 1e-6) / (p.sum() / s + target.sum() / s + 1e-6)
    assert torch.allclose(dice_per_mask(logits, target), expected_dice[None])


def test_batch_losses_average_over_all_masks_and_are_zero_without_masks():
    a = torch.zeros(2, 3, 3)
    b = torch.zeros(1, 3, 3)
    bce, dice = mask_losses([a, b], [torch.ones(2, 3, 3), torch.ones(1, 3, 3)])
    assert math.isclose(bce.item(), math.log(2), rel_tol=1e-5)
    assert 0 < dice.item() < 1
    bce, dice = mask_losses([torch.zeros(0, 3, 3)], [torch.zeros(0, 3, 3)])
    assert bce.item() == 0 and dice.item() == 0
