"""Conversation datasets without masks."""

from __future__ import annotations

from visa_core.interfaces import DatasetLoader

CONVERSATION_LOADERS: tuple[type[DatasetLoader], ...] = ()
