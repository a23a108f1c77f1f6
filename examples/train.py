"""Train VISA: ``accelerate launch examples/train.py [--config FILE] [--section.key VALUE ...]``.

With no arguments it runs the built-in default on a CPU: it writes the synthetic moving-shapes
dataset (ReVOS layout, ``visa make-synthetic``) if absent, pretrains the ``tiny`` preset's LLM on
the dataset's language-only conversations (``configs/tiny-language.yaml``; skipped when its model
exists), trains that model with the same recipe code as real training
(``configs/tiny-synthetic.yaml``; command-line overrides apply to this run), then evaluates it
(see :func:`evaluate`). Launched as one process on a machine without CUDA (the 2-core machine
it is sized for), the default run trains each stage in ``DEFAULT_RUN_PROCESSES`` CPU processes
(``accelerate launch --multi_gpu`` of this script with the stage's config; ``--processes``
changes the count). With ``--config`` it trains what the file says, e.g.::

    accelerate launch --config_file examples/accelerate/deepspeed-zero2.yaml \\
        examples/train.py --config examples/configs/visa-7b.yaml

Any config key can be overridden (``--optim.lr 1e-4``, ``--output_dir runs/x``); ``--resume
PATH`` continues from a checkpoint (by default a run continues from the newest checkpoint in its
output folder); ``--help-config`` lists every key with its default. Multi-process runs on a CPU
need ``accelerate launch --multi_gpu --num_processes N`` (the loop sets ``cpu=True``).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from visa_core.config import ConfigError, TrainConfig, format_schema, load_config
from visa_core.errors import VisaError

DEFAULT_CONFIG = Path(__file__).parent / "configs" / "tiny-synthetic.yaml"
"""The built-in default run: the tiny model on the synthetic dataset."""
LANGUAGE_CONFIG = Path(__file__).parent / "configs" / "tiny-language.yaml"
"""The default run's first stage: the model it exports is where ``DEFAULT_CONFIG`` starts."""
DEFAULT_RUN_PROCESSES = 2
"""CPU processes (DDP over gloo, one thread each) that train each stage of the default run; the
configs' ``batch_size`` is per process."""


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--config", type=Path, help=f"a TrainConfig YAML file (default: {DEFAULT_CONFIG.name})"
    )
    parser.add_argument(
        "--resume",
        help="'auto' (default: continue a run of the same settings), 'never', 'restart' (empty "
        "output_dir and start over) or a checkpoint folder; see docs/outputs.md",
    )
    parser.add_argument("--help-config", action="store_true", help="list every config key and exit")
    parser.add_argument("--no-eval", action="store_true", help="train only (the default run evaluates after)")
    parser.add_argument(
        "--processes",
        type=int,
        help=f"CPU processes that train each stage of the default run (default {DEFAULT_RUN_PROCESSES} "
        "when launched as one process without CUDA, else 1: this process trains)",
    )
    return parser.parse_known_args(argv)


def prepare_synthetic_data(config: TrainConfig) -> None:
    """Write the synthetic dataset that the mixture's ``revos`` / ``synthetic_*`` entries read, if absent."""
    from visa_core.training import process_state
    from visa_data.synthetic import ensure_dataset

    roots = {
        Path(e.options["root"]) for e in config.data.mixture if e.dataset.startswith(("revos", "synthetic"))
    }
    state = process_state(config)  # the run's own state: a CPU --multi_gpu launch stays distributed
    with state.main_process_first():  # one process writes, the others wait and find it there
        if state.is_main_process:
            for root in roots:
                ensure_dataset(root)


def prepare_language_model(config: TrainConfig, processes: int) -> float:
    """Train ``LANGUAGE_CONFIG`` (in ``processes`` processes) when ``config`` starts from the model
    that run exports and that model is not there yet; return the seconds it took (0 when nothing
    was trained)."""
    language = load_config(LANGUAGE_CONFIG)
    if config.model.path != language.output_dir / "model" or (config.model.path / "config.json").is_file():
        return 0.0
    print(f"language pretraining of the tiny LLM ({LANGUAGE_CONFIG.name}) -> {config.model.path}")
    prepare_synthetic_data(language)
    started = time.perf_counter()
    model_dir = train_stage(LANGUAGE_CONFIG, [], processes)
    report_copying(model_dir, language)
    return time.perf_counter() - started


