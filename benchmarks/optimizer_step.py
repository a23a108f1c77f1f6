"""Time of one AdamW update of the training loop (``build_optimizer``: multi-tensor ``foreach``)
against the fastest AdamW torch itself offers a user on a CPU (``fused=True``; torch's CPU default
is the slower per-parameter loop), on the same model and gradients.

Builds the ``tiny`` preset with every parameter trainable (~240 tensors, 0.3 M values; the default
run keeps its CLIP tower frozen), gives each a fixed random gradient, runs ``--steps`` updates
with each optimizer from the same start, checks that both reach the same parameters (float
tolerance) and prints both times per step and their ratio::

    .venv/bin/python benchmarks/optimizer_step.py [--steps 300] [--threads 1]
"""

from __future__ import annotations

import argparse

import torch

from timing import print_comparison, seconds_per_call
from visa_core.config import OptimConfig
from visa_core.model.modeling import VisaForSegmentation
from visa_core.model.presets import preset_config
from visa_core.training.optim import build_optimizer


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the default run: 1 or 2)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    settings = OptimConfig(lr=1e-3)
    start = VisaForSegmentation(preset_config("tiny")).state_dict()
    models, seconds = [], {}
    for name in ("torch AdamW fused", "build_optimizer"):
        model = VisaForSegmentation(preset_config("tiny")).requires_grad_(True)
        model.load_state_dict(start)
        generator = torch.Generator().manual_seed(1)
        for parameter in model.parameters():
            parameter.grad = torch.randn(parameter.shape, generator=generator)
        if name == "build_optimizer":
            optimizer = build_optimizer(model, settings)
        else:
            optimizer = torch.optim.AdamW(
                model.parameters(), lr=settings.lr, betas=settings.betas, weight_decay=0.0, fused=True
            )
        seconds[name] = seconds_per_call(optimizer.step, args.steps, warmup=10)
        models.append(model)
    tensors = list(models[0].parameters())
    for (key, a), b in zip(models[0].state_dict().items(), models[1].state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, msg=lambda message, key=key: f"{key}: {message}")
    values = sum(p.numel() for p in tensors) / 1e6
    print(f"tiny preset, {len(tensors)} tensors, {values:.2f} M values, {args.threads} thread(s)")
    note = f"same parameters after {args.steps + 10} updates of each"
    print_comparison(seconds, "torch AdamW fused", "per update", note)


if __name__ == "__main__":
    main()
