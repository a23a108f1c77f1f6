"""Training VISA with Accelerate: the loop, the clip sampler and the weighted dataset mixture.

Imports torch; ``import visa_core`` never imports this sub-package. Start a run with
``accelerate launch examples/train.py --config FILE`` or call :func:`train` with a
:class:`~visa_core.config.TrainConfig`.
"""

from __future__ import annotations

from visa_core.training.clips import Clip, ClipSampler
from visa_core.training.loop import TrainResult, make_accelerator, process_state, train
from visa_core.training.mixture import MixtureDataset, build_mixture
from visa_core.training.model_setup import build_model, export_model
from visa_core.training.optim import build_optimizer, build_scheduler, warmup_linear_factor
from visa_core.training.run_folder import RunFolder, read_step
from visa_core.training.steps import StepLosses, training_step

__all__ = [
    "Clip",
    "ClipSampler",
    "MixtureDataset",
    "RunFolder",
    "StepLosses",
    "TrainResult",
    "build_mixture",
    "build_model",
    "build_optimizer",
    "build_scheduler",
    "export_model",
    "make_accelerator",
    "process_state",
    "read_step",
    "train",
    "training_step",
    "warmup_linear_factor",
]
