"""Typed configs: YAML round trip, command-line overrides, errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from visa_core.config import (
    ConfigError,
    MixtureEntry,
    TrainConfig,
    format_schema,
    load_config,
    save_config,
)


def test_defaults_are_the_original_recipe():
    config = TrainConfig()
    assert (config.optim.lr, config.optim.betas, config.optim.weight_decay, config.optim.grad_clip) == (
        3e-4,
        (0.9, 0.95),
        0.0,
        1.0,
    )
    assert (config.loss.ce, config.loss.bce, config.loss.dice) == (1.0, 2.0, 0.5)
    assert (config.lora.r, config.lora.alpha, config.lora.dropout) == (8, 16, 0.05)
    assert config.schedule.total_steps == 15_000 and config.schedule.warmup_steps == 100
    assert (config.data.clip.min_frames, config.data.clip.max_frames) == (8, 12)


def test_yaml_round_trip_with_overrides(tmp_path: Path):
    overrides = [
        "--optim.lr", "1e-4",
        "--lora.target_modules", "[q_proj, k_proj]",
        "--data.mixture", "[{dataset: revos, weight: 12, options: {root: /data/ReVOS}}]",
        "--output_dir=/tmp/x",
        "--schedule.grad-accumulation-steps", "4",
    ]  # fmt: skip
    config = load_config(None, overrides)
    assert config.optim.lr == 1e-4
    assert config.lora.target_modules == ("q_proj", "k_proj")
    assert config.data.mixture == (MixtureEntry("revos", 12.0, {"root": "/data/ReVOS"}),)
    assert config.output_dir == Path("/tmp/x") and config.schedule.grad_accumulation_steps == 4
    save_config(config, tmp_path / "c.yaml")
    assert load_config(tmp_path / "c.yaml") == config
    assert load_config(tmp_path / "c.yaml", ["--seed", "7"]).seed == 7


def test_file_values_then_overrides(tmp_path: Path):
    (tmp_path / "c.yaml").write_text("optim:\n  lr: 3e-5\nschedule:\n  epochs: 2\n")
    config = load_config(tmp_path / "c.yaml", ["--schedule.epochs", "5"])
    assert config.optim.lr == 3e-5 and config.schedule.epochs == 5 and config.seed == 0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["--optim.lrr", "1"], "unknown config key 'optim.lrr'; did you mean 'lr'"),
        (["--optim.lr", "fast"], "optim.lr: expected a number"),
        (["--optim.lr.x", "1"], "optim.lr has no sub-keys"),
        (
            ["--data.mixture", "[{dataset: a, wieght: 1}]"],
            r"'data.mixture\[0\].wieght'; did you mean 'weight'",
        ),
        (["--data.mixture", "[{dataset: a, weight: 0}]"], "weight 0.0; must be > 0"),
        (["--data.clip.min_frames", "13"], "min_frames <= max_frames"),
        (["--mixed_precision", "fp8"], "'fp8' is not one of"),
        (["--schedule.epochs", "2.5"], "schedule.epochs: expected an integer"),
        (["--optim.betas", "[0.9]"], "expected 2 values"),
        (["--seed"], "has no value"),
        (["--cpu_threads", "0"], "cpu_threads must be >= 1"),
        (["seed", "1"], "expected --section.key VALUE"),
    ],
)
def test_bad_overrides_name_the_key(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, overrides)


def test_bad_file_names_the_file(tmp_path: Path):
    (tmp_path / "c.yaml").write_text("schedule:\n  epoch: 2\n")
    with pytest.raises(ConfigError, match=r"c.yaml: unknown config key 'schedule.epoch'"):
        load_config(tmp_path / "c.yaml")
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.yaml")


def test_schema_lists_every_leaf():
    lines = format_schema()
    assert "--optim.lr (float, default 0.0003)" in lines
    assert any(line.startswith("--data.clip.absent_target_prob") for line in lines)


def test_cpu_threads_set_torch_threads_of_a_cpu_run(tmp_path: Path):
    import torch

    from visa_core.training.loop import make_accelerator

    before = torch.get_num_threads()
    try:
        make_accelerator(
            load_config(None, ["--cpu_threads", "1", "--cpu", "true", "--output_dir", str(tmp_path)])
        )
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
