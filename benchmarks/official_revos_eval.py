"""ReVOS scoring the way the official tools do it: the speed baseline of ``benchmarks/eval_speed.py``.

Follows VISA's ``tools/eval_revos.py`` with ``tools/metrics.py`` (the DAVIS 2017 toolkit's
``db_eval_iou`` / ``db_eval_boundary`` / ``f_measure`` / ``_seg2bmap``, VISA's
``get_r2vos_accuracy`` / ``get_r2vos_robustness``) operation for operation: per expression, every
frame's prediction read with ``cv2.imread(..., IMREAD_GRAYSCALE)``, every object RLE and the
foreground RLE decoded with ``pycocotools.mask.decode``, the boundary dilated with ``cv2.dilate``
by ``skimage.morphology.disk``'s footprint, expressions spread over a pool of processes as the
official ``mp.Process`` workers are (default: one per CPU). Only what cannot change a number is
left out (the all-false void mask, the Manager dicts). Writes the official JSON summary and CSV
plus every expression's unrounded J, F, A, R (``--raw``)::

    .venv/bin/python benchmarks/official_revos_eval.py PRED_DIR --root ROOT --out DIR [--workers N]
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
from pathlib import Path

import cv2
import numpy as np
from pycocotools import mask as cocomask

META: dict = {}
MASKS: dict = {}
FOREGROUND: dict = {}


def seg2bmap(seg: np.ndarray) -> np.ndarray:
    """``_seg2bmap`` for a mask of the image's own size: the boundary, offset half a pixel to the origin."""
    seg = seg.astype(bool)
    height, width = seg.shape
    east, south, south_east = np.zeros_like(seg), np.zeros_like(seg), np.zeros_like(seg)
    east[:, : width - 1] = seg[:, 1:]
    south[: height - 1, :] = seg[1:, :]
    south_east[: height - 1, : width - 1] = seg[1:, 1:]
    bmap = seg ^ east | seg ^ south | seg ^ south_east
    bmap[-1, :] = seg[-1, :] ^ east[-1, :]
    bmap[:, -1] = seg[:, -1] ^ south[:, -1]
    bmap[-1, -1] = 0
    return bmap


def f_measure(foreground_mask: np.ndarray, gt_mask: np.ndarray, bound_th: float = 0.008) -> float:
    """``f_measure`` of one frame (no void pixels)."""
    bound_pix = bound_th if bound_th >= 1 else np.ceil(bound_th * np.linalg.norm(foreground_mask.shape))
    fg_boundary, gt_boundary = seg2bmap(foreground_mask), seg2bmap(gt_mask)
    grid = np.arange(-bound_pix, bound_pix + 1)
    footprint = ((grid[None, :] ** 2 + grid[:, None] ** 2) <= bound_pix**2).astype(np.uint8)
    fg_dil = cv2.dilate(fg_boundary.astype(np.uint8), footprint)
    gt_dil = cv2.dilate(gt_boundary.astype(np.uint8), footprint)
    gt_match, fg_match = gt_boundary * fg_dil, fg_boundary * gt_dil
    n_fg, n_gt = np.sum(fg_boundary), np.sum(gt_boundary)
    if n_fg == 0 and n_gt > 0:
        precision, recall = 1, 0
    elif n_fg > 0 and n_gt == 0:
        precision, recall = 0, 1
    elif n_fg == 0 and n_gt == 0:
        precision, recall = 1, 1
    else:
        precision, recall = np.sum(fg_match) / float(n_fg), np.sum(gt_match) / float(n_gt)
    return 0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def db_eval_iou(annotation: np.ndarray, segmentation: np.ndarray) -> np.ndarray:
    """``db_eval_iou`` of ``[T, H, W]`` stacks: per-frame IoU, 1 where the union is empty."""
    annotation, segmentation = annotation.astype(bool), segmentation.astype(bool)
    inters = np.sum(segmentation & annotation, axis=(-2, -1))
    union = np.sum(segmentation | annotation, axis=(-2, -1))
    j = inters / union
    j[np.isclose(union, 0)] = 1
    return j


