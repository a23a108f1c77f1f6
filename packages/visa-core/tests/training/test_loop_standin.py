"""The loop on the stand-in model: losses fall, checkpoints rotate, resume equals an uninterrupted run."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch
import yaml

from visa_core.errors import CheckpointError
from visa_core.training import RunFolder, train


def _state(folder):
    return torch.load(folder / "standin.pt")


def test_run_writes_folder_and_rotates_checkpoints(standin_config, standin_factory):
    config = dataclasses.replace(standin_config, save_every=2)
    result = train(config, model_factory=standin_factory)
    run = RunFolder(config.output_dir)
    assert result.step == 6
    assert [p.name for p in run.list_checkpoints()] == ["step_00000004", "step_00000006"]
    assert result.checkpoint == run.checkpoint_path(6)
    saved = yaml.safe_load((config.output_dir / "config.yaml").read_text())
    assert saved["schedule"]["grad_accumulation_steps"] == 2
    environment = json.loads((config.output_dir / "environment.json").read_text())
    assert environment["packages"]["torch"] == torch.__version__
    assert environment["packages"]["visa-core"]
    assert {"kind": "dataset", "name": "test_squares"} in [
        {"kind": row["kind"], "name": row["name"]} for row in environment["plugins"]
    ]
    assert set(result.last_losses) >= {
        "train/loss",
        "train/ce_loss",
        "train/mask_bce_loss",
        "train/mask_dice_loss",
        "train/mask_loss",
        "train/lr",
    }
    assert result.last_losses["train/lr"] == pytest.approx(0.0)  # linear decay ends at 0
    assert list((config.output_dir / "logs").rglob("events.out.tfevents*"))
    assert (result.model_dir / "standin.pt").is_file()


def test_interrupted_and_resumed_equals_uninterrupted(standin_config, standin_factory, tmp_path):
    whole = dataclasses.replace(standin_config, output_dir=tmp_path / "whole")
    train(whole, model_factory=standin_factory)

    broken = dataclasses.replace(standin_config, output_dir=tmp_path / "broken")
    first = train(broken, model_factory=standin_factory, stop_after=5)  # dies after step 5, saved at 3
    assert first.step == 5 and first.model_dir is None
    assert [p.name for p in RunFolder(broken.output_dir).list_checkpoints()] == ["step_00000003"]
    resumed = train(broken, model_factory=standin_factory)  # resume: auto
    assert resumed.step == 6

    expected, got = _state(whole.output_dir / "model"), _state(broken.output_dir / "model")
    for key in expected:
        torch.testing.assert_close(got[key], expected[key], rtol=1e-5, atol=1e-6)


def test_resume_never_refuses_a_folder_with_checkpoints(standin_config, standin_factory):
    train(
        dataclasses.replace(standin_config, schedule=dataclasses.replace(standin_config.schedule, epochs=1)),
        model_factory=standin_factory,
    )
    with pytest.raises(CheckpointError, match="already holds checkpoints"):
        train(dataclasses.replace(standin_config, resume="never"), model_factory=standin_factory)
