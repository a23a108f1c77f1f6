"""The training loop: ``setup`` (accelerator, model, data, optimizer) then one ``for batch`` loop.

Launch settings (processes, DDP / DeepSpeed / FSDP) come from ``accelerate launch`` and its config
file, never from the TrainConfig. One *step* is one optimizer update after
``grad_accumulation_steps`` micro-batches on every process.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from visa_core.config import TrainConfig
from visa_core.training.mixture import build_mixture
from visa_core.training.model_setup import build_model, describe_model_folder, export_model
from visa_core.training.optim import build_optimizer, build_scheduler
from visa_core.training.run_folder import RunFolder, read_step
from visa_core.training.steps import training_step

logger = logging.getLogger(__name__)

ModelFactory = Callable[[TrainConfig], tuple[Any, Any]]
"""``config -> (model, processor)``; the default builds ``visa_core.model`` from the config."""


@dataclass(frozen=True)
class TrainResult:
    """Where a run ended: its last step, the newest checkpoint, the exported model folder, and
    this process's trained model (unwrapped from DDP / DeepSpeed / FSDP)."""

    step: int
    checkpoint: Path | None
    model_dir: Path | None
    last_losses: dict[str, float]
    seconds: float
    model: Any = None


def runs_on_cpu(config: TrainConfig) -> bool:
    """Whether the run uses the CPU: asked for (``config.cpu``) or no CUDA device."""
    return config.cpu or not torch.cuda.is_available()


def process_state(config: TrainConfig) -> Any:
    """This process's accelerate ``PartialState``, made as the run's Accelerator makes it.

    The first accelerate object a process creates fixes its state: one made without ``cpu=True``
    on a machine without CUDA turns a ``--multi_gpu`` CPU launch into independent single processes.
    Code that needs the state before :func:`train` (e.g. to let one process write data) calls this.
    """
    from accelerate import PartialState

    return PartialState(cpu=runs_on_cpu(config))


def make_accelerator(config: TrainConfig) -> Any:
    """An Accelerator for this run: fp32 on CPU (``cpu=True`` also makes ``--multi_gpu`` launches
    on CPU real gloo processes) with ``config.cpu_threads`` threads, ``config.mixed_precision`` on
    GPU, TensorBoard under ``logs/``."""
    from accelerate import Accelerator
    from accelerate.utils import DistributedDataParallelKwargs, ProjectConfiguration

    cpu = runs_on_cpu(config)
    if cpu and config.cpu_threads is not None:
        torch.set_num_threads(config.cpu_threads)
    run = RunFolder(config.output_dir)
    return Accelerator(
        cpu=cpu,
        mixed_precision="no" if cpu else config.mixed_precision,
        gradient_accumulation_steps=config.schedule.grad_accumulation_steps,
        step_scheduler_with_optimizer=False,
        log_with="tensorboard",
        # some trainable parameters get no gradient in a step (SAM's IoU head is never in the
        # loss; text-only batches skip the mask decoder), which plain DDP refuses
        kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)],
        project_config=ProjectConfiguration(project_dir=str(run.root), logging_dir=str(run.logs)),
    )


def train(
    config: TrainConfig,
    *,
    model_factory: ModelFactory | None = None,
    stop_after: int | None = None,
) -> TrainResult:
    """Train as ``config`` says, resuming from a checkpoint when ``config.resume`` finds one.

    ``output_dir`` must be new, empty, or a run of the same settings (its ``visa-run.json``; see
    :meth:`RunFolder.inspect`); ``resume: restart`` empties it first.

    Args:
        config: the resolved configuration.
        model_factory: builds ``(model, processor)``; defaults to :func:`build_model`.
        stop_after: end this session after that many optimizer steps *without* a final save or
            export (simulates an interruption in tests).

    Returns:
        The step reached, the newest checkpoint and the exported model folder (None when stopped
        early).
    """
    from accelerate.utils import set_seed

    started = time.perf_counter()
    accelerator = make_accelerator(config)
    run = RunFolder(config.output_dir)
    resume_from = run.resolve_resume(config.resume)
    plan = run.inspect(config, num_processes=accelerator.num_processes)
    accelerator.wait_for_everyone()  # every process has checked the folder before one changes it
    if accelerator.is_main_process:
        plan.apply()
        run.write_run_info(config, num_processes=accelerator.num_processes)
    accelerator.wait_for_everyone()
    set_seed(config.seed)

    model, processor = (model_factory or _default_factory)(config)
    schedule = config.schedule
    total_steps = schedule.total_steps
    step = read_step(resume_from) if resume_from is not None else 0
    per_step = schedule.grad_accumulation_steps * schedule.batch_size * accelerator.num_processes
    dataset = build_mixture(config.data, processor, length=total_steps * per_step, seed=config.seed)
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=schedule.batch_size,
        # items are determined by their index: resuming starts the index stream where it stopped
        sampler=range(step * per_step, len(dataset)),
        collate_fn=processor.collate,
        num_workers=config.data.num_workers,
        # starting an iterator must not draw from the global RNG (dropout), or a resumed run
        # would diverge from an uninterrupted one
        generator=torch.Generator().manual_seed(config.seed),
    )
    optimizer = build_optimizer(model, config.optim)
    scheduler = build_scheduler(optimizer, schedule)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    if resume_from is not None:
        accelerator.load_state(str(resume_from))
        accelerator.print(f"resumed from {resume_from} at step {step}/{total_steps}")
    accelerator.init_trackers("train", config=_flat_hparams(config))
    if accelerator.is_main_process:
        shares = ", ".join(f"{name} {share:.1%}" for name, share in dataset.shares().items())
        accelerator.print(f"training {total_steps} steps of {per_step} samples; mixture: {shares}")

    progress = tqdm(
        total=total_steps, initial=step, desc="train", disable=not accelerator.is_local_main_process
    )
    sums: dict[str, torch.Tensor] = {}
    micro_batches = 0
    last: dict[str, float] = {}
    step_started = time.perf_counter()
    model.train()
    for batch in loader:
        with accelerator.accumulate(model):
            losses = training_step(model, batch, config.loss)
            accelerator.backward(losses.total)
            if accelerator.sync_gradients and config.optim.grad_clip > 0:
                accelerator.clip_grad_norm_(model.parameters(), config.optim.grad_clip)
            optimizer.step()
            if accelerator.sync_gradients:
                scheduler.step()
            optimizer.zero_grad()
        for name, value in losses.detached().items():
            sums[name] = sums.get(name, 0.0) + value.float()
        micro_batches += 1
        if not accelerator.sync_gradients:
            continue

        step += 1
        progress.update(1)
        means = {name: total / micro_batches for name, total in sums.items()}
        sums, micro_batches = {}, 0
        if step % config.log_every == 0 or step == total_steps:
            last = _log_step(
                accelerator, means, scheduler, step, time.perf_counter() - step_started, progress
            )
        step_started = time.perf_counter()
        if stop_after is not None and step >= stop_after:
            break
        if step % config.checkpoint_interval == 0 or step == total_steps:
            _save_checkpoint(accelerator, run, step, config.keep_last, (model, processor))
        if step >= total_steps:
            break
    progress.close()

    model_dir = None
    if stop_after is None or step >= total_steps:
        model_dir = run.model
        _export(accelerator, model, processor, model_dir, merge_lora=config.lora.enabled)
    accelerator.end_training()
    return TrainResult(
        step=step,
        checkpoint=run.latest_checkpoint(),
        model_dir=model_dir,
        last_losses=last,
        seconds=time.perf_counter() - started,
        model=accelerator.unwrap_model(model),
    )


