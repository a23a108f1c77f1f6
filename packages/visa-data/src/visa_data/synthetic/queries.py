"""Queries about a rendered scene, each decidable from the frames.

Every reasoning query is emitted only when exactly one object satisfies it by a clear margin
(speeds differ by at least 1 pixel per frame at 64 px, end positions by 6 pixels, ...), so a model
that watches the whole video can always answer it. Kinds follow ReVOS: ``type_id`` 0 referring,
1 reasoning, 2 no target (empty mask).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from visa_data.synthetic.scene import COLOURS, SHAPES, Scene

MIN_VISIBLE_PIXELS = 4
"""An object counts as visible in a frame when at least this many of its pixels are."""


@dataclass(frozen=True)
class SceneQuery:
    """A query, its ReVOS ``type_id`` and the indices of its target objects (empty for no target)."""

    text: str
    type_id: int
    targets: tuple[int, ...]

    def target_words(self, scene: Scene) -> str:
        """The targets named in words: ``"the red circle"`` (empty for no target)."""
        return " and ".join(f"the {scene.objects[n].name}" for n in self.targets)


@dataclass(frozen=True)
class ObjectFacts:
    """What can be seen of one object over the video."""

    visible: np.ndarray  # bool[T]
    speed: float  # mean pixels per frame while visible
    net: np.ndarray  # float[2] displacement (x, y) between the first and last visible frame
    start: np.ndarray  # float[2] centre in the first visible frame
    end: np.ndarray  # float[2] centre in the last visible frame
    turns: bool


def object_facts(scene: Scene, masks: np.ndarray) -> list[ObjectFacts]:
    """Facts per object from its trajectory and its visible mask ``bool[N, T, H, W]``."""
    facts = []
    for n, obj in enumerate(scene.objects):
        visible = masks[n].sum(axis=(1, 2)) >= MIN_VISIBLE_PIXELS
        frames = np.flatnonzero(visible)
        if len(frames) == 0:
            facts.append(ObjectFacts(visible, 0.0, np.zeros(2), np.zeros(2), np.zeros(2), False))
            continue
        centres = obj.centres[frames]
        steps = np.linalg.norm(np.diff(centres, axis=0), axis=1) / np.maximum(1, np.diff(frames))
        speed = float(steps.mean()) if len(steps) else 0.0
        turns = obj.motion == "bounce"
        facts.append(ObjectFacts(visible, speed, centres[-1] - centres[0], centres[0], centres[-1], turns))
    return facts


def scene_queries(
    scene: Scene, masks: np.ndarray, rng: np.random.Generator, max_position_queries: int = 2
) -> list[SceneQuery]:
    """Referring, reasoning and no-target queries for a scene (images when ``num_frames == 1``).

    Position queries ("the object that ends nearest the top") are many per scene; at most
    ``max_position_queries`` of them are kept, drawn with ``rng``.
    """
    facts = object_facts(scene, masks)
    still = scene.num_frames == 1
    queries = _referring(scene, facts)
    scale = scene.size / 64.0
    reasoning: list[tuple[str, int | None]] = [
        ("the largest object", _unique_size(scene, facts, "large")),
        ("the smallest object", _unique_size(scene, facts, "small")),
        *_same_colour(scene, facts),
    ]
    sides = ("top", "bottom", "left", "right")
    if still:
        positions = [
            (f"the object nearest the {side}", _nearest(facts, side, "end", 6 * scale)) for side in sides
        ]
    else:
        positions = [
            (f"the object that {when}s nearest the {side}", _nearest(facts, side, when, 6 * scale))
            for when in ("start", "end")
            for side in sides
        ]
        reasoning += [
            ("the object that moves fastest", _unique_extreme([f.speed for f in facts], facts, 1.0 * scale)),
            ("the object that moves slowest", _unique_extreme([-f.speed for f in facts], facts, 1.0 * scale)),
            (
                "the object that does not move",
                _only(facts, lambda f: f.speed < 0.05, lambda f: f.speed > 0.8),
            ),
            (
                "the object that changes direction",
                _only(facts, lambda f: f.turns and f.speed > 1.0, _moves_on),
            ),
            ("the object that disappears", _only(facts, _disappears, lambda f: f.visible[-1])),
            ("the object that enters the scene", _only(facts, _enters, lambda f: f.visible[0])),
            *[
                (f"the object moving {d}", _moving(facts, d, 8 * scale))
                for d in ("up", "down", "left", "right")
            ],
        ]
    positions = [(text, target) for text, target in positions if target is not None]
    if len(positions) > max_position_queries:
        keep = rng.choice(len(positions), size=max_position_queries, replace=False)
        positions = [positions[int(i)] for i in sorted(keep)]
    reasoning += positions
    queries += [SceneQuery(text, 1, (target,)) for text, target in reasoning if target is not None]
    queries += _no_target(scene, facts, still, rng)
    return queries


def _referring(scene: Scene, facts: list[ObjectFacts]) -> list[SceneQuery]:
    return [
        SceneQuery(f"the {obj.name}", 0, (n,))
        for n, (obj, fact) in enumerate(zip(scene.objects, facts, strict=True))
        if fact.visible.any()
    ]


def _no_target(
    scene: Scene, facts: list[ObjectFacts], still: bool, rng: np.random.Generator
) -> list[SceneQuery]:
    present = {obj.name for obj in scene.objects}
    absent = [f"{c} {s}" for c in COLOURS for s in SHAPES if f"{c} {s}" not in present]
    # one absent object; preferably one whose colour or shape occurs in the scene (harder to reject)
    colours = {obj.colour for obj in scene.objects}
    shapes = {obj.shape for obj in scene.objects}
    confusable = [name for name in absent if name.split()[0] in colours or name.split()[1] in shapes]
    pool = confusable or absent
    queries = [SceneQuery(f"the {pool[int(rng.integers(len(pool)))]}", 2, ())]
    if not still:
        if all(f.visible[-1] or not f.visible.any() for f in facts) and all(f.visible.any() for f in facts):
            queries.append(SceneQuery("the object that disappears", 2, ()))
        if not any(obj.motion == "bounce" for obj in scene.objects):
            queries.append(SceneQuery("the object that changes direction", 2, ()))
    return queries


def _visible_long(fact: ObjectFacts) -> bool:
    return fact.visible.sum() >= max(2, len(fact.visible) // 2)


def _unique_extreme(values: list[float], facts: list[ObjectFacts], margin: float) -> int | None:
    """The object with the largest value, if it beats every other by ``margin``.

    Objects seen in fewer than half the frames take no part; at most one may be left out.
    """
    candidates = [n for n, f in enumerate(facts) if _visible_long(f)]
    if len(candidates) < 2 or len(candidates) < len(facts) - 1:
        return None
    ranked = sorted(candidates, key=lambda n: values[n], reverse=True)
    return ranked[0] if values[ranked[0]] - values[ranked[1]] >= margin else None


def _unique_size(scene: Scene, facts: list[ObjectFacts], size: str) -> int | None:
    """The single visible object of ``size`` ("large" / "small") when every other has the other size."""
    if not all(_visible_long(f) for f in facts):
        return None
    hits = [n for n, obj in enumerate(scene.objects) if obj.size == size]
    return hits[0] if len(hits) == 1 and len(scene.objects) >= 2 else None


def _only(
    facts: list[ObjectFacts], has: Callable[[ObjectFacts], bool], others: Callable[[ObjectFacts], bool]
) -> int | None:
    """The single object for which ``has`` holds, when ``others`` holds for every other object."""
    hits = [n for n, f in enumerate(facts) if has(f)]
    if len(hits) != 1 or len(facts) < 2:
        return None
    rest = [f for n, f in enumerate(facts) if n != hits[0]]
    return hits[0] if all(others(f) for f in rest) else None


def _moves_on(fact: ObjectFacts) -> bool:
    return not fact.turns


def _disappears(fact: ObjectFacts) -> bool:
    return bool(fact.visible[0] and not fact.visible[-3:].any())


def _enters(fact: ObjectFacts) -> bool:
    return bool(not fact.visible[0] and fact.visible[-3:].all())


_AXES = {"up": (1, -1.0), "down": (1, 1.0), "left": (0, -1.0), "right": (0, 1.0)}


def _moving(facts: list[ObjectFacts], direction: str, distance: float) -> int | None:
    """The single non-turning object moving clearly in ``direction``; no other moves that way at all."""
    axis, sign = _AXES[direction]

    def along(f: ObjectFacts) -> float:
        return float(f.net[axis] * sign)

    def clearly(f: ObjectFacts) -> bool:
        return (
            not f.turns and _visible_long(f) and along(f) >= distance and along(f) >= 2 * abs(f.net[1 - axis])
        )

    return _only(facts, clearly, lambda f: along(f) < distance / 3 and not (f.turns and f.speed > 0.5))


_SIDES = {"top": (1, -1.0), "bottom": (1, 1.0), "left": (0, -1.0), "right": (0, 1.0)}


def _nearest(facts: list[ObjectFacts], side: str, when: str, margin: float) -> int | None:
    """The object nearest ``side`` in its first (``start``) or last (``end``) frame, by ``margin``."""
    axis, sign = _SIDES[side]
    frame = 0 if when == "start" else -1
    present = [n for n, f in enumerate(facts) if f.visible[frame]]
    if len(present) < 2:
        return None
    position = {n: float((facts[n].start if when == "start" else facts[n].end)[axis] * sign) for n in present}
    ranked = sorted(present, key=lambda n: position[n], reverse=True)
    return ranked[0] if position[ranked[0]] - position[ranked[1]] >= margin else None


def _same_colour(scene: Scene, facts: list[ObjectFacts]) -> list[tuple[str, int | None]]:
    """ "the object with the same colour as the <shape>": the shape is unique, one other shares its colour."""
    found: list[tuple[str, int | None]] = []
    for shape in SHAPES:
        holders = [n for n, obj in enumerate(scene.objects) if obj.shape == shape]
        if len(holders) != 1 or not _visible_long(facts[holders[0]]):
            continue
        colour = scene.objects[holders[0]].colour
        mates = [n for n, obj in enumerate(scene.objects) if obj.colour == colour and n != holders[0]]
        if len(mates) == 1 and facts[mates[0]].visible.any():
            found.append((f"the object with the same colour as the {shape}", mates[0]))
    return found
