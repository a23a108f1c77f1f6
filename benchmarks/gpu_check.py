"""The GPU path, measured: one query through ``VisaPipeline`` and one training step, per precision.

Builds the preset with random weights directly on the device in each precision (under
``torch.device(device)`` and that default dtype: every tensor is created and initialised there,
none on the CPU first), then measures

* inference, one query end to end (uniform selector: 11 references + the target at CLIP's size,
  the target at SAM's; a generated answer of fixed length ending in ``[SEG]``; ``seg_token``
  propagation over a synthetic clip): seconds of frame encoding, LLM prefill, generation, SAM
  encoding and decoding of the target, propagation per frame, and peak GPU memory;
* one training step of the recipe (``examples/configs/visa-7b.yaml``: LoRA, trainable decoder and
  projection, one sample of 12 references + target with 3 queries), gradient checkpointing on and
  off, through ``visa_core.training``'s step and optimizer;
* the attention implementation and library versions.

Each stage is compared with its floor (FLOPs over the GPU's bf16 peak; bytes over its bandwidth for
generation) when the GPU is in ``gpu_peaks``. Prints a table and writes a JSON report.

    python benchmarks/gpu_check.py --preset visa-7b --device cuda --out gpu-check-7b.json
    python benchmarks/gpu_check.py --preset tiny --device cpu --frames 8 --height 48 --width 64

8-bit and 4-bit (when bitsandbytes imports) load a saved bfloat16 copy through
``visa_core.inference.loading``, as ``visa segment --load-in-8bit`` does (``--scratch`` holds it).
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import importlib.metadata
import importlib.util
import json
import platform
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gpu_peaks import GpuPeak, gpu_peak
from gpu_sizes import (
    PRECISIONS,
    ModelSizes,
    clip_frame_flops,
    kv_cache_bytes,
    llm_flops,
    model_sizes,
    readable_bytes,
    sam_frame_flops,
    training_flops,
)
from gpu_stages import ForcedAnswer, StageClock
from visa_core.config import TrainConfig, load_config
from visa_core.inference import VisaPipeline
from visa_core.model import VisaForSegmentation, VisaProcessor, preset_config
from visa_core.model.folders import image_settings_for
from visa_core.model.tokenization import build_tiny_tokenizer
from visa_core.plugins import build
from visa_core.testing.synthetic import moving_squares
from visa_core.training import training_step
from visa_core.training.model_setup import prepare_for_training
from visa_core.training.optim import build_optimizer
from visa_core.types import Query
from visa_core.video import Video

REPO = Path(__file__).resolve().parents[1]
RECIPE = REPO / "examples" / "configs" / "visa-7b.yaml"
QUERY = "the object that moves to the right"
VERSIONED = ("torch", "transformers", "peft", "accelerate", "bitsandbytes", "flash-attn", "visa-core")
QUANTIZED = ("8bit", "4bit")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--preset", default="visa-7b", help="tiny, visa-7b or visa-13b")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument(
        "--precisions",
        nargs="+",
        choices=PRECISIONS,
        help="inference precisions (default: bfloat16 float16, plus 8bit 4bit when bitsandbytes "
        "imports, on CUDA; float32 on CPU)",
    )
    parser.add_argument("--train-dtype", help="training weights (default: bfloat16 on CUDA, float32 on CPU)")
    parser.add_argument("--no-training", action="store_true", help="skip the training steps")
    parser.add_argument("--frames", type=int, default=100, help="frames of the synthetic clip")
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--width", type=int, default=854)
    parser.add_argument("--answer-tokens", type=int, default=16, help="generated answer length (>= 2)")
    parser.add_argument("--train-steps", type=int, default=2, help="timed steps after one warm-up step")
    parser.add_argument("--recipe", type=Path, default=RECIPE, help="training config giving the step's shape")
    parser.add_argument("--scratch", type=Path, help="folder for the saved copy that 8/4-bit loading reads")
    parser.add_argument(
        "--compare-gpu",
        help="GPU name whose peaks the floors use (default: the device's; none on CPU, where a name "
        "only exercises the arithmetic)",
    )
    parser.add_argument("--out", type=Path, default=Path("gpu_check.json"), help="the JSON report")
    args = parser.parse_args(argv)
    if args.answer_tokens < 2:
        parser.error("--answer-tokens must be at least 2 (the answer ends in [SEG] and end-of-sequence)")
    if args.frames < 2:
        parser.error("--frames must be at least 2")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error(f"--device {args.device}: this machine has no CUDA device")
    if not args.recipe.is_file():
        parser.error(f"--recipe {args.recipe}: no such file")
    cuda = args.device.startswith("cuda")
    if args.precisions is None:
        quantized = list(QUANTIZED) if cuda and importlib.util.find_spec("bitsandbytes") else []
        args.precisions = ["bfloat16", "float16", *quantized] if cuda else ["float32"]
    if cuda is False and set(args.precisions) & set(QUANTIZED):
        parser.error("8bit / 4bit need a CUDA device (bitsandbytes)")
    args.train_dtype = args.train_dtype or ("bfloat16" if cuda else "float32")
    return args


# ---------------------------------------------------------------------------------------- building
def benchmark_processor(config: Any) -> VisaProcessor:
    """A processor with the offline tiny tokenizer (random weights need no real vocabulary; the
    LLM keeps its full embedding table, so every matrix has its real shape)."""
    processor = VisaProcessor(build_tiny_tokenizer(), image_settings_for(config))
    config.seg_token_id = processor.seg_token_id
    config.image_token_id = processor.image_token_id
    if config.text_config.vocab_size < processor.embedding_rows:
        config.text_config.vocab_size = processor.embedding_rows
    return processor


def build_on_device(preset: str, device: torch.device, dtype: torch.dtype) -> tuple[Any, VisaProcessor]:
    """A random-weight ``preset`` model created on ``device`` in ``dtype``, and its processor."""
    config = preset_config(preset)
    processor = benchmark_processor(config)
    previous = torch.get_default_dtype()
    torch.manual_seed(0)
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            model = VisaForSegmentation(config)
    finally:
        torch.set_default_dtype(previous)
    return model.eval(), processor


def load_quantized(
    preset: str, device: torch.device, quantization: str, scratch: Path
) -> tuple[Any, VisaProcessor]:
    """A bfloat16 copy saved to ``scratch`` (written once), loaded 8/4-bit as the CLI loads it."""
    from visa_core.inference.loading import load_model

    folder = scratch / f"{preset}-bfloat16"
    if not (folder / "config.json").is_file():
        print(f"  saving a bfloat16 copy to {folder} for quantised loading", flush=True)
        model, processor = build_on_device(preset, device, torch.bfloat16)
        model.save_pretrained(folder)
        processor.save_pretrained(folder)
        del model
        free_device_memory()
    return load_model(folder, device=str(device), dtype="bfloat16", quantization=quantization)


def free_device_memory() -> None:
    """Collect dropped models and return the device memory they held to the driver."""
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def synthetic_clip(frames: int, height: int, width: int, video_id: str) -> Video:
    video, _ = moving_squares(num_frames=frames, height=height, width=width, video_id=video_id)
    return video


# ---------------------------------------------------------------------------------------- memory
class PeakMemory:
    """Peak allocated device memory since :meth:`reset`, in bytes (None on CPU)."""

    def __init__(self, device: torch.device) -> None:
        self.cuda = device.type == "cuda"
        self.device = device

    def reset(self) -> None:
        if self.cuda:
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)

    def peak(self) -> int | None:
        return torch.cuda.max_memory_allocated(self.device) if self.cuda else None

    def allocated(self) -> int | None:
        return torch.cuda.memory_allocated(self.device) if self.cuda else None


def gib(count: int | None) -> float | None:
    return None if count is None else count / 2**30


# ---------------------------------------------------------------------------------------- inference
def forced_answer_ids(processor: VisaProcessor, length: int) -> list[int]:
    """``length`` token ids: filler words, then ``[SEG]``, then end-of-sequence."""
    filler = processor.tokenizer("Sure", add_special_tokens=False)["input_ids"][0]
    return [filler] * (length - 2) + [processor.seg_token_id, processor.tokenizer.eos_token_id]


def prompt_tokens(model: Any, processor: VisaProcessor, references: int) -> int:
    """LLM tokens of the question prompt after every ``<image>`` became its frame tokens."""
    turns = processor.make_conversation(QUERY, references, None)[:1]
    ids, _ = processor.encode_prompt(turns, add_generation_prompt=True)
    images = int((ids == processor.image_token_id).sum())
    return len(ids) + images * (model.config.tokens_per_image - 1)


def instrument(model: Any, clock: StageClock) -> None:
    """Time the model's stages on ``clock``."""
    clock.wrap(model, "encode_frames", "frame_encoding")
    clock.wrap(model.sam, "encode_images", "sam_encode")
    clock.wrap(model, "decode_masks", "sam_decode")
    clock.wrap(model.language_model, "generate", "generate")
    clock.time_forwards(model.language_model, "llm_prefill", "llm_step")