def _default_factory(config: TrainConfig) -> tuple[Any, Any]:
    return build_model(config.model, config.lora)


def _log_step(
    accelerator: Any,
    means: dict[str, torch.Tensor],
    scheduler: Any,
    step: int,
    seconds: float,
    progress: tqdm,
) -> dict[str, float]:
    """Average the step's loss terms over processes, log them with the lr to TensorBoard and the console."""
    names = sorted(means)
    stacked = accelerator.reduce(torch.stack([means[n] for n in names]).to(accelerator.device), "mean")
    values = {f"train/{name}": float(v) for name, v in zip(names, stacked.tolist(), strict=True)}
    values["train/lr"] = float(scheduler.get_last_lr()[0])
    values["metrics/total_secs_per_step"] = seconds
    accelerator.log(values, step=step)
    progress.set_postfix(loss=f"{values['train/loss']:.4f}", lr=f"{values['train/lr']:.2e}")
    if accelerator.is_main_process:
        terms = "  ".join(f"{k.split('/')[-1]} {v:.4g}" for k, v in values.items())
        progress.write(f"step {step}: {terms}")
    return values


def _save_checkpoint(
    accelerator: Any, run: RunFolder, step: int, keep_last: int, model_and_processor: tuple[Any, Any]
) -> None:
    """``save_state`` into ``checkpoints/step_N`` (all processes), mark it complete, prune old ones.

    The main process also writes the model's ``config.json`` and tokenizer files there, so that a
    checkpoint whose state holds a plain ``model.safetensors`` is a model folder too (LoRA not
    merged): ``visa predict --model RUN/checkpoints/step_N`` and ``visa export --merge-lora`` read it.
    """
    path = run.checkpoint_path(step)
    accelerator.save_state(str(path))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        model, processor = model_and_processor
        describe_model_folder(accelerator.unwrap_model(model), processor, path)
        run.mark_saved(path, step)
        run.prune(keep_last)
    accelerator.wait_for_everyone()


def _export(accelerator: Any, model: Any, processor: Any, folder: Path, *, merge_lora: bool) -> None:
    """Write the final model on the main process.

    Under DeepSpeed / FSDP the weights are gathered first and saved as trained (LoRA not merged:
    ZeRO-3 / FSDP shards hold no full parameters to merge into).
    """
    from accelerate.utils import DistributedType

    accelerator.wait_for_everyone()
    sharded = accelerator.distributed_type in (DistributedType.DEEPSPEED, DistributedType.FSDP)
    state = accelerator.get_state_dict(model) if sharded else None
    if accelerator.is_main_process:
        network = accelerator.unwrap_model(model)
        if state is None:
            export_model(network, processor, folder, merge_lora=merge_lora)
        else:
            network.save_pretrained(folder, state_dict=state)
            processor.save_pretrained(folder)
    accelerator.wait_for_everyone()


def _flat_hparams(config: TrainConfig) -> dict[str, Any]:
    """Scalar hyper-parameters for TensorBoard's hparams (nested keys joined with ``/``)."""
    from visa_core.config import to_dict

    flat: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}/{key}" if prefix else key, item)
        elif isinstance(value, (int, float, str, bool)):
            flat[prefix] = value
        else:
            flat[prefix] = str(value)

    walk("", to_dict(config))
    return flat