def report_copying(model_dir: Path, language: TrainConfig) -> None:
    """Print the share of name words the language model copies in the held-out (valid) repeated
    lists of ``language``'s text corpus, with a warning when it does not copy."""
    from visa_core.model import VisaForSegmentation, VisaProcessor
    from visa_data.synthetic.language_check import COPYING_THRESHOLD, text_repeat_accuracy

    (text,) = (e for e in language.data.mixture if e.dataset == "synthetic_text")
    model = VisaForSegmentation.from_pretrained(model_dir).eval()
    share = text_repeat_accuracy(model, VisaProcessor.from_pretrained(model_dir), Path(text.options["root"]))
    print(f"language model: {share:.2f} of the repeated name words copied right (valid conversations)")
    if share < COPYING_THRESHOLD:
        print(
            f"warning: below {COPYING_THRESHOLD}: this language model has not learned to copy, so the "
            f"VISA answers will rarely name the referred object; delete {language.output_dir} and "
            f"pretrain it with another seed (examples/train.py --config {LANGUAGE_CONFIG} --seed N)",
            file=sys.stderr,
        )


def default_processes() -> int:
    """``DEFAULT_RUN_PROCESSES`` when this script runs as one process on a machine without CUDA, else 1."""
    import torch

    single = int(os.environ.get("WORLD_SIZE", "1")) == 1
    return DEFAULT_RUN_PROCESSES if single and not torch.cuda.is_available() else 1


def train_stage(config_file: Path, overrides: list[str], processes: int) -> Path:
    """Train ``config_file`` with ``overrides``: in this process when ``processes`` is 1, else in
    ``processes`` CPU processes (``accelerate launch --multi_gpu`` of this script). Returns the
    exported model folder.

    Raises:
        ConfigError: the config or an override is wrong.
        VisaError: training failed (in the launched processes: their exit status).
    """
    from accelerate import PartialState

    from visa_core.training import train

    config = load_config(config_file, overrides)
    if processes == 1:
        result = train(config)
        if PartialState().is_main_process:
            print(f"trained {result.step} steps in {result.seconds:.0f} s; model: {result.model_dir}")
        return config.output_dir / "model"
    with socket.socket() as probe:  # a free port for the processes' rendezvous
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    launch = [
        sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", str(processes),
        "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
        "--main_process_port", str(port),
    ]  # fmt: skip
    done = subprocess.run([*launch, __file__, "--config", str(config_file), "--no-eval", *overrides])
    if done.returncode != 0:
        raise VisaError(
            f"training {config_file.name} in {processes} processes failed (exit status {done.returncode})"
        )
    return config.output_dir / "model"


def evaluate(config: TrainConfig, model_dir: Path) -> None:
    """Evaluate the trained model on the synthetic valid split with the full inference pipeline
    (keyframe selector -> model -> propagator -> visa-eval) and print J, F, J&F and R next to the
    baselines (see ``evaluate_synthetic.py``); files go to ``OUTPUT_DIR/eval``."""
    from evaluate_synthetic import evaluate_synthetic

    root = next(Path(e.options["root"]) for e in config.data.mixture if e.dataset == "revos")
    report = evaluate_synthetic(model_dir, root, config.output_dir / "eval", seed=config.seed)
    print(report.text)


def main(argv: list[str] | None = None) -> int:
    args, overrides = parse_args(sys.argv[1:] if argv is None else argv)
    if args.help_config:
        print("\n".join(format_schema()))
        return 0
    if args.resume is not None:
        overrides = [*overrides, "--resume", args.resume]
    started = time.perf_counter()
    default_run = args.config is None
    processes = args.processes or (default_processes() if default_run else 1)
    try:
        config = load_config(args.config or DEFAULT_CONFIG, overrides)
        pretraining = 0.0
        if default_run:
            prepare_synthetic_data(config)
            pretraining = prepare_language_model(config, processes)
        prepared = time.perf_counter()
        model_dir = train_stage(args.config or DEFAULT_CONFIG, overrides, processes)
    except (ConfigError, VisaError) as error:
        print(f"train.py: error: {error}", file=sys.stderr)
        return 2
    from accelerate import PartialState

    if PartialState().is_main_process:
        training = time.perf_counter() - prepared
        if default_run and not args.no_eval:
            evaluate(config, model_dir)
        data_seconds = prepared - started - pretraining
        workers = processes if processes > 1 else PartialState().num_processes
        print(
            f"total time {time.perf_counter() - started:.0f} s (data {data_seconds:.0f} s, "
            f"language pretraining {pretraining:.0f} s, training {training:.0f} s; "
            f"{workers} training process{'es' if workers > 1 else ''})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