def one_query(model: Any, processor: VisaProcessor, video: Video, clock: StageClock, answer_tokens: int):
    """The query through a fresh pipeline (empty feature cache), propagated to every frame;
    returns the result and the seconds of each propagated frame."""
    pipeline = VisaPipeline(
        model,
        processor,
        build("frame_selector", "uniform"),
        build("propagator", "seg_token"),
        max_new_tokens=answer_tokens,
    )
    clock.phase = "answer"
    result = pipeline.answer(video, Query(text=QUERY))
    if not result.has_target:
        raise RuntimeError(f"the forced answer {result.answer!r} has no [SEG]: nothing was segmented")
    clock.phase = "propagation"
    per_frame = []
    last = clock.now()
    for _ in pipeline.track(video, [result]):
        now = clock.now()
        per_frame.append(now - last)
        last = now
    return result, per_frame


def measure_inference(
    model: Any, processor: VisaProcessor, args: argparse.Namespace, device: torch.device
) -> dict[str, Any]:
    """Stage seconds of one query on the full clip, after a warm-up query on a short one."""
    clock = StageClock(device)
    instrument(model, clock)
    forced = ForcedAnswer(model.language_model.lm_head, forced_answer_ids(processor, args.answer_tokens))
    memory = PeakMemory(device)
    warmup = synthetic_clip(min(args.frames, 13), args.height, args.width, "warm-up")
    video = synthetic_clip(args.frames, args.height, args.width, "clip")
    one_query(model, processor, warmup, clock, args.answer_tokens)
    clock.seconds.clear()
    forced.reset()
    memory.reset()
    started = clock.now()
    result, per_frame = one_query(model, processor, video, clock, args.answer_tokens)
    end_to_end = clock.now() - started
    forced.handle.remove()
    steps = clock.calls("answer/llm_step")
    generation = clock.total("answer/generate") - clock.total("answer/llm_prefill")
    references = len(result.selection.references)
    return {
        "answer": result.answer,
        "references": references,
        "prompt_tokens": prompt_tokens(model, processor, references),
        "generated_tokens": steps + 1,
        "peak_memory_gib": gib(memory.peak()),
        "seconds": {
            "frame_encoding": clock.total("answer/frame_encoding"),
            "llm_prefill": clock.total("answer/llm_prefill"),
            "generation": generation,
            "generation_per_token": generation / max(steps, 1),
            "sam_encode": clock.total("answer/sam_encode"),
            "sam_decode": clock.total("answer/sam_decode"),
            "propagation_per_frame": float(np.mean(per_frame)),
            "end_to_end": end_to_end,
        },
    }


