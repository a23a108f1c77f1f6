"""visa-core's own plugin: the sub-commands it ships (registered like any third party's)."""

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
