"""A deterministic colour-threshold FrameDecoder, to test decoder-driven propagators (``seg_token``)
and pipelines without a VISA model (numpy only)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from visa_core import PropagationResult, Propagator, Video


class ColourDecoder:
    """A deterministic FrameDecoder: object i is where the frame has colour ``colours[i]`` (+-20 per channel).

    Returns logits ``float32[N, H, W]``: +1 inside, -1 outside.
    """

    def __init__(self, colours: np.ndarray) -> None:
        self.colours = np.asarray(colours, dtype=np.int16)
        self.calls = 0

    @classmethod
    def from_key_frame(cls, frame: np.ndarray, masks: np.ndarray) -> ColourDecoder:
        """Object i's colour = the median colour of ``frame`` under ``masks[i]`` (``bool[N, H, W]``)."""
        return cls(np.stack([np.median(frame[mask], axis=0) for mask in masks]))

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        self.calls += 1
        distance = np.abs(frame[None].astype(np.int16) - self.colours[:, None, None, :]).max(axis=-1)
        return np.where(distance <= 20, 1.0, -1.0).astype(np.float32)


def run_with_fitted_decoder(
    propagator: Propagator, video: Video, prompts: Mapping[int, np.ndarray]
) -> PropagationResult:
    """``propagate`` with a :class:`ColourDecoder` fitted to the first key frame (as many objects
    as the prompts): how the contract tests drive decoder-based propagators."""
    key = min(prompts)
    decoder = ColourDecoder.from_key_frame(video.frames[key], prompts[key])
    return propagator.propagate(video, prompts, decoder=decoder)
