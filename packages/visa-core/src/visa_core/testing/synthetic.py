"""Small deterministic videos with known masks, for tests of selectors, propagators and metrics."""

from __future__ import annotations

import numpy as np

from visa_core.video import Video

_COLOURS = np.array([[230, 40, 40], [40, 200, 60], [50, 90, 230], [240, 200, 30]], dtype=np.uint8)


def moving_squares(
    num_frames: int = 6,
    height: int = 32,
    width: int = 48,
    num_objects: int = 2,
    video_id: str = "squares",
) -> tuple[Video, np.ndarray]:
    """A video of coloured squares moving right by one pixel per frame on a grey background.

    Returns:
        The video (``T = num_frames`` frames of ``height x width``) and the masks ``bool[N, T, H, W]``.
    """
    side = max(2, min(height, width) // 4)
    frames = np.full((num_frames, height, width, 3), 128, dtype=np.uint8)
    masks = np.zeros((num_objects, num_frames, height, width), dtype=bool)
    for obj in range(num_objects):
        top = (obj * (side + 2)) % max(1, height - side)
        for t in range(num_frames):
            left = (2 + obj * 3 + t) % max(1, width - side)
            masks[obj, t, top : top + side, left : left + side] = True
            frames[t][masks[obj, t]] = _COLOURS[obj % len(_COLOURS)]
    return Video.from_array(video_id, frames), masks
