"""Scenes of moving shapes: what each object looks like and where it is in every frame.

Coordinates are pixels: ``x`` to the right, ``y`` down, the frame is ``size x size``. Motions:
``static``, ``linear`` (constant velocity), ``bounce`` (reverses once, mid-video), ``enter`` (starts
outside the frame and comes in), ``leave`` (moves out of the frame before the end) and ``vanish``
(stops being drawn at some frame).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "green": (40, 190, 60),
    "blue": (50, 90, 235),
    "yellow": (235, 205, 40),
}
SHAPES: tuple[str, ...] = ("circle", "square", "triangle")
SIZES: dict[str, float] = {"small": 0.08, "large": 0.14}
"""Size word -> radius as a fraction of the frame side."""

MOTIONS: dict[str, float] = {
    "static": 0.15,
    "linear": 0.45,
    "bounce": 0.12,
    "enter": 0.1,
    "leave": 0.1,
    "vanish": 0.08,
}
"""Motion -> probability of an object getting it."""

SPEEDS: tuple[float, ...] = (0.9, 2.0, 3.4)
"""Speeds in pixels per frame at a 64-pixel frame (scaled with the frame side)."""

DIRECTIONS: dict[str, tuple[float, float]] = {
    "right": (1.0, 0.0),
    "left": (-1.0, 0.0),
    "down": (0.0, 1.0),
    "up": (0.0, -1.0),
    "down-right": (0.7071, 0.7071),
    "down-left": (-0.7071, 0.7071),
    "up-right": (0.7071, -0.7071),
    "up-left": (-0.7071, -0.7071),
}


@dataclass(frozen=True)
class SceneObject:
    """One shape: ``centres`` ``float[T, 2]`` (x, y) and ``drawn`` ``bool[T]`` (False once vanished)."""

    colour: str
    shape: str
    size: str
    radius: float
    motion: str
    centres: np.ndarray
    drawn: np.ndarray

    @property
    def name(self) -> str:
        """``"red circle"``: unique within a scene."""
        return f"{self.colour} {self.shape}"


@dataclass(frozen=True)
class Scene:
    """Objects listed back to front (later objects occlude earlier ones)."""

    size: int
    num_frames: int
    background: tuple[int, int, int]
    objects: tuple[SceneObject, ...]


def sample_scene(
    rng: np.random.Generator, size: int, num_frames: int, num_objects: int, still: bool
) -> Scene:
    """A random scene; ``still`` scenes (images) hold only static objects."""
    combos = [(c, s) for c in COLOURS for s in SHAPES]
    picks = rng.choice(len(combos), size=num_objects, replace=False)
    motions, weights = list(MOTIONS), np.array(list(MOTIONS.values()))
    objects = []
    for pick in picks:
        colour, shape = combos[int(pick)]
        size_word = str(rng.choice(list(SIZES)))
        radius = SIZES[size_word] * size
        motion = "static" if still else str(rng.choice(motions, p=weights / weights.sum()))
        centres, drawn = _trajectory(rng, motion, radius, size, num_frames)
        objects.append(SceneObject(colour, shape, size_word, radius, motion, centres, drawn))
    grey = int(rng.integers(20, 70))
    return Scene(size, num_frames, (grey, grey, grey), tuple(objects))


def _trajectory(
    rng: np.random.Generator, motion: str, radius: float, size: int, num_frames: int
) -> tuple[np.ndarray, np.ndarray]:
    steps = np.arange(num_frames, dtype=np.float64)[:, None]
    drawn = np.ones(num_frames, dtype=bool)
    scale = size / 64.0
    if motion == "static":
        return np.repeat(_inside(rng, radius, size)[None], num_frames, axis=0), drawn
    direction = np.array(DIRECTIONS[str(rng.choice(list(DIRECTIONS)))])
    speed = float(rng.choice(SPEEDS[1:] if motion in ("bounce", "enter", "leave") else SPEEDS)) * scale
    velocity = direction * speed
    travel = velocity * (num_frames - 1)
    if motion == "enter":
        end = _inside(rng, radius, size, margin=radius + 2)
        start = end - travel
        if _fully_inside(start, radius, size):  # too slow to come from outside: start just outside
            start = end - direction * _distance_to_leave(end, -direction, radius, size)
            velocity = (end - start) / (num_frames - 1)
        return start + steps * velocity, drawn
    if motion == "leave":
        exit_frame = int(rng.integers(num_frames // 2, num_frames - 2))
        start = _inside(rng, radius, size, margin=radius + 1)
        distance = _distance_to_leave(start, direction, radius, size)
        velocity = direction * distance / max(1, exit_frame)
        return start + steps * velocity, drawn
    start = _inside_path(rng, radius, size, travel if motion != "bounce" else travel / 2)
    if motion == "bounce":
        turn = int(rng.integers(num_frames // 3, num_frames - num_frames // 3))
        offsets = np.where(steps <= turn, steps, 2 * turn - steps)
        return start + offsets * velocity, drawn
    if motion == "vanish":
        drawn[int(rng.integers(num_frames // 3, num_frames - num_frames // 4)) :] = False
    return start + steps * velocity, drawn


def _inside(rng: np.random.Generator, radius: float, size: int, margin: float | None = None) -> np.ndarray:
    margin = radius + 1 if margin is None else margin
    return rng.uniform(margin, size - margin, size=2)


def _inside_path(rng: np.random.Generator, radius: float, size: int, travel: np.ndarray) -> np.ndarray:
    """A start from which ``start + travel`` keeps the object inside the frame (where possible)."""
    low = np.maximum(radius + 1, radius + 1 - travel)
    high = np.minimum(size - radius - 1, size - radius - 1 - travel)
    high = np.maximum(high, low)
    return rng.uniform(low, high)


def _fully_inside(centre: np.ndarray, radius: float, size: int) -> bool:
    return bool(np.all(centre - radius >= 0) and np.all(centre + radius <= size))


def _distance_to_leave(start: np.ndarray, direction: np.ndarray, radius: float, size: int) -> float:
    """How far to move along ``direction`` until the object is entirely outside the frame."""
    distances = []
    for axis in range(2):
        if direction[axis] > 1e-6:
            distances.append((size + radius + 1 - start[axis]) / direction[axis])
        elif direction[axis] < -1e-6:
            distances.append((start[axis] + radius + 1) / -direction[axis])
    return float(min(distances))
