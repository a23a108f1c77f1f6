"""visa-data's ``visa`` sub-commands: ``visa data convert|stats`` and ``visa make-synthetic``."""

from __future__ import annotations

from visa_core.interfaces import Command
from visa_data.commands.data import DataCommand
from visa_data.commands.synthetic import MakeSyntheticCommand

COMMANDS: tuple[type[Command], ...] = (DataCommand, MakeSyntheticCommand)

__all__ = ["COMMANDS", "DataCommand", "MakeSyntheticCommand"]
