"""``visa eval BENCHMARK PRED_DIR --root DATASET_ROOT``: score predictions like the official tools.

Predictions are ``PRED_DIR/<video>/<exp_id>/<frame>.png`` (ReasonSeg: ``PRED_DIR/<name>.png``).
The summary JSON and per-expression CSV default to ``PRED_DIR/../<benchmark>_<split>.json|csv``
(where ``eval_revos.py`` writes them). MeViS ``valid`` and Ref-YouTube-VOS have no public ground
truth: a submission zip is written instead.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import ClassVar

from visa_core.errors import DataFormatError
from visa_core.interfaces import Command

DEFAULT_SPLITS = {
    "revos": "valid",
    "mevis": "valid_u",
    "davis17": "valid",
    "ref_youtube_vos": "valid",
    "reasonseg": "val",
}


def positive_int(text: str) -> int:
    """An argparse type: a whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of workers, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


class EvalCommand(Command):
    """Score a prediction folder on ReVOS, MeViS, Ref-DAVIS17, ReasonSeg, or zip it for a server."""

    name: ClassVar[str] = "eval"
    help: ClassVar[str] = (
        "score predictions exactly like the official evaluators (J, F, J&F, A, R, gIoU, cIoU)"
    )

    @classmethod
    def configure(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("benchmark", choices=sorted(DEFAULT_SPLITS), help="which benchmark")
        parser.add_argument(
            "pred_dir", type=Path, metavar="PRED_DIR", help="PRED_DIR/<video>/<exp_id>/<frame>.png"
        )
        parser.add_argument(
            "--root", type=Path, required=True, help="the dataset folder in its published layout"
        )
        parser.add_argument(
            "--split", default=None, help="split (default: revos valid, mevis valid_u, reasonseg val)"
        )
        parser.add_argument("--out", type=Path, default=None, help="summary JSON (or the submission zip)")
        parser.add_argument("--csv", type=Path, default=None, help="per-expression CSV")
        parser.add_argument(
            "--workers",
            type=positive_int,
            default=None,
            help="processes reading and scoring videos (default: the CPUs, at most 8)",
        )
        parser.add_argument(
            "--legacy-png-values",
            action="store_true",
            help="A and R on raw PNG values like eval_revos.py (0/255 PNGs weigh each false positive 255x)",
        )
        parser.add_argument("--quiet", action="store_true", help="no progress bar")

    def run(self, args: argparse.Namespace) -> int:
        split = args.split or DEFAULT_SPLITS[args.benchmark]
        if not args.pred_dir.is_dir():
            raise DataFormatError(f"prediction folder {args.pred_dir} does not exist")
        stem = args.pred_dir.resolve().parent / f"{args.benchmark}_{split}"
        if args.benchmark == "ref_youtube_vos" or (args.benchmark == "mevis" and split == "valid"):
            return self._submission(args, split, stem)
        if args.benchmark == "reasonseg":
            return self._reasonseg(args, split, stem)
        return self._video(args, split, stem)

    def _video(self, args: argparse.Namespace, split: str, stem: Path) -> int:
        from visa_core.annotations import read_json, read_meta_expressions
        from visa_eval import pooled, revos
        from visa_eval.davis import global_statistics, semi_supervised_frames
        from visa_eval.davis_truth import DavisTargets
        from visa_eval.runner import VideoTargets, score_videos

        out, csv_path = args.out or stem.with_suffix(".json"), args.csv or stem.with_suffix(".csv")
        options = {
            "workers": args.workers,
            "legacy_png_values": args.legacy_png_values,
            "progress": not args.quiet,
        }
        if args.benchmark == "revos":
            summary, results = revos.evaluate(args.pred_dir, args.root, split, **options)
            print(revos.format_table(summary))
            revos.write_json(summary, out)
            revos.write_csv(results, csv_path)
        else:
            if args.benchmark == "mevis":
                meta_path, mask_path = (
                    args.root / split / "meta_expressions.json",
                    args.root / split / "mask_dict.json",
                )
                videos = read_meta_expressions(meta_path)
                mask_dict = read_json(mask_path, what="MeViS mask file")
                results = score_videos(
                    args.pred_dir, videos, lambda v: VideoTargets(v, mask_dict, mask_path), **options
                )
            else:
                videos = read_meta_expressions(
                    args.root / "meta_expressions" / split / "meta_expressions.json"
                )
                annotations = args.root / split / "Annotations"
                results = score_videos(
                    args.pred_dir, videos, lambda v: DavisTargets(v, annotations), **options
                )
            summary = pooled.summarise_pooled(results)
            print(pooled.format_pooled(summary))
            document = summary.as_json()
            if args.benchmark == "davis17":
                scored = [r for r in results if r.frames is not None]
                davis = global_statistics(
                    [semi_supervised_frames(r.frames.j) for r in scored],  # type: ignore[union-attr]
                    [semi_supervised_frames(r.frames.f) for r in scored],  # type: ignore[union-attr]
                )
                document[
                    "davis2017_semi_supervised (first and last frames dropped; scored expressions only)"
                ] = davis
                print(
                    "DAVIS 2017 semi-supervised protocol: "
                    + "  ".join(f"{k} {100 * v:.2f}" for k, v in davis.items())
                )
            out.write_text(json.dumps(document, indent=4) + "\n", encoding="utf-8")
            pooled.write_pooled_csv(results, csv_path)
        print(f"summary: {out}\nper expression: {csv_path}")
        return 0

    def _reasonseg(self, args: argparse.Namespace, split: str, stem: Path) -> int:
        from visa_eval import reasonseg

        result = reasonseg.evaluate(args.pred_dir, args.root, split)
        print(f"gIoU {100 * result.giou:.2f}  cIoU {100 * result.ciou:.2f}  images {result.count}")
        for problem in result.problems:
            print(f"  scored as empty: {problem}")
        out = args.out or stem.with_suffix(".json")
        out.write_text(json.dumps(result.as_json(), indent=4) + "\n", encoding="utf-8")
        print(f"summary: {out}")
        return 0

    def _submission(self, args: argparse.Namespace, split: str, stem: Path) -> int:
        from visa_core.annotations import read_meta_expressions
        from visa_eval.submission import write_submission

        if args.benchmark == "mevis":
            meta_path, prefix = args.root / split / "meta_expressions.json", ""
        else:
            meta_path, prefix = (
                args.root / "meta_expressions" / split / "meta_expressions.json",
                "Annotations/",
            )
        out = args.out or stem.parent / f"{stem.name}_submission.zip"
        missing = write_submission(args.pred_dir, read_meta_expressions(meta_path), out, prefix)
        print(f"{args.benchmark} {split} has no public ground truth; submission written to {out}")
        if missing:
            print(
                f"{len(missing)} expected prediction(s) missing (not in the zip; the server will reject it):"
            )
            for name in missing[:20]:
                print(f"  {name}")
            return 1
        return 0
