"""AdamW over the trainable parameters and the warm-up / linear-decay learning-rate schedule."""

from __future__ import annotations

from functools import partial

import torch

from visa_core.config import OptimConfig, ScheduleConfig


def warmup_linear_factor(step: int, *, warmup_steps: int, total_steps: int) -> float:
    """Multiplier of the peak learning rate after ``step`` optimizer updates.

    Rises linearly from 0 to 1 over ``warmup_steps``, then falls linearly to 0 at ``total_steps``
    (DeepSpeed's ``WarmupDecayLR`` with ``warmup_type: linear``, as the original uses).
    """
    if warmup_steps > 0 and step < warmup_steps:
        return step / warmup_steps
    remaining = total_steps - step
    decay_steps = max(total_steps - warmup_steps, 1)
    return max(0.0, remaining / decay_steps)


def build_optimizer(model: torch.nn.Module, optim: OptimConfig) -> torch.optim.AdamW:
    """AdamW over the parameters with ``requires_grad`` (raises if there are none)."""
    parameters = [p for p in model.parameters() if p.requires_grad]
    if not parameters:
        raise ValueError("the model has no trainable parameters (every requires_grad is False)")
    return torch.optim.AdamW(
        parameters, lr=optim.lr, betas=optim.betas, weight_decay=optim.weight_decay, foreach=True
    )


def build_scheduler(
    optimizer: torch.optim.Optimizer, schedule: ScheduleConfig
) -> torch.optim.lr_scheduler.LambdaLR:
    """A LambdaLR stepping once per optimizer update with :func:`warmup_linear_factor`."""
    factor = partial(
        warmup_linear_factor, warmup_steps=schedule.warmup_steps, total_steps=schedule.total_steps
    )
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
