"""Whether a language model learned to copy: how many words of the repeated list in the synthetic
language-only conversations (see :mod:`visa_data.synthetic.text`) it predicts right.

The repeat's colour, shape and size words are predictable only by copying the first list (its
punctuation is not scored: it is predictable without copying): a model that copies
gets nearly all of them, one that does not guesses. A tiny LLM that cannot copy cannot put the
referred name into its answers either.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from visa_core.types import Turn

REPEAT_MARK = " Again: "
"""What separates the list from its repeat in a conversation's answer."""
COPYING_THRESHOLD = 0.85
"""Below this share a model does not copy: measured 0.93-0.96 for tiny LLMs whose VISA answers
later named 122-127 of 127 referred objects, 0.75-0.76 for one whose answers named 42."""


def repeat_accuracy(model: Any, processor: Any, conversations: Sequence[Sequence[Turn]]) -> float:
    """Share (0-1) of the name-word tokens in the repeated halves of ``conversations`` (each a human turn,
    then an answer ``"LIST. Again: LIST."``) that ``model``'s LLM predicts right, teacher-forced.

    Raises:
        ValueError: a conversation is not of that form.
    """
    import torch

    from visa_core.model.templates import conversation_segments
    from visa_core.model.tokenization import IGNORE_INDEX, encode_pieces

    right = total = 0
    for turns in conversations:
        if len(turns) != 2 or REPEAT_MARK not in turns[1].text:
            raise ValueError(f"not a question and a repeated list: {turns!r}")
        listed, repeat = turns[1].text.split(REPEAT_MARK, 1)
        pieces = [
            *conversation_segments(turns[:1], add_generation_prompt=True),
            (f" {listed}{REPEAT_MARK.rstrip()}", False),
            (f" {repeat}", True),
        ]
        input_ids, labels = encode_pieces(processor.tokenizer, pieces, processor.image_token_id)
        with torch.no_grad():
            logits = model.language_model(input_ids=input_ids[None].to(model.device)).logits[0]
        predicted, targets = logits[:-1].argmax(-1).cpu(), labels[1:]
        tokens = processor.tokenizer.convert_ids_to_tokens(targets.clamp(min=0).tolist())
        is_name = torch.tensor([token.lstrip("▁Ġ").isalpha() for token in tokens], dtype=torch.bool)
        scored = (targets != IGNORE_INDEX) & is_name
        right += int((predicted[scored] == targets[scored]).sum())
        total += int(scored.sum())
    if total == 0:
        raise ValueError("no name word to score in the conversations (are they the synthetic text corpus?)")
    return right / total


def text_repeat_accuracy(
    model: Any, processor: Any, root: Path, split: str = "valid", limit: int = 500
) -> float:
    """:func:`repeat_accuracy` over the first ``limit`` ``synthetic_text`` conversations of
    ``split`` under ``root``."""
    from visa_data.synthetic.loaders import SyntheticTextDataset

    dataset = SyntheticTextDataset(root=str(root), split=split)
    conversations = [dataset[index].conversation for index in range(min(limit, len(dataset)))]
    return repeat_accuracy(model, processor, conversations)
