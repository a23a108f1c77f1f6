"""``visa predict``: a whole dataset split into the official evaluators' prediction layout."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import ClassVar

from visa_core.cli.options import component_options
from visa_core.cli.pipeline_arguments import add_pipeline_arguments, pipeline_from_arguments
from visa_core.interfaces import Command


class PredictCommand(Command):
    """Predict every expression of a dataset split; resumable and shardable with accelerate."""

    name: ClassVar[str] = "predict"
    help: ClassVar[str] = "write predictions for a dataset split as PRED/<video>/<expression>/<frame>.png"

    @classmethod
    def configure(cls, parser: argparse.ArgumentParser) -> None:
        add_pipeline_arguments(parser, default_device=None)
        parser.add_argument("--dataset", required=True, help="registered dataset name, e.g. revos")
        parser.add_argument("--root", required=True, type=Path, help="dataset folder")
        parser.add_argument("--split", default="valid")
        parser.add_argument("--dataset-option", action="append", default=[], metavar="KEY=VALUE")
        parser.add_argument("--out", required=True, type=Path, help="prediction folder")

    def run(self, args: argparse.Namespace) -> int:
        from accelerate import PartialState

        from visa_core.inference.predict import predict_dataset
        from visa_core.plugins import build

        state = PartialState()
        options = component_options(args.dataset_option)
        dataset = build("dataset", args.dataset, root=args.root, split=args.split, **options)
        pipeline = pipeline_from_arguments(args, device=args.device or str(state.device))
        summary = predict_dataset(
            pipeline, dataset, args.out, process_index=state.process_index, num_processes=state.num_processes
        )
        print(
            f"[rank {state.process_index}/{state.num_processes}] videos {summary.videos}, "
            f"expressions written "
            f"{summary.expressions_written}, already done {summary.expressions_skipped}, "
            f"answers without [SEG] (empty masks written) {summary.without_seg}"
        )
        return 0
