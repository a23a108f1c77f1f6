"""Checks on the key-frame prompts given to a propagator, and which key frame is nearest."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from visa_core import Video, VisaError


class PropagationInputError(VisaError, ValueError):
    """Key-frame prompts or a decoder output that do not fit the video."""


def check_prompts(name: str, video: Video, prompts: Mapping[int, np.ndarray]) -> int:
    """Raise :class:`PropagationInputError` unless ``prompts`` fit ``video``; return ``N``.

    Every prompt must be ``bool[N, H, W]`` at the video's size with the same ``N``, on a frame
    index in ``[0, T)``.
    """
    label = f"propagator {name!r} on video {video.video_id!r}"
    if not prompts:
        raise PropagationInputError(f"{label}: at least one key-frame prompt is needed")
    height, width = video.size
    counts = set()
    for index, masks in prompts.items():
        if not 0 <= index < len(video):
            raise PropagationInputError(f"{label}: key frame {index} is outside the {len(video)} frames")
        if not isinstance(masks, np.ndarray) or masks.dtype != np.bool_ or masks.ndim != 3:
            got = (
                f"{masks.dtype}{list(masks.shape)}" if isinstance(masks, np.ndarray) else type(masks).__name__
            )
            raise PropagationInputError(
                f"{label}: the prompt of frame {index} must be bool[N, H, W], got {got}"
            )
        if masks.shape[1:] != (height, width):
            raise PropagationInputError(
                f"{label}: the prompt of frame {index} is {masks.shape[1]}x{masks.shape[2]}, "
                f"the video {height}x{width}"
            )
        counts.add(masks.shape[0])
    if len(counts) > 1:
        raise PropagationInputError(f"{label}: key frames disagree on the number of objects {sorted(counts)}")
    return counts.pop()


def nearest_key_frame(index: int, key_frames: Sequence[int]) -> int:
    """The key frame closest to ``index``; on a tie, the earlier one."""
    return min(key_frames, key=lambda key: (abs(key - index), key))
