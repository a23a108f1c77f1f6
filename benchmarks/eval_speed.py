"""Speed of visa-eval's J, F, A, R against the plain per-frame reference, on identical numbers.

Generates 50 videos x 30 frames at 854x480 with moving, deforming elliptic blobs (ground truth,
a prediction with drift, holes and false positives, and the video foreground; 0/1 values, for
which boolean and raw-value scoring agree), then scores every expression twice in one process:
with :mod:`visa_eval.reference` (the official algorithm frame by frame, dilation written out as
an OR over the disk offsets) and with :func:`visa_eval.scoring.score_expression` (whole video,
bit-packed). Checks that every per-expression value is identical and prints both times and their
ratio (goal: >= 10x, single process). PNG reading is not timed (see ``visa eval``)::

    .venv/bin/python benchmarks/eval_speed.py [--videos 50] [--frames 30]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from visa_eval.reference import reference_scores
from visa_eval.scoring import score_expression


def blob_video(rng: np.random.Generator, frames: int, height: int, width: int) -> np.ndarray:
    """``bool[T, H, W]``: 1-3 ellipses with wavy outlines, drifting and breathing over the frames."""
    out = np.zeros((frames, height, width), dtype=bool)
    for _ in range(rng.integers(1, 4)):
        cy, cx = rng.uniform(0.2, 0.8) * height, rng.uniform(0.2, 0.8) * width
        vy, vx = rng.normal(0, 2, size=2)
        ry, rx = rng.uniform(0.05, 0.25) * height, rng.uniform(0.05, 0.2) * width
        phase = rng.uniform(0, 6.3)
        for t in range(frames):
            y, x = cy + vy * t, cx + vx * t
            scale = 1 + 0.05 * np.sin(0.3 * t + phase)
            top, bottom = max(0, int(y - 1.3 * ry)), min(height, int(y + 1.3 * ry) + 1)
            left, right = max(0, int(x - 1.3 * rx)), min(width, int(x + 1.3 * rx) + 1)
            if top >= bottom or left >= right:
                continue
            yy, xx = np.mgrid[top:bottom, left:right].astype(np.float32)
            wobble = scale * (1 + 0.12 * np.sin(xx / 9 + phase) * np.cos(yy / 13 + 0.2 * t))
            out[t, top:bottom, left:right] |= ((yy - y) / ry) ** 2 + ((xx - x) / rx) ** 2 <= wobble**2
    return out


def make_dataset(videos: int, frames: int, height: int, width: int, seed: int = 0):
    """``[(pred, gt, foreground)]`` uint8 0/1 masks per video (one expression each)."""
    rng = np.random.default_rng(seed)
    data = []
    for _ in range(videos):
        gt = blob_video(rng, frames, height, width)
        pred = np.roll(gt, (int(rng.integers(-6, 7)), int(rng.integers(-6, 7))), axis=(1, 2))
        pred &= ~blob_video(rng, frames, height, width) | gt  # holes and misses
        pred |= blob_video(rng, frames, height, width) & ~gt  # false positives
        foreground = gt | blob_video(rng, frames, height, width)
        data.append(tuple(m.astype(np.uint8) for m in (pred, gt, foreground)))
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=50)
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--width", type=int, default=854)
    args = parser.parse_args()
    print(f"generating {args.videos} videos x {args.frames} frames at {args.width}x{args.height} ...")
    data = make_dataset(args.videos, args.frames, args.height, args.width)

    start = time.perf_counter()
    ours = [score_expression(p, g, f) for p, g, f in data]
    fast = time.perf_counter() - start

    start = time.perf_counter()
    reference = [reference_scores(g, p, f) for p, g, f in data]
    slow = time.perf_counter() - start

    mismatches = [
        i for i, (o, r) in enumerate(zip(ours, reference, strict=True)) if (o.j, o.f, o.a, o.r) != r
    ]
    print(f"reference (per frame): {slow:8.2f} s")
    print(f"visa_eval (per video): {fast:8.2f} s")
    print(f"speed-up: {slow / fast:.1f}x   identical J, F, A, R on {len(data)} expressions: {not mismatches}")
    mean = np.mean([(o.j, o.f) for o in ours], axis=0)
    print(f"mean J {mean[0]:.4f}  mean F {mean[1]:.4f}")
    if mismatches:
        raise SystemExit(f"values differ on expressions {mismatches[:10]}")


if __name__ == "__main__":
    main()
