"""``visa segment``: a video file or frame folder and questions in, masks, answers and an overlay out."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import ClassVar

from visa_core.cli.pipeline_arguments import add_pipeline_arguments, pipeline_from_arguments
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
        parser.add_argument("--out", required=True, type=Path, help="output folder")
        parser.add_argument("--no-overlay", action="store_true", help="skip the overlay video")

    def run(self, args: argparse.Namespace) -> int:
        from tqdm import tqdm

        from visa_core.inference.outputs import write_masks, write_overlay_video, write_result_json
        from visa_core.types import Query
        from visa_core.video import Video

        video = Video.open(args.video)
        pipeline = pipeline_from_arguments(args)
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
