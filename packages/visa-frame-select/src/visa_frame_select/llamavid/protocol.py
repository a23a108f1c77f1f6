"""The original VISA text-guided frame sampler protocol (``utils_llamavid/llamavid_client.py``).

A video LLM is asked, several times, which percentage mark of the video shows the query; each
answer is parsed to a relative position in ``[0, 1]`` and the positions are averaged.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

MOVIE_PREAMBLE = "Below is a movie. Memorize the content and answer my question after watching this movie."
"""What LLaMA-VID's server puts before the frames."""

MOVIE_END = "Now the movie end."
"""What LLaMA-VID's server puts after the frames, followed by a newline and the question."""

DEFAULT_POSITION = 0.5
"""The position used when no answer parses."""

# The original's backslash line continuation embeds "\n" + 13 spaces before "Please".
_QUESTION = (
    "If I want to find '{query}', which percentage mark of the video should I check?\n"
    + " " * 13
    + "Please choose one answer from 0%, 10%, 20%, 30%, 40%, 50%, 60%, 70%, 80%, 90%, and 100%."
)

# Checked in this order; the first substring found in an answer decides its value.
PERCENT_PATTERNS: tuple[tuple[str, float], ...] = (
    *((f"last {p}%", round(1.0 - p / 100, 1)) for p in range(0, 101, 10)),
    *((f"{p}%", p / 100) for p in range(10, 101, 10)),
    ("0%", 0.0),
)


def frame_question(query_text: str) -> str:
    """The exact question of the original for ``query_text`` (one trailing "?" removed)."""
    if query_text.endswith("?"):
        query_text = query_text[:-1]
    return _QUESTION.format(query=query_text)


def parse_position(answer: str) -> float | None:
    """Relative position in ``[0, 1]`` named by ``answer``, or None when it names no percentage.

    "last 30%" means 0.7; "30%" means 0.3 (case-sensitive substrings, as the original).
    """
    for pattern, position in PERCENT_PATTERNS:
        if pattern in answer:
            return position
    return None


def average_position(answers: Iterable[str]) -> float:
    """Mean of the parsed positions of ``answers``; :data:`DEFAULT_POSITION` when none parses.

    Computed as the original did, ``np.array(positions).mean()`` (numpy's pairwise sum, float64):
    a plain ``sum() / len()`` differs in the last bit for some answer sets, which moves
    ``int(T * position)`` by one frame (ten "20%" answers on 5 frames: 0.2 -> frame 1).
    """
    positions = [p for p in map(parse_position, answers) if p is not None]
    return float(np.array(positions, dtype=np.float64).mean()) if positions else DEFAULT_POSITION
