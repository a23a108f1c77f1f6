"""Conversation datasets without masks."""

from __future__ import annotations

from visa_core.interfaces import DatasetLoader
from visa_data.conversation.chat_univi import ChatUniVi
from visa_data.conversation.llava import LlavaInstruct

CONVERSATION_LOADERS: tuple[type[DatasetLoader], ...] = (LlavaInstruct, ChatUniVi)
