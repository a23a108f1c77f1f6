"""``visa data convert ...`` (annotation converters) and ``visa data stats`` (dataset numbers)."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

from visa_core.errors import VisaError
from visa_core.interfaces import Command, DatasetLoader

CONVERTERS = ("ref_youtube_vos", "davis17", "revos-foreground", "lvvis")
SHOWN_PROBLEMS = 10


class DataCommand(Command):
    """Dataset tools: convert annotations to the mask_dict layout, print a dataset's numbers."""

    name: ClassVar[str] = "data"
    help: ClassVar[str] = (
        "dataset tools: convert annotations (visa data convert), print numbers (visa data stats)"
    )

    @classmethod
    def configure(cls, parser: argparse.ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="data_command", metavar="ACTION", required=True)
        convert = actions.add_parser(
            "convert", help="convert annotations to mask_dict.json + meta_expressions"
        )
        formats = convert.add_subparsers(dest="converter", metavar="FORMAT", required=True)
        for name in ("ref_youtube_vos", "davis17"):
            sub = formats.add_parser(
                name, help=f"{name} PNG annotations -> mask_dict.json + meta_expressions.json"
            )
            sub.add_argument("--root", type=Path, required=True, help="the dataset folder")
            sub.add_argument("--split", default="train", help="split folder (train, valid)")
            sub.add_argument("--out", type=Path, required=True, help="output folder")
        foreground = formats.add_parser(
            "revos-foreground", help="ReVOS mask_dict_foreground.json from mask_dict.json"
        )
        foreground.add_argument("--root", type=Path, required=True, help="the ReVOS folder")
        foreground.add_argument("--out", type=Path, required=True, help="output json file")
        lvvis = formats.add_parser(
            "lvvis", help="LV-VIS instances json -> ReVOS-style meta_expressions + mask_dict"
        )
        lvvis.add_argument("--instances", type=Path, required=True, help="e.g. lvvis/train_instances.json")
        lvvis.add_argument("--out", type=Path, required=True, help="output folder (e.g. lvvis/train)")
        stats = actions.add_parser(
            "stats", help="numbers of videos, expressions per kind, frames, annotated frames"
        )
        stats.add_argument("dataset", metavar="NAME", help="registered dataset name (see visa plugins)")
        stats.add_argument("--root", type=Path, required=True, help="the dataset folder")
        stats.add_argument("--split", default="train", help="split")
        stats.add_argument("--json", action="store_true", help="print JSON")
        stats.add_argument(
            "--no-check",
            action="store_true",
            help="skip reading every sample (frame files present, masks decodable); exit status 1 "
            "when the check finds problems",
        )

    def run(self, args: argparse.Namespace) -> int:
        if args.data_command == "stats":
            return self._stats(args)
        return self._convert(args)

    def _convert(self, args: argparse.Namespace) -> int:
        if args.converter in ("ref_youtube_vos", "davis17"):
            from visa_data.convert.png import convert_png_annotations

            counts = convert_png_annotations(args.root, args.split, args.out, args.converter)
            hint = (
                f"load with --mask_dict {args.out / 'mask_dict.json'} "
                f"--meta_expressions {args.out / 'meta_expressions.json'} (loader options)"
            )
        elif args.converter == "revos-foreground":
            from visa_data.convert.foreground import make_foreground

            metas = sorted(args.root.glob("meta_expressions_*_.json"))
            videos = make_foreground(metas, args.root / "mask_dict.json", args.out, args.root / "JPEGImages")
            counts = {"videos": videos}
            hint = f"place it at {args.root / 'mask_dict_foreground.json'}"
        else:
            from visa_data.convert.lvvis import convert_lvvis

            counts = convert_lvvis(args.instances, args.out)
            hint = "load with the lvvis dataset (root: the folder holding train/)"
        print(f"wrote {args.out}: " + ", ".join(f"{value} {key}" for key, value in counts.items()))
        print(hint)
        return 0

    def _stats(self, args: argparse.Namespace) -> int:
        from visa_core.plugins import build

        dataset = build("dataset", args.dataset, root=args.root, split=args.split)
        numbers = dataset_stats(dataset)
        problems = [] if args.no_check else sample_problems(dataset)
        if not args.no_check:
            numbers["problems"] = len(problems)
            numbers["problem_examples"] = problems[:SHOWN_PROBLEMS]
        if args.json:
            print(json.dumps(numbers, indent=2))
        else:
            for key, value in numbers.items():
                if key != "problem_examples":
                    print(f"{key:>20}: {value}")
            for problem in problems[:SHOWN_PROBLEMS]:
                print(f"  problem: {problem}")
            if len(problems) > SHOWN_PROBLEMS:
                print(f"  ... and {len(problems) - SHOWN_PROBLEMS} more")
        return 1 if problems else 0


def sample_problems(dataset: DatasetLoader) -> list[str]:
    """Read every sample (its frame files checked to exist, its masks decoded) and return one
    message per distinct failure (with the samples it hits), e.g. a missing frame file or a
    corrupt mask."""
    from tqdm.auto import tqdm

    failing: dict[str, list[int]] = {}
    for index in tqdm(range(len(dataset)), desc="checking samples", unit="sample"):
        try:
            dataset[index]
        except (VisaError, ValueError, OSError) as error:
            failing.setdefault(str(error), []).append(index)
    return [f"{_samples(indices)}: {message}" for message, indices in failing.items()]


def _samples(indices: list[int]) -> str:
    if len(indices) == 1:
        return f"sample {indices[0]}"
    shown = ", ".join(map(str, indices[:3])) + (", ..." if len(indices) > 3 else "")
    return f"{len(indices)} samples ({shown})"


def dataset_stats(dataset: DatasetLoader) -> dict[str, Any]:
    """The loader's own ``stats()`` if it has one, else counts gathered by reading every sample."""
    own = getattr(dataset, "stats", None)
    if callable(own):
        return own()
    from tqdm.auto import tqdm

    kinds: Counter[str] = Counter()
    frames: dict[str, int] = {}
    annotated: dict[str, int] = {}
    for sample in tqdm(dataset, total=len(dataset), desc="stats", unit="sample"):
        if sample.video is not None:
            video_id = sample.video.video_id
            frames[video_id] = len(sample.video)
            if sample.annotated is not None:
                annotated[video_id] = int(sample.annotated.sum())
        kinds[sample.query.kind or "unspecified" if sample.query else "conversation"] += 1
    return {
        "dataset": dataset.name,
        "split": dataset.config.split,
        "videos": len(frames),
        "expressions": len(dataset),
        "expressions_by_kind": dict(sorted(kinds.items())),
        "frames": sum(frames.values()),
        "annotated_frames": sum(annotated.values()),
    }
