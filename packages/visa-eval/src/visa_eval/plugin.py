"""The ``visa`` entry point of visa-eval: the metrics and the ``visa eval`` command.

Importing this module is cheap: numpy and visa_core only (no torch, no transformers, no scipy).
"""

from __future__ import annotations

from visa_core import hookimpl
from visa_core.registry import Registry
from visa_eval.command import EvalCommand
from visa_eval.metrics import METRICS


@hookimpl
def register_metrics(registry: Registry) -> None:
    for metric in METRICS:
        registry.add(metric)


@hookimpl
def register_commands(registry: Registry) -> None:
    registry.add(EvalCommand)
