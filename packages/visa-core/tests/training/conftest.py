"""Fixtures of the training tests: the stand-in model registered as a plugin, small configs."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from visa_core.config import (
    ClipSamplerConfig,
    DataConfig,
    LoraConfig,
    MixtureEntry,
    ScheduleConfig,
    TrainConfig,
)

HERE = Path(__file__).parent


def _load_standin():
    if "visa_training_standin" not in sys.modules:
        spec = importlib.util.spec_from_file_location("visa_training_standin", HERE / "standin.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    return sys.modules["visa_training_standin"]


@pytest.fixture(scope="session")
def standin():
    """The stand-in module, registered as a visa plugin for this process."""
    from visa_core.plugins import get_plugins

    module = _load_standin()
    plugins = get_plugins()
    if not plugins.manager.is_registered(module):
        plugins.register(module, name="visa_training_standin")
    return module


@pytest.fixture
def standin_config(tmp_path: Path, standin) -> TrainConfig:
    """Six steps of two micro-batches of two samples on the stand-in, a checkpoint every 3 steps."""
    return TrainConfig(
        lora=LoraConfig(enabled=False),
        schedule=ScheduleConfig(
            epochs=2, steps_per_epoch=3, warmup_steps=2, batch_size=2, grad_accumulation_steps=2
        ),
        data=DataConfig(
            mixture=(MixtureEntry("test_squares", 1.0, {"root": str(tmp_path)}),),
            clip=ClipSamplerConfig(min_frames=3, max_frames=5, absent_target_prob=0.3),
        ),
        output_dir=tmp_path / "run",
        cpu=True,
        keep_last=2,
        log_every=1,
    )


@pytest.fixture
def standin_factory(standin):
    def factory(config: TrainConfig):
        import torch

        torch.manual_seed(config.seed)
        return standin.StandInModel(), standin.StandInProcessor()

    return factory
