"""Language-only conversations that pretrain the tiny preset's LLM before it sees any frame.

VISA starts from a pretrained LLM, whose attention heads already look at the previous word and
copy earlier text. The ``tiny`` preset starts from random weights; trained on the segmentation
data alone, whether it learns to copy the referred name into its answer varies from run to run.
Each conversation here lists shape names, then the same list again: the repeat is predictable
only by finding the current word in the first list and copying the word after it, which needs
exactly those heads. The names are bare ("red circle, small blue square"): with an article before
each, whether the copying was learned depended on the training seed (measured: seed 1 copied 0.75
of the name words with "the"; without, seeds 0 to 3 copy 0.92-0.94). Entries follow the
LLaVA schema without media:
``{"id", "conversations": [{"from": "human", "value": PROMPT}, {"from": "gpt", "value": ...}]}``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from visa_data.synthetic.scene import COLOURS, SHAPES, SIZES

PROMPT = "List some shapes, then list them again."
SIZED_SHARE = 0.3
"""Share of names that carry a size word ("small red circle")."""
RANDOM_STREAM = 2
"""Seeds ``[seed, RANDOM_STREAM, index]``: apart from the videos' (0) and the still images' (1)."""


def shape_name(rng: np.random.Generator) -> str:
    """A random ``"[size ]colour shape"`` name."""
    name = f"{rng.choice(list(COLOURS))} {rng.choice(SHAPES)}"
    return f"{rng.choice(list(SIZES))} {name}" if rng.random() < SIZED_SHARE else name


def repeat_conversation(index: int, seed: int) -> dict[str, Any]:
    """The ``index``-th conversation: 3 to 8 names, then ``"Again:"`` and the same names."""
    rng = np.random.default_rng([seed, RANDOM_STREAM, index])
    listed = ", ".join(shape_name(rng) for _ in range(int(rng.integers(3, 9))))
    return {
        "id": f"txt{index:06d}",
        "conversations": [
            {"from": "human", "value": PROMPT},
            {"from": "gpt", "value": f"{listed}. Again: {listed}."},
        ],
    }