def inference_floors(
    config: Any, sizes: ModelSizes, record: dict[str, Any], precision: str, peak: GpuPeak
) -> dict[str, float]:
    """Physical floor in seconds of each stage with one (SAM decode has none worth stating)."""
    frames = record["references"] + 1
    tokens = record["prompt_tokens"]
    kv_element = 4.0 if precision == "float32" else 2.0  # 8/4-bit compute in bfloat16
    kv_bytes = kv_cache_bytes(config, tokens + record["generated_tokens"], kv_element)
    sam = sam_frame_flops(config) / peak.bf16_flops
    return {
        "frame_encoding": frames * clip_frame_flops(config) / peak.bf16_flops,
        "llm_prefill": max(
            llm_flops(config, sizes, tokens, 1) / peak.bf16_flops,
            sizes.llm_bytes_per_token(precision) / peak.bandwidth,
        ),
        "generation_per_token": (sizes.llm_bytes_per_token(precision) + kv_bytes) / peak.bandwidth,
        "sam_encode": sam,
        "propagation_per_frame": sam,
    }


def inference_run(precision: str, args: argparse.Namespace, device: torch.device) -> dict[str, Any]:
    """Build (or load) the model in ``precision``, measure one query, free it."""
    memory = PeakMemory(device)
    memory.reset()
    if precision in QUANTIZED:
        scratch = args.scratch or Path(tempfile.gettempdir()) / "visa-gpu-check"
        model, processor = load_quantized(args.preset, device, precision, scratch)
    else:
        model, processor = build_on_device(args.preset, device, getattr(torch, precision))
    record = {"precision": precision, "weights_gib": gib(memory.allocated())}
    record.update(measure_inference(model, processor, args, device))
    record["attention"] = model.language_model.config._attn_implementation
    del model, processor
    free_device_memory()
    return record


