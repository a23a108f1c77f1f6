"""visa-core's own plugin: its sub-commands and the pipeline's default components (registered like
any third party's)."""

from __future__ import annotations

from visa_core.cli.model_commands import ConvertCheckpointCommand, ExportCommand, InitModelCommand
from visa_core.cli.plugins_command import PluginsCommand
from visa_core.cli.predict_command import PredictCommand
from visa_core.cli.segment_command import SegmentCommand
from visa_core.hookspecs import hookimpl
from visa_core.registry import Registry


@hookimpl
def register_commands(registry: Registry) -> None:
    registry.add(PluginsCommand)
    registry.add(InitModelCommand)
    registry.add(ExportCommand)
    registry.add(ConvertCheckpointCommand)
    registry.add(SegmentCommand)
    registry.add(PredictCommand)


@hookimpl
def register_frame_selectors(registry: Registry) -> None:
    """``uniform``, the pipeline's default selector (its module imports numpy only)."""
    from visa_core.components.uniform import UniformSelector

    registry.add(UniformSelector)


@hookimpl
def register_propagators(registry: Registry) -> None:
    """``seg_token``, the pipeline's default propagator (the model's own decoder on every frame)."""
    from visa_core.components.seg_token import SegTokenPropagator

    registry.add(SegTokenPropagator)