def score_expression(pred_dir: Path, video: str, exp_id: str) -> list[np.float64]:
    """``eval_queue``'s body for one expression: unrounded ``[j, f, a, r]`` (zeros when it fails).

    The values stay ``np.float64``: the official ``round(100 * j, 2)`` is then numpy's rounding.
    """
    zeros = [np.float64(0)] * 4
    entry = META[video]
    if not (pred_dir / video).exists():
        return zeros
    try:
        first = cv2.imread(str(pred_dir / video / exp_id / f"{entry['frames'][0]}.png"), cv2.IMREAD_GRAYSCALE)
        height, width = first.shape
        length = len(entry["frames"])
        gt_masks = np.zeros((length, height, width), dtype=np.uint8)
        pred_masks = np.zeros((length, height, width), dtype=np.uint8)
        foreground_masks = np.zeros((length, height, width), dtype=np.uint8)
        for t, frame in enumerate(entry["frames"]):
            for anno_id in entry["expressions"][exp_id]["anno_id"]:
                rle = MASKS[str(anno_id)][t]
                if rle:
                    gt_masks[t] += cocomask.decode(rle)
            fore = cocomask.decode(FOREGROUND[video]["masks_rle"][t])
            foreground_masks[t] = (
                fore.sum(axis=2).astype(np.uint8) if fore.ndim == 3 else fore.astype(np.uint8)
            )
            pred_masks[t] = cv2.imread(str(pred_dir / video / exp_id / f"{frame}.png"), cv2.IMREAD_GRAYSCALE)
        j = db_eval_iou(gt_masks, pred_masks).mean()
        f = np.array([f_measure(p, g) for p, g in zip(pred_masks, gt_masks, strict=True)]).mean()
        a = np.array([np.mean(g == p) for g, p in zip(gt_masks, pred_masks, strict=True)]).mean()
        robustness = [
            max(1 - ((1 - g) * p).sum() / (fg.sum() + 1e-6), 0.0)
            for g, p, fg in zip(gt_masks, pred_masks, foreground_masks, strict=True)
        ]
        return [j, f, a, np.array(robustness).mean()]
    except Exception as error:  # the official tool prints the error and scores the expression 0
        print(f"error: {video}_{exp_id}: {error!r}")
        return zeros


def _score_job(job: tuple[Path, str, str]) -> list[np.float64]:
    return score_expression(*job)


def summary(rows: list[dict]) -> dict:
    """``eval_revos.py``'s means of the rounded values per type and overall."""
    result = {}
    for name, type_id in (("referring", 0), ("reason", 1)):
        means = {k: np.array([row[k] for row in rows if row["type_id"] == type_id]).mean() for k in "JFAR"}
        result[name] = {**means, "JF": (means["J"] + means["F"]) / 2}
    result["overall"] = {k: (result["referring"][k] + result["reason"][k]) / 2 for k in result["reason"]}
    return {name: {k: float(v) for k, v in values.items()} for name, values in result.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pred_dir", type=Path)
    parser.add_argument(
        "--root", type=Path, required=True, help="meta_expressions_<split>_.json, mask_dict*.json"
    )
    parser.add_argument("--split", default="valid")
    parser.add_argument("--out", type=Path, required=True, help="folder for the JSON, CSV and raw values")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes (default: CPUs)")
    args = parser.parse_args()
    if args.workers < 1:
        parser.error(f"--workers must be at least 1, got {args.workers}")
    META.update(json.loads((args.root / f"meta_expressions_{args.split}_.json").read_text())["videos"])
    MASKS.update(json.loads((args.root / "mask_dict.json").read_text()))
    FOREGROUND.update(json.loads((args.root / "mask_dict_foreground.json").read_text()))
    jobs = [
        (args.pred_dir, video, exp_id) for video, entry in META.items() for exp_id in entry["expressions"]
    ]
    if args.workers == 1:
        values = [_score_job(job) for job in jobs]
    else:
        with multiprocessing.get_context("fork").Pool(args.workers) as pool:
            values = pool.map(_score_job, jobs, chunksize=1)
    rows = []
    for (_, video, exp_id), (j, f, a, r) in zip(jobs, values, strict=True):
        expression = META[video]["expressions"][exp_id]
        rows.append(
            {
                "video_name": video,
                "exp_id": exp_id,
                "exp": expression["exp"],
                "videxp": f"{video}_{exp_id}",
                "J": round(100 * j, 2),
                "F": round(100 * f, 2),
                "JF": round(100 * (j + f) / 2, 2),
                "A": round(100 * a, 2),
                "R": round(100 * r, 2),
                "type_id": expression["type_id"],
            }
        )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "revos_valid.json").write_text(json.dumps(summary(rows), indent=4))
    with (args.out / "revos_valid.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    raw = {
        f"{video}_{exp_id}": [float(v) for v in value]
        for (_, video, exp_id), value in zip(jobs, values, strict=True)
    }
    (args.out / "raw.json").write_text(json.dumps(raw))


if __name__ == "__main__":
    main()