# ---------------------------------------------------------------------------------------- training
def training_batch(processor: VisaProcessor, recipe: TrainConfig, video: Video) -> dict[str, Any]:
    """One collated sample of the recipe's largest shape: ``max_frames`` references and the
    target, ``queries_per_sample`` queries about them, each with one mask; ``batch_size`` samples."""
    clip = recipe.data.clip
    indices = np.linspace(0, len(video) - 1, clip.max_frames + 1).round().astype(int)
    frames = [video.frames[int(i)] for i in indices]
    target = frames[-1]
    mask = np.zeros((1, *target.shape[:2]), dtype=bool)
    mask[0, : target.shape[0] // 2, : target.shape[1] // 3] = True
    conversations = [
        processor.make_conversation(f"{QUERY} {n}", clip.max_frames, None)
        for n in range(clip.queries_per_sample)
    ]
    sample = processor.encode_examples(frames[:-1], target, conversations, [mask] * len(conversations))
    return processor.collate([sample] * recipe.schedule.batch_size)


def expanded_length(model_config: Any, batch: dict[str, Any], image_token_id: int) -> int:
    """Tokens of the longest row once every ``<image>`` became its frame tokens."""
    images = (batch["input_ids"] == image_token_id).sum(dim=1)
    lengths = batch["attention_mask"].sum(dim=1) + images * (model_config.tokens_per_image - 1)
    return int(lengths.max())


def training_run(
    checkpointing: bool, args: argparse.Namespace, device: torch.device, recipe: TrainConfig
) -> dict[str, Any]:
    """Mean seconds and peak memory of ``--train-steps`` optimizer steps after a warm-up step."""
    memory = PeakMemory(device)
    memory.reset()
    model, processor = build_on_device(args.preset, device, getattr(torch, args.train_dtype))
    settings = dataclasses.replace(
        recipe.model, path=None, preset=args.preset, gradient_checkpointing=checkpointing
    )
    with torch.device(device):  # LoRA layers are created where the model is
        model = prepare_for_training(model, settings, recipe.lora).train()
    optimizer = build_optimizer(model, recipe.optim)
    video = synthetic_clip(recipe.data.clip.max_frames + 1, args.height, args.width, "train")
    batch = training_batch(processor, recipe, video)
    clock = StageClock(device)
    clock.phase = "train"
    for step in range(args.train_steps + 1):
        with clock.stage("warm-up" if step == 0 else "step"):
            losses = training_step(model, batch, recipe.loss)
            losses.total.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    record = {
        "gradient_checkpointing": checkpointing,
        "dtype": args.train_dtype,
        "rows": int(batch["input_ids"].shape[0]),
        "frames": int(batch["clip_pixel_values"].shape[0]),
        "tokens_per_row": expanded_length(model.config, batch, processor.image_token_id),
        "trainable_parameters": trainable,
        "loss": float(losses.total.detach().float()),
        "step_seconds": clock.total("train/step") / args.train_steps,
        "peak_memory_gib": gib(memory.peak()),
    }
    del model, optimizer, batch, losses
    free_device_memory()
    return record


# ---------------------------------------------------------------------------------------- report
def environment(device: torch.device) -> dict[str, Any]:
    """Versions, the device and whether flash-attention 2 can run."""
    versions = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    cuda = device.type == "cuda"
    return {
        "device": str(device),
        "gpu_name": torch.cuda.get_device_name(device) if cuda else None,
        "cuda": torch.version.cuda if cuda else None,
        "versions": versions,
        "flash_attn_importable": importlib.util.find_spec("flash_attn") is not None,
    }


def with_ratios(seconds: dict[str, float], floors: dict[str, float]) -> dict[str, dict[str, float | None]]:
    """Per stage: measured seconds, floor seconds and measured / floor (None without a floor)."""
    return {
        stage: {
            "seconds": value,
            "floor_seconds": floors.get(stage),
            "ratio": value / floors[stage] if stage in floors and floors[stage] > 0 else None,
        }
        for stage, value in seconds.items()
    }


def print_report(report: dict[str, Any]) -> None:
    """The report as a table: one row per stage, measured against its floor."""
    env = report["environment"]
    peak = report["gpu_peak"]
    print(f"\n{report['preset']} on {env['gpu_name'] or env['device']}; versions {env['versions']}")
    print(f"attention: {report['attention']} (flash-attn importable: {env['flash_attn_importable']})")
    print(f"floors: {'none (unknown GPU)' if peak is None else peak['model'] + ', ' + peak['source']}")
    _row("precision", "stage", "measured", "floor", "ratio")
    for run in report["inference"]:
        for stage, row in run["stages"].items():
            _row(
                run["precision"],
                stage,
                _time(row["seconds"]),
                _time(row["floor_seconds"]),
                _ratio(row["ratio"]),
            )
        memory = f"{_gib(run['weights_gib'])} weights, {_gib(run['peak_memory_gib'])} peak"
        _row(run["precision"], "memory", memory, "", "")
    for run in report["training"]:
        name = f"train step, checkpointing {'on' if run['gradient_checkpointing'] else 'off'}"
        _row(
            run["dtype"], name, _time(run["step_seconds"]), _time(run["floor_seconds"]), _ratio(run["ratio"])
        )
        _row(run["dtype"], "memory", f"{_gib(run['peak_memory_gib'])} peak", "", "")
    for note in report["skipped"]:
        print(f"skipped: {note}")
    for failure in report["failed"]:
        print(f"FAILED {failure['run']}: {failure['error']}")


def _row(precision: str, stage: str, measured: str, floor: str, ratio: str) -> None:
    print(f"{precision:<10}{stage:<32}{measured:>12}{floor:>12}{ratio:>13}")


def _time(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return f"{seconds * 1e3:.2f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.2f} us"


def _ratio(ratio: float | None) -> str:
    return "" if ratio is None else f"{ratio:.1f}x"


def _gib(value: float | None) -> str:
    return "n/a" if value is None else readable_bytes(value * 2**30)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    device = torch.device(args.device)
    recipe = load_config(args.recipe)
    config = preset_config(args.preset)
    benchmark_processor(config)
    sizes = model_sizes(config)
    env = environment(device)
    peak = gpu_peak(args.compare_gpu or env["gpu_name"] or "")
    report: dict[str, Any] = {
        "preset": args.preset,
        "parameters": sizes.total,
        "environment": env,
        "gpu_peak": None if peak is None else peak.as_dict(),  # the floors' GPU; None: no ratios
        "clip": {"frames": args.frames, "height": args.height, "width": args.width},
        "answer_tokens": args.answer_tokens,
        "inference": [],
        "training": [],
        "attention": None,
        "skipped": [],
        "failed": [],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if device.type == "cuda" and not set(QUANTIZED) & set(args.precisions):
        report["skipped"].append("8bit / 4bit: bitsandbytes is not importable or not asked for")
    if args.no_training:
        report["skipped"].append("training (--no-training)")
    runs = [("inference", precision) for precision in args.precisions]
    runs += [] if args.no_training else [("training", False), ("training", True)]
    for kind, setting in runs:
        name = f"{kind} {setting}" if kind == "inference" else f"training, checkpointing {setting}"
        print(f"[{name}] {args.preset} on {device}", flush=True)
        try:
            if kind == "inference":
                report["inference"].append(inference_record(setting, args, device, config, sizes, peak))
            else:
                report["training"].append(training_record(setting, args, device, recipe, config, sizes, peak))
        except Exception as error:  # one failed run must not lose the others' numbers
            traceback.print_exc()
            report["failed"].append({"run": name, "error": f"{type(error).__name__}: {error}"})
            free_device_memory()
        report["attention"] = report["inference"][0]["attention"] if report["inference"] else None
        args.out.write_text(json.dumps(report, indent=2) + "\n")  # after every run: a timeout keeps them
    print_report(report)
    print(f"report: {args.out}")
    return 1 if report["failed"] else 0


def inference_record(
    precision: str,
    args: argparse.Namespace,
    device: torch.device,
    config: Any,
    sizes: ModelSizes,
    peak: GpuPeak | None,
) -> dict[str, Any]:
    """One inference run with each stage next to its floor."""
    record = inference_run(precision, args, device)
    seconds = record.pop("seconds")
    floors = inference_floors(config, sizes, record, precision, peak) if peak else {}
    record["stages"] = with_ratios(seconds, floors)
    return record


def training_record(
    checkpointing: bool,
    args: argparse.Namespace,
    device: torch.device,
    recipe: TrainConfig,
    config: Any,
    sizes: ModelSizes,
    peak: GpuPeak | None,
) -> dict[str, Any]:
    """One training run next to its floor."""
    record = training_run(checkpointing, args, device, recipe)
    floor = None
    if peak:
        flops = training_flops(config, sizes, record["rows"], record["tokens_per_row"], record["frames"])
        floor = flops / peak.bf16_flops
    record["floor_seconds"] = floor
    record["ratio"] = record["step_seconds"] / floor if floor else None
    return record


if __name__ == "__main__":
    sys.exit(main())
