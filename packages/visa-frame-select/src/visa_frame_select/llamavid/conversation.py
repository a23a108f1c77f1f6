"""The prompt of VISA's LLaMA-VID server (``utils_llamavid/llamavid_server.py``) in ``vicuna_v1``.

User message = movie preamble + ``<image>`` x (tokens per frame x frames) + "Now the movie end." +
newline + question; it is wrapped as ``"{system} USER: {message} ASSISTANT:"``. The same message
(with its literal ``<image>`` strings) is what the Q-Former reads.
"""

from __future__ import annotations

from typing import Any

from visa_frame_select.llamavid.protocol import MOVIE_END, MOVIE_PREAMBLE

IMAGE_TOKEN = "<image>"

VICUNA_V1_SYSTEM = (
    "A chat between a curious user and an artificial intelligence assistant. "
    "The assistant gives helpful, detailed, and polite answers to the user's questions."
)
"""System prompt of the ``vicuna_v1`` conversation template."""


def user_message(num_frames: int, question: str, tokens_per_frame: int = 2) -> str:
    """The server's user message for ``num_frames`` frames (``--video-token 2``)."""
    return f"{MOVIE_PREAMBLE}{IMAGE_TOKEN * (tokens_per_frame * num_frames)}{MOVIE_END}\n{question}"


def vicuna_v1_prompt(message: str) -> str:
    """One user turn and the open assistant turn (separator " ", stop string "</s>")."""
    return f"{VICUNA_V1_SYSTEM} USER: {message} ASSISTANT:"


def tokenize_with_image_slots(prompt: str, tokenizer: Any) -> tuple[list[int], list[bool]]:
    """LLaVA's ``tokenizer_image_token``: each text chunk between ``<image>`` marks tokenised on
    its own without special tokens, one BOS first, one slot per mark.

    Returns ``(ids, is_slot)``; slot positions hold id 0 (their embedding is replaced).
    """
    ids: list[int] = [] if tokenizer.bos_token_id is None else [tokenizer.bos_token_id]
    slots = [False] * len(ids)
    for index, chunk in enumerate(prompt.split(IMAGE_TOKEN)):
        if index:
            ids.append(0)
            slots.append(True)
        if chunk:
            chunk_ids = tokenizer(chunk, add_special_tokens=False)["input_ids"]
            ids += chunk_ids
            slots += [False] * len(chunk_ids)
    return ids, slots
