"""``visa predict``: a whole dataset split into the official evaluators' prediction layout."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, ClassVar

from visa_core.cli.options import component_options
from visa_core.cli.pipeline_arguments import (
    add_pipeline_arguments,
    pipeline_from_arguments,
    pipeline_settings,
)
from visa_core.interfaces import Command

DESCRIPTION = """\
Predict every expression of a dataset split into PRED/<video>/<expression>/<frame>.png and log
the answers to PRED/predictions.jsonl.

Resuming: --out must be new, empty, or an earlier predict run of the same settings. Each run
writes PRED/visa-run.json (model weights digest, selector, propagator and their options, --answer,
dataset, split, generation length, dtype; package versions for the record). Run the same command
again after an interruption and it skips every expression whose masks and answer are already
there; with any setting changed it stops and names the differing fields (--overwrite deletes the
folder's contents and starts over).

Sharding: accelerate launch --multi_gpu --num_processes N $(which visa) predict ... gives process i
the videos i, i + N, ...; each logs to PRED/predictions.rank<i>.jsonl, merged into
PRED/predictions.jsonl when all have finished (also on CPU: the processes run over gloo).
"""


class _DescriptionAndDefaults(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """The description as written, the options with their defaults."""


class PredictCommand(Command):
    """Predict every expression of a dataset split; resumable and shardable with accelerate."""

    name: ClassVar[str] = "predict"
    help: ClassVar[str] = "write predictions for a dataset split as PRED/<video>/<expression>/<frame>.png"

    @classmethod
    def configure(cls, parser: argparse.ArgumentParser) -> None:
        parser.description = DESCRIPTION
        parser.formatter_class = _DescriptionAndDefaults
        add_pipeline_arguments(parser, default_device=None)
        parser.add_argument("--dataset", required=True, help="registered dataset name, e.g. revos")
        parser.add_argument("--root", required=True, type=Path, help="dataset folder")
        parser.add_argument("--split", default="valid", help="split (default: valid)")
        parser.add_argument("--dataset-option", action="append", default=[], metavar="KEY=VALUE")
        parser.add_argument(
            "--out", required=True, type=Path, help="prediction folder (new, empty, or a run to resume)"
        )

    def run(self, args: argparse.Namespace) -> int:
        import torch
        from accelerate import PartialState

        from visa_core.inference.predict import expression_order, merge_logs, predict_dataset
        from visa_core.model.validation import validate_model_folder
        from visa_core.outputs_policy import inspect_output_folder
        from visa_core.plugins import build

        state = PartialState(cpu=not torch.cuda.is_available())
        options = component_options(args.dataset_option)
        dataset = build("dataset", args.dataset, root=args.root, split=args.split, **options)
        validate_model_folder(args.model)
        plan = inspect_output_folder(args.out, overwrite=args.overwrite, manifest=predict_manifest(args))
        pipeline = pipeline_from_arguments(args, device=args.device or str(state.device))
        state.wait_for_everyone()  # every process has checked the folder before one changes it
        if state.is_main_process:
            plan.apply()
        state.wait_for_everyone()
        summary = predict_dataset(
            pipeline, dataset, args.out, process_index=state.process_index, num_processes=state.num_processes
        )
        print(
            f"[rank {state.process_index}/{state.num_processes}] videos {summary.videos}, "
            f"expressions written {summary.expressions_written}, already done {summary.expressions_skipped}, "
            f"answers without [SEG] (empty masks written) {summary.without_seg}"
        )
        if state.num_processes > 1:
            state.wait_for_everyone()
            if state.is_main_process:
                count = merge_logs(args.out, expression_order(dataset.queries_by_video()))
                print(
                    f"merged the {state.num_processes} processes' logs: {count} answers in predictions.jsonl"
                )
        if plan.resumed and state.is_main_process:
            print(f"resumed the run in {args.out} (same settings as its visa-run.json)")
        return 0


def predict_manifest(args: argparse.Namespace) -> dict[str, Any]:
    """The manifest of a predict run: the pipeline settings and the dataset split."""
    from visa_core.run_manifest import build_manifest

    settings = {
        **pipeline_settings(args),
        "dataset": args.dataset,
        "root": str(args.root.resolve()),
        "split": args.split,
        "dataset_options": component_options(args.dataset_option),
    }
    return build_manifest("predict", settings, {"model": str(args.model.resolve())})
