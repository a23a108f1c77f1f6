"""Two real CPU processes (``accelerate launch --multi_gpu`` + ``Accelerator(cpu=True)``) keep
identical parameters and reach the same model as one process on the same global batch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

WORKER = """
import sys, torch
from accelerate import PartialState
from visa_core.config import load_config
from visa_core.training import process_state, train

config = load_config(None, sys.argv[1:])
process_state(config).wait_for_everyone()  # as examples/train.py: the state exists before train()
result = train(config)
state = PartialState()
params = {k: v.detach().clone() for k, v in result.model.named_parameters()}
torch.save({"params": params, "world": state.num_processes, "backend": str(state.distributed_type)},
           config.output_dir / f"rank{state.process_index}.pt")
"""


def _launch(tmp_path: Path, data: Path, name: str, processes: int, accumulation: int) -> Path:
    out = tmp_path / name
    launch = [sys.executable, "-m", "accelerate.commands.launch", "--num_machines", "1", "--mixed_precision",
              "no", "--dynamo_backend", "no", "--num_processes", str(processes)]  # fmt: skip
    if processes > 1:
        launch += ["--multi_gpu", "--main_process_port", "29517"]
    overrides = [
        "--output_dir", str(out), "--cpu", "true", "--lora.enabled", "false", "--optim.lr", "1e-3",
        "--schedule", f"{{epochs: 1, steps_per_epoch: 3, warmup_steps: 1, batch_size: 1, "
        f"grad_accumulation_steps: {accumulation}}}",
        "--data.mixture", f"[{{dataset: revos, weight: 1, options: {{root: {data}}}}}]",
        "--data.clip", "{min_frames: 2, max_frames: 3, absent_target_prob: 0.3}",
    ]  # fmt: skip
    (tmp_path / "worker.py").write_text(WORKER)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    done = subprocess.run(
        [*launch, str(tmp_path / "worker.py"), *overrides],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    return out


@pytest.mark.slow
def test_two_cpu_processes_match_one_process_on_the_same_global_batch(tmp_path):
    from visa_data.synthetic import SyntheticConfig, generate_dataset

    data = tmp_path / "synthetic"
    generate_dataset(data, SyntheticConfig(videos=6, images=0, frames=6, size=32), progress=False)
    two = _launch(tmp_path, data, "two", processes=2, accumulation=1)
    one = _launch(tmp_path, data, "one", processes=1, accumulation=2)

    rank0, rank1 = torch.load(two / "rank0.pt"), torch.load(two / "rank1.pt")
    single = torch.load(one / "rank0.pt")
    assert rank0["world"] == rank1["world"] == 2 and "MULTI_CPU" in rank0["backend"]
    assert single["world"] == 1
    changed = 0
    for key, value in single["params"].items():
        assert torch.equal(rank0["params"][key], rank1["params"][key]), key  # gradients were synchronised
        torch.testing.assert_close(rank0["params"][key], value, rtol=1e-4, atol=1e-5)
        changed += 1
    assert changed > 0
