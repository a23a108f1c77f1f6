"""The ``visa`` entry point of visa-data: registers its dataset loaders and commands."""

from __future__ import annotations

from visa_core import hookimpl
from visa_core.registry import Registry
from visa_data.commands import COMMANDS
from visa_data.conversation import CONVERSATION_LOADERS
from visa_data.image import IMAGE_LOADERS
from visa_data.synthetic.loaders import SYNTHETIC_LOADERS
from visa_data.video import VIDEO_LOADERS


@hookimpl
def register_datasets(registry: Registry) -> None:
    for loader in (*VIDEO_LOADERS, *IMAGE_LOADERS, *CONVERSATION_LOADERS, *SYNTHETIC_LOADERS):
        registry.add(loader)


@hookimpl
def register_commands(registry: Registry) -> None:
    for command in COMMANDS:
        registry.add(command)
