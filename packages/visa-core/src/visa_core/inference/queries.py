"""Checking a query before the model sees it: not empty, and short enough for the LLM's context."""

from __future__ import annotations

from typing import Any

from visa_core.errors import QueryError


def check_query_text(text: str, label: str = "query") -> str:
    """``text`` stripped; raise :class:`QueryError` when it is empty or only whitespace."""
    if not isinstance(text, str) or not text.strip():
        raise QueryError(f"{label} is empty: {text!r}; give a question or a description of the object")
    return text.strip()


def check_query(text: str, model: Any, processor: Any, *, max_new_tokens: int, label: str = "query") -> None:
    """Raise :class:`QueryError` when ``text`` is empty, or when its tokens, one frame's tokens and
    ``max_new_tokens`` exceed the language model's context (``max_position_embeddings``): such a
    query can never be answered, whatever frames the selector picks."""
    check_query_text(text, label)
    config = model.config
    context = int(config.text_config.max_position_embeddings)
    tokens = len(processor.tokenizer(text, add_special_tokens=False)["input_ids"])
    needed = tokens + int(config.tokens_per_image) + max_new_tokens
    if needed > context:
        raise QueryError(
            f"{label} has {tokens} tokens: with one frame ({config.tokens_per_image} tokens) and "
            f"--max-new-tokens {max_new_tokens} it needs {needed} of the language model's "
            f"{context}-token context; shorten it"
        )
