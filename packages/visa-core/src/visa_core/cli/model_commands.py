"""``visa init-model`` and ``visa export``: write model folders (torch is imported on use)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import ClassVar

from visa_core.cli.argument_checks import add_overwrite_flag
from visa_core.errors import OutputFolderError
from visa_core.interfaces import Command
from visa_core.outputs_policy import claim_output_folder, inspect_output_folder

PRESET_NAMES = ("tiny", "visa-7b", "visa-13b")


class InitModelCommand(Command):
    """Write a randomly initialised VISA model folder of a preset."""

    name: ClassVar[str] = "init-model"
    help: ClassVar[str] = "write a randomly initialised model folder (config, safetensors, tokenizer)"

    @classmethod
    def configure(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--preset", choices=PRESET_NAMES, default="tiny", help="model shapes")
        parser.add_argument(
            "--tokenizer", default=None, help="Llama tokenizer folder (needed for real presets)"
        )
        parser.add_argument("--seed", type=int, default=0, help="seed of the random initialisation")
        parser.add_argument("out", type=Path, help="output folder (new or empty)")
        add_overwrite_flag(parser)

    def run(self, args: argparse.Namespace) -> int:
        from visa_core.model.folders import init_model_folder

        claim_output_folder(args.out, overwrite=args.overwrite, option="OUT")
        model = init_model_folder(args.preset, args.out, args.tokenizer, args.seed)
        count = sum(p.numel() for p in model.parameters())
        print(f"wrote {args.preset} model ({count:,} parameters) to {args.out}")
        return 0


class ExportCommand(Command):
    """Export a model folder as a plain one, merging LoRA so that it loads without peft."""

    name: ClassVar[str] = "export"
    help: ClassVar[str] = "export a model folder (optionally merging LoRA) with its tokenizer"

    @classmethod
    def configure(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--merge-lora", action="store_true", help="merge LoRA layers into the LLM")
        parser.add_argument(
            "src", type=Path, help="model folder (save_pretrained of a VISA model, or checkpoints/step_N)"
        )
        parser.add_argument("out", type=Path, help="output folder (new or empty)")
        add_overwrite_flag(parser)

    def run(self, args: argparse.Namespace) -> int:
        from visa_core.model.folders import export_model_folder
        from visa_core.model.validation import validate_model_folder

        validate_model_folder(args.src)
        _refuse_overlap(args.src, args.out)
        plan = inspect_output_folder(args.out, overwrite=args.overwrite, option="OUT")
        if args.merge_lora and json.loads((args.src / "config.json").read_text()).get("lora") is None:
            print(
                f"--merge-lora: {args.src} has no LoRA layers (training merges them into RUN/model; "
                "checkpoints/step_N folders keep them): nothing to merge"
            )
        plan.apply()
        for note in export_model_folder(args.src, args.out, merge_lora=args.merge_lora):
            print(note)
        print(f"exported {args.src} to {args.out}")
        return 0


class ConvertCheckpointCommand(Command):
    """Convert a published VISA / LISA / Chat-UniVi checkpoint into a VISA model folder."""

    name: ClassVar[str] = "convert-checkpoint"
    help: ClassVar[str] = "convert a published checkpoint to our format, accounting for every source key"

    @classmethod
    def configure(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--format", required=True, choices=("visa", "lisa", "chat-univi"), dest="layout")
        parser.add_argument(
            "--clip", default=None, help="CLIP ViT folder (when the checkpoint lacks the tower)"
        )
        parser.add_argument(
            "--sam", default=None, help="SAM state dict, e.g. sam_vit_h_4b8939.pth (chat-univi)"
        )
        parser.add_argument("--tokenizer", default=None, help="tokenizer folder (default: SRC's folder)")
        parser.add_argument(
            "--lora-alpha", type=float, default=16.0, help="LoRA alpha of a training checkpoint"
        )
        parser.add_argument("--list-keys", action="store_true", help="print the account of every source key")
        parser.add_argument("src", type=Path, help="checkpoint folder or file")
        parser.add_argument("out", type=Path, help="output folder (new or empty)")
        add_overwrite_flag(parser)

    def run(self, args: argparse.Namespace) -> int:
        from visa_core.model.checkpoints import convert_checkpoint

        if not args.src.exists():
            raise OutputFolderError(f"SRC {args.src}: no such checkpoint file or folder")
        _refuse_overlap(args.src, args.out)
        claim_output_folder(args.out, overwrite=args.overwrite, option="OUT")
        result = convert_checkpoint(
            args.layout,
            args.src,
            args.out,
            clip=args.clip,
            sam=args.sam,
            tokenizer=args.tokenizer,
            lora_alpha=args.lora_alpha,
        )
        if args.list_keys:
            for account in result.accounts:
                detail = account.target or account.reason
                print(f"{account.action:8s} {account.origin}:{account.source} -> {detail}")
        print(result.summary())
        print(f"wrote {args.out} (full key account in {args.out}/conversion_account.json)")
        return 0


def _refuse_overlap(src: Path, out: Path) -> None:
    """OUT may neither be SRC nor hold it, nor lie inside it (writing would change the source)."""
    source, target = src.resolve(), out.resolve()
    if target == source or source.is_relative_to(target) or target.is_relative_to(source):
        raise OutputFolderError(f"OUT {out} overlaps SRC {src}: write the result to a separate folder")
