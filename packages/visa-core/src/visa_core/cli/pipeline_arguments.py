"""The command-line arguments that build a :class:`~visa_core.inference.VisaPipeline`.

``visa segment`` and ``visa predict`` share them: the model folder, the frame selector and the
propagator with their options, device, dtype, quantisation and a teacher-forced answer. Every
option is checked before the model loads (counts by argparse, component names and options by
building the selector and propagator first, the model folder by
:func:`~visa_core.model.validation.validate_model_folder`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from visa_core.cli.argument_checks import add_overwrite_flag, non_negative_int, positive_int
from visa_core.cli.options import component_options
from visa_core.inference.feature_cache import DEFAULT_MAX_FRAMES
from visa_core.run_manifest import weights_digest


def add_pipeline_arguments(parser: argparse.ArgumentParser, default_device: str | None = "cpu") -> None:
    """Add the pipeline arguments to ``parser``."""
    parser.add_argument("--model", required=True, type=Path, help="VISA model folder")
    for kind, default, path_flag, path_help in (
        ("selector", "uniform", "--selector-model", "model folder for the selector (clip, llamavid)"),
        ("propagator", "seg_token", "--propagator-checkpoint", "checkpoint for the propagator (xmem, sam2)"),
    ):
        parser.add_argument(f"--{kind}", default=default, help=f"registered {kind} name")
        parser.add_argument(path_flag, type=Path, help=path_help)
        parser.add_argument(
            f"--{kind}-option",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help=f"another {kind} option (repeatable; VALUE is read as YAML)",
        )
    parser.add_argument(
        "--device", default=default_device, help="cpu, cuda or cuda:N (None: the accelerate process's device)"
    )
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    quantization = parser.add_mutually_exclusive_group()
    quantization.add_argument("--load-in-8bit", action="store_true", help="8-bit LLM (bitsandbytes, CUDA)")
    quantization.add_argument("--load-in-4bit", action="store_true", help="4-bit LLM (bitsandbytes, CUDA)")
    parser.add_argument("--max-new-tokens", type=positive_int, default=64, help="longest generated answer")
    parser.add_argument(
        "--cached-frames",
        type=non_negative_int,
        default=DEFAULT_MAX_FRAMES,
        help="frames whose CLIP tokens and SAM embeddings are kept for reuse across queries (0: off)",
    )
    parser.add_argument(
        "--answer",
        help="teacher-force this answer instead of generating (the original evaluation: 'Sure, [SEG].')",
    )
    add_overwrite_flag(parser, "--out")


def pipeline_from_arguments(args: argparse.Namespace, device: str | None = None) -> Any:
    """Build the pipeline the parsed arguments describe (``device`` overrides ``--device``): the
    selector and propagator first, so that a bad name, option or checkpoint is reported before
    the model loads."""
    from visa_core.inference import VisaPipeline
    from visa_core.inference.loading import load_model
    from visa_core.plugins import build

    selector, propagator = (build(kind, name, **options) for kind, name, options in _component_requests(args))
    model, processor = load_model(
        args.model,
        device=device or args.device or "cpu",
        dtype=args.dtype,
        quantization="8bit" if args.load_in_8bit else "4bit" if args.load_in_4bit else None,
    )
    return VisaPipeline(
        model,
        processor,
        selector,
        propagator,
        max_new_tokens=args.max_new_tokens,
        forced_answer=args.answer,
        cached_frames=args.cached_frames,
    )


def pipeline_settings(args: argparse.Namespace) -> dict[str, Any]:
    """What a run's outputs depend on, for its manifest: the model weights' digest, the selector and
    propagator with their options, the forced answer, generation length, dtype and quantisation."""
    (_, selector, selector_options), (_, propagator, propagator_options) = _component_requests(args)
    return {
        "model_weights": weights_digest(args.model) if args.model.is_dir() else None,
        "selector": selector,
        "selector_options": selector_options,
        "propagator": propagator,
        "propagator_options": propagator_options,
        "answer": args.answer,
        "max_new_tokens": args.max_new_tokens,
        "dtype": args.dtype,
        "quantization": "8bit" if args.load_in_8bit else "4bit" if args.load_in_4bit else None,
    }


def _component_requests(args: argparse.Namespace) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        ("frame_selector", args.selector, component_options(args.selector_option, model=args.selector_model)),
        (
            "propagator",
            args.propagator,
            component_options(args.propagator_option, checkpoint=args.propagator_checkpoint),
        ),
    ]
