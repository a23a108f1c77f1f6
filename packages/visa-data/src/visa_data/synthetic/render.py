"""Drawing a scene: frames ``uint8[T, H, W, 3]`` and visible-part masks ``bool[N, T, H, W]``."""

from __future__ import annotations

import numpy as np

from visa_data.synthetic.scene import COLOURS, Scene


def shape_mask(shape: str, centre: np.ndarray, radius: float, size: int) -> np.ndarray:
    """``bool[size, size]``: the pixels (by their centres) covered by one shape."""
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64) + 0.5
    dx, dy = xs - centre[0], ys - centre[1]
    if shape == "circle":
        return dx * dx + dy * dy <= radius * radius
    if shape == "square":
        half = radius * 0.85
        return (np.abs(dx) <= half) & (np.abs(dy) <= half)
    if shape == "triangle":  # apex up, base 0.7 radius below the centre
        height = 1.7 * radius
        depth = dy + radius
        return (depth >= 0) & (depth <= height) & (np.abs(dx) <= depth / height * radius)
    raise ValueError(f"unknown shape {shape!r}")


def render(scene: Scene) -> tuple[np.ndarray, np.ndarray]:
    """Draw back to front; an object's mask is the part of it left visible by those in front."""
    size, num_frames = scene.size, scene.num_frames
    frames = np.empty((num_frames, size, size, 3), dtype=np.uint8)
    frames[:] = np.array(scene.background, dtype=np.uint8)
    masks = np.zeros((len(scene.objects), num_frames, size, size), dtype=bool)
    for t in range(num_frames):
        for n, obj in enumerate(scene.objects):
            if not obj.drawn[t]:
                continue
            covered = shape_mask(obj.shape, obj.centres[t], obj.radius, size)
            masks[:n, t] &= ~covered
            masks[n, t] = covered
            frames[t][covered] = COLOURS[obj.colour]
    return frames, masks
