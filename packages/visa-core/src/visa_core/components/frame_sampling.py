"""Reference-frame sampling shared by every selector: the original VISA evaluation rule."""

from __future__ import annotations

import math

DEFAULT_MAX_IMAGE_TOKEN = 12
"""``--rvos_max_image_token`` of the original: at most this many images (references + target)."""


def spread_references(
    num_frames: int, target: int, max_image_token: int = DEFAULT_MAX_IMAGE_TOKEN
) -> tuple[int, ...]:
    """Frames spread over the whole video that always include ``target``.

    The original's evaluation sampling: ``step = ceil(T / (max_image_token - 1))``, start at
    ``target mod step``, then every ``step``-th frame, so about ``max_image_token - 1`` frames.

    Args:
        num_frames: ``T``, the number of frames of the video (>= 1).
        target: the target frame index in ``[0, T)``.
        max_image_token: images the model sees (references + target); at least 2.
    """
    if num_frames < 1:
        raise ValueError(f"a video needs at least one frame, got {num_frames}")
    if not 0 <= target < num_frames:
        raise ValueError(f"target frame {target} is outside a video of {num_frames} frames")
    if max_image_token < 2:
        raise ValueError(f"max_image_token must be at least 2, got {max_image_token}")
    step = math.ceil(num_frames / (max_image_token - 1))
    return tuple(range(target % step, num_frames, step))


def position_to_index(position: float, num_frames: int) -> int:
    """Frame index at relative ``position`` in ``[0, 1]``: ``int(T * position)`` clamped to ``T - 1``."""
    return min(max(int(num_frames * position), 0), num_frames - 1)
