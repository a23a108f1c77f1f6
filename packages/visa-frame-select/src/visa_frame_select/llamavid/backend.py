"""The pluggable video LLM behind the ``llamavid`` selector."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class VideoQABackend(Protocol):
    """Answers a question about a few video frames; the same ``seed`` gives the same answer."""

    def answer(self, frames: Sequence[np.ndarray], question: str, seed: int) -> str:
        """``frames``: ``uint8[H, W, 3]`` RGB in time order; returns the generated answer text."""
        ...
