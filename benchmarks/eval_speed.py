"""Whole-process time of ``visa eval revos`` against the official tools' way of scoring, on identical numbers.

Writes a ReVOS-layout timing set, deterministic from ``--seed`` (default 50 videos x 30 frames at
854x480, in ``--data`` or a temporary folder): moving, deforming elliptic blobs as the ground truth
(COCO RLEs in ``mask_dict.json``, null where the object is out of the frame), the video foreground
(``mask_dict_foreground.json``), and a prediction with drift, holes and false positives as 0/1 grey
PNGs (values for which boolean scoring and the official raw-value A and R agree); one expression a
video, alternately referring and reasoning. Then, ``--repeats`` times in turn, each as its own
process with reading included: ``visa eval revos`` (default workers) and
``benchmarks/official_revos_eval.py`` (``eval_revos.py``'s way: cv2 PNG reading, pycocotools
decoding, cv2 dilation) with one process and with one per CPU, as the official tool spreads its
expressions over processes. Checks that the CSV rows (J, F, J&F, A, R per expression), the summary
JSONs and every expression's unrounded J, F, A, R are identical, then prints the times and ratios::

    .venv/bin/python benchmarks/eval_speed.py [--data DIR] [--repeats 3] [--videos 50] [--frames 30]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from pycocotools import mask as cocomask

BASELINE = Path(__file__).with_name("official_revos_eval.py")


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


def encode(mask: np.ndarray) -> dict:
    """A JSON-ready COCO RLE of ``bool[H, W]``."""
    rle = cocomask.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}


def write_timing_set(folder: Path, videos: int, frames: int, height: int, width: int, seed: int) -> Path:
    """Write the timing set (see the module docstring) under ``folder``; returns the prediction folder.

    ``folder/ReVOS`` holds the meta file and the two mask files, ``folder/run/Annotations`` the PNGs.
    """
    rng = np.random.default_rng(seed)
    root, pred_dir = folder / "ReVOS", folder / "run" / "Annotations"
    root.mkdir(parents=True, exist_ok=True)
    meta, mask_dict, foreground_dict = {}, {}, {}
    for v in range(videos):
        name, frame_names = f"video{v:03d}", [f"{t:05d}" for t in range(frames)]
        target, other = blob_video(rng, frames, height, width), blob_video(rng, frames, height, width)
        pred = np.roll(target, (int(rng.integers(-6, 7)), int(rng.integers(-6, 7))), axis=(1, 2))
        pred &= ~blob_video(rng, frames, height, width) | target  # holes and misses
        pred |= blob_video(rng, frames, height, width) & ~target  # false positives
        meta[name] = {
            "frames": frame_names,
            "expressions": {"0": {"exp": f"object of {name}", "anno_id": [2 * v], "type_id": v % 2}},
        }
        mask_dict[str(2 * v)] = [encode(m) if m.any() else None for m in target]
        mask_dict[str(2 * v + 1)] = [encode(m) if m.any() else None for m in other]
        foreground_dict[name] = {"masks_rle": [encode(m) for m in target | other]}
        for t, frame in enumerate(frame_names):
            path = pred_dir / name / "0" / f"{frame}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(pred[t].astype(np.uint8), mode="L").save(path)
        print(f"\rwriting the timing set: video {v + 1}/{videos}", end="", flush=True)
    print()
    (root / "meta_expressions_valid_.json").write_text(json.dumps({"videos": meta}))
    (root / "mask_dict.json").write_text(json.dumps(mask_dict))
    (root / "mask_dict_foreground.json").write_text(json.dumps(foreground_dict))
    return pred_dir


def timed(command: list[str]) -> float:
    """Wall seconds of a command run to completion (its output discarded; a failure stops the benchmark)."""
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds


def read_rows(path: Path) -> dict[str, dict[str, float]]:
    """``videxp`` -> J, F, JF, A, R of a ReVOS per-expression CSV."""
    with path.open(newline="") as handle:
        return {
            row["videxp"]: {k: float(row[k]) for k in ("J", "F", "JF", "A", "R")}
            for row in csv.DictReader(handle)
        }


def differences(visa_out: Path, baseline_out: Path, pred_dir: Path, root: Path) -> list[str]:
    """What differs between ``visa eval`` and the baseline: CSV rows, summaries, unrounded values."""
    from visa_eval import revos

    problems = []
    ours, theirs = read_rows(visa_out / "revos_valid.csv"), read_rows(baseline_out / "revos_valid.csv")
    problems += [
        f"CSV row {key}: {ours.get(key)} != {theirs[key]}" for key in theirs if ours.get(key) != theirs[key]
    ]
    summary, official = (
        json.loads((out / "revos_valid.json").read_text()) for out in (visa_out, baseline_out)
    )
    problems += [
        f"summary {name}: {summary[name]} != {official[name]}"
        for name in official
        if summary[name] != official[name]
    ]
    raw = json.loads((baseline_out / "raw.json").read_text())
    _, results = revos.evaluate(pred_dir, root, progress=False)
    for result in results:
        key, s = f"{result.video}_{result.exp_id}", result.scores
        if [s.j, s.f, s.a, s.r] != raw[key]:
            problems.append(f"unrounded {key}: {[s.j, s.f, s.a, s.r]} != {raw[key]}")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=None, help="folder for the timing set (default: temporary)"
    )
    parser.add_argument("--videos", type=int, default=50)
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--width", type=int, default=854)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=1, help="timed runs of each command, interleaved")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.data or Path(scratch)
        pred_dir, root = folder / "run" / "Annotations", folder / "ReVOS"
        if not (root / "mask_dict_foreground.json").is_file():
            write_timing_set(folder, args.videos, args.frames, args.height, args.width, args.seed)
        cpus = os.cpu_count() or 1
        outputs = {name: Path(scratch) / name for name in ("visa", "official-1", "official-n")}
        for out in outputs.values():
            out.mkdir()
        data = [str(pred_dir), "--root", str(root)]
        visa = [str(Path(sys.executable).with_name("visa")), "eval", "revos", *data, "--quiet"]
        baseline = [sys.executable, str(BASELINE), *data]
        ours, one, many = (str(out) for out in outputs.values())
        commands = {
            "visa eval revos": [
                *visa,
                "--out",
                f"{ours}/revos_valid.json",
                "--csv",
                f"{ours}/revos_valid.csv",
            ],
            "official way, 1 process": [*baseline, "--workers", "1", "--out", one],
            f"official way, {cpus} processes": [*baseline, "--workers", str(cpus), "--out", many],
        }
        seconds: dict[str, list[float]] = {name: [] for name in commands}
        for repeat in range(args.repeats):
            for name, command in commands.items():
                seconds[name].append(timed(command))
                print(f"run {repeat + 1}/{args.repeats}  {name:<28}{seconds[name][-1]:8.2f} s", flush=True)
        problems = [
            problem
            for baseline in ("official-1", "official-n")
            for problem in differences(outputs["visa"], outputs[baseline], pred_dir, root)
        ]
    print(f"load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}  ({cpus} CPUs)")
    ours = seconds.pop("visa eval revos")
    print(f"{'visa eval revos':<28} {' '.join(f'{v:.2f}' for v in ours)} s")
    for name, values in seconds.items():
        ratios = [baseline / own for baseline, own in zip(values, ours, strict=True)]
        times = " ".join(f"{v:.2f}" for v in values)
        print(f"{name:<28} {times} s   visa eval is {min(ratios):.2f}-{max(ratios):.2f}x faster")
    print(f"identical J, F, J&F, A, R on every expression (rounded and unrounded): {not problems}")
    if problems:
        raise SystemExit("\n".join(problems[:20]))


if __name__ == "__main__":
    main()
