"""``visa make-synthetic OUT``: write the built-in synthetic reasoning-video dataset."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import ClassVar

from visa_core.cli.argument_checks import add_overwrite_flag
from visa_core.errors import VisaError
from visa_core.interfaces import Command
from visa_core.outputs_policy import claim_output_folder


class MakeSyntheticCommand(Command):
    """Write moving-shape videos with referring, reasoning and no-target queries in the ReVOS layout."""

    name: ClassVar[str] = "make-synthetic"
    help: ClassVar[str] = "write the built-in synthetic reasoning-video dataset (ReVOS layout) to OUT"

    @classmethod
    def configure(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("out", type=Path, help="output folder (new or empty)")
        add_overwrite_flag(parser)
        parser.add_argument("--videos", type=int, default=200, help="number of videos")
        parser.add_argument(
            "--images", type=int, default=None, help="number of still images (default: --videos)"
        )
        parser.add_argument(
            "--seed", type=int, default=0, help="random seed; the same seed writes the same data"
        )
        parser.add_argument(
            "--texts", type=int, default=20000, help="language-only conversations (tiny LLM pretraining)"
        )
        parser.add_argument("--frames", type=int, default=12, help="frames per video")
        parser.add_argument("--size", type=int, default=64, help="frame side in pixels")
        parser.add_argument(
            "--valid-fraction", type=float, default=0.2, help="share of items in the valid split"
        )

    def run(self, args: argparse.Namespace) -> int:
        from visa_data.synthetic import SyntheticConfig, generate_dataset

        try:
            config = SyntheticConfig(
                videos=args.videos,
                images=args.videos if args.images is None else args.images,
                texts=args.texts,
                seed=args.seed,
                frames=args.frames,
                size=args.size,
                valid_fraction=args.valid_fraction,
            )
        except ValueError as error:
            raise VisaError(str(error)) from None
        claim_output_folder(args.out, overwrite=args.overwrite, option="OUT")
        start = time.perf_counter()
        manifest = generate_dataset(args.out, config)
        seconds = time.perf_counter() - start
        print(f"wrote {args.out} in {seconds:.1f} s")
        print(f"  videos: {manifest['videos']}  expressions: {manifest['expressions']}")
        print(f"  images: {manifest['images']}  expressions: {manifest['image_expressions']}")
        print(f"  conversations: {manifest['conversations']}  language-only: {manifest['texts']}")
        print(f"read it with: visa data stats revos --root {args.out} --split train")
        return 0
