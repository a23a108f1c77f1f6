"""``visa segment``: a video file or frame folder and questions in, masks, answers and an overlay out."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import ClassVar

from visa_core.cli.options import component_options
from visa_core.interfaces import Command


class SegmentCommand(Command):
    """Segment what free-form questions ask about in every frame of a video."""

    name: ClassVar[str] = "segment"
    help: ClassVar[str] = "segment the objects that questions ask about in every frame of a video"

    @classmethod
    def configure(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--model", required=True, type=Path, help="VISA model folder")
        parser.add_argument("--video", required=True, type=Path, help="video file (mp4, ...) or frame folder")
        parser.add_argument("--query", required=True, action="append", help="a question (repeatable)")
        parser.add_argument("--selector", default="uniform", help="registered frame selector")
        parser.add_argument(
            "--selector-model", type=Path, help="model folder for the selector (clip, llamavid)"
        )
        parser.add_argument(
            "--selector-option",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="another selector option (repeatable; VALUE is read as YAML)",
        )
        parser.add_argument("--propagator", default="seg_token", help="registered mask propagator")
        parser.add_argument(
            "--propagator-checkpoint", type=Path, help="checkpoint for the propagator (xmem, sam2)"
        )
        parser.add_argument(
            "--propagator-option",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="another propagator option (repeatable; VALUE is read as YAML)",
        )
        parser.add_argument("--out", required=True, type=Path, help="output folder")
        parser.add_argument("--device", default="cpu")
        parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
        parser.add_argument(
            "--answer",
            help="teacher-force this answer instead of generating (the original evaluation: 'Sure, [SEG].')",
        )
        quant = parser.add_mutually_exclusive_group()
        quant.add_argument("--load-in-8bit", action="store_true", help="bitsandbytes 8-bit LLM (CUDA only)")
        quant.add_argument("--load-in-4bit", action="store_true", help="bitsandbytes 4-bit LLM (CUDA only)")
        parser.add_argument("--max-new-tokens", type=int, default=64)
        parser.add_argument("--no-overlay", action="store_true", help="skip the overlay video")

    def run(self, args: argparse.Namespace) -> int:
        from tqdm import tqdm

        from visa_core.inference import VisaPipeline
        from visa_core.inference.outputs import write_masks, write_overlay_video, write_result_json
        from visa_core.types import Query
        from visa_core.video import Video

        video = Video.open(args.video)
        pipeline = VisaPipeline.from_pretrained(
            args.model,
            selector=args.selector,
            selector_options=component_options(args.selector_option, model=args.selector_model),
            propagator=args.propagator,
            propagator_options=component_options(
                args.propagator_option, checkpoint=args.propagator_checkpoint
            ),
            device=args.device,
            dtype=args.dtype,
            forced_answer=args.answer,
            quantization="8bit" if args.load_in_8bit else "4bit" if args.load_in_4bit else None,
            max_new_tokens=args.max_new_tokens,
        )
        queries = [Query(text=text, query_id=f"q{i}") for i, text in enumerate(args.query)]
        results = [pipeline.answer(video, query) for query in tqdm(queries, desc="answering", unit="query")]
        for result in results:
            target = "" if result.has_target else "  (no [SEG]: nothing to segment)"
            print(f"[{result.query.query_id}] {result.query.text}\n  -> {result.answer}{target}")
        args.out.mkdir(parents=True, exist_ok=True)
        total = len(video) * sum(r.keyframe_logits.shape[0] > 0 for r in results)
        stream = tqdm(pipeline.track(video, results), total=total, desc="propagating", unit="frame")
        areas = write_masks(args.out, video, results, stream)
        print(f"masks: {args.out / 'masks'}")
        print(f"result: {write_result_json(args.out, str(args.video), video, results, areas)}")
        if not args.no_overlay:
            print(f"overlay: {write_overlay_video(args.out, video, results)}")
        return 0
