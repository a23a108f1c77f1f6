"""``visa segment``: a video file or frame folder and questions in, masks, answers and an overlay out."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, ClassVar

from visa_core.cli.pipeline_arguments import (
    add_pipeline_arguments,
    pipeline_from_arguments,
    pipeline_settings,
)
from visa_core.interfaces import Command


class SegmentCommand(Command):
    """Segment what free-form questions ask about in every frame of a video."""

    name: ClassVar[str] = "segment"
    help: ClassVar[str] = "segment the objects that questions ask about in every frame of a video"

    @classmethod
    def configure(cls, parser: argparse.ArgumentParser) -> None:
        add_pipeline_arguments(parser)
        parser.add_argument("--video", required=True, type=Path, help="video file (mp4, ...) or frame folder")
        parser.add_argument("--query", required=True, action="append", help="a question (repeatable)")
        parser.add_argument(
            "--out",
            required=True,
            type=Path,
            help="output folder: new, empty, or an earlier segment run of the same settings (its "
            "visa-run.json); anything else needs --overwrite",
        )
        parser.add_argument("--no-overlay", action="store_true", help="skip the overlay video")

    def run(self, args: argparse.Namespace) -> int:
        from tqdm import tqdm

        from visa_core.inference.outputs import write_masks, write_overlay_video, write_result_json
        from visa_core.inference.queries import check_query, check_query_text
        from visa_core.model.validation import validate_model_folder
        from visa_core.outputs_policy import inspect_output_folder
        from visa_core.types import Query
        from visa_core.video import Video

        texts = [check_query_text(text, f"--query {i + 1}") for i, text in enumerate(args.query)]
        validate_model_folder(args.model)
        plan = inspect_output_folder(args.out, overwrite=args.overwrite, manifest=segment_manifest(args))
        video = Video.open(args.video)
        pipeline = pipeline_from_arguments(args)
        queries = [Query(text=text, query_id=f"q{i}") for i, text in enumerate(texts)]
        for i, query in enumerate(queries):
            check_query(
                query.text,
                pipeline.model,
                pipeline.processor,
                max_new_tokens=args.max_new_tokens,
                label=f"--query {i + 1}",
            )
        plan.apply()
        results = [pipeline.answer(video, query) for query in tqdm(queries, desc="answering", unit="query")]
        for result in results:
            target = "" if result.has_target else "  (no [SEG]: nothing to segment)"
            print(f"[{result.query.query_id}] {result.query.text}\n  -> {result.answer}{target}")
        total = len(video) * sum(r.has_target for r in results)
        stream = tqdm(pipeline.track(video, results), total=total, desc="propagating", unit="frame")
        areas = write_masks(args.out, video, results, stream)
        if total:
            print(f"masks: {args.out / 'masks'}")
        else:
            print("masks: none written (no answer contains [SEG])")
        print(f"result: {write_result_json(args.out, str(args.video), video, results, areas)}")
        if not args.no_overlay:
            print(f"overlay: {write_overlay_video(args.out, video, results)}")
        return 0


def segment_manifest(args: argparse.Namespace) -> dict[str, Any]:
    """The manifest of a segment run: the pipeline settings, the video and the queries."""
    from visa_core.run_manifest import build_manifest

    settings = {
        **pipeline_settings(args),
        "video": str(args.video.resolve()),
        "queries": list(args.query),
        "overlay": not args.no_overlay,
    }
    return build_manifest("segment", settings, {"model": str(args.model.resolve())})
