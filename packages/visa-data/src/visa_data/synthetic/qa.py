"""Question-answer conversations (text answers, no masks) about a synthetic video or image.

Entries follow the LLaVA conversation schema with a frame folder instead of an image file:
``{"id", "video": <folder relative to the dataset root>, "frames": [names], "conversations":
[{"from": "human", "value": "<video>\\n..."}, {"from": "gpt", "value": ...}, ...]}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from visa_data.synthetic.scene import COLOURS, SHAPES

if TYPE_CHECKING:
    from visa_data.synthetic.generate import SyntheticVideo

NUMBERS = ("no", "one", "two", "three", "four", "five")


def conversation(item: SyntheticVideo, folder: str, frames: list[str], index: int) -> dict[str, Any]:
    """A 3-4 turn conversation: the object count, every visible object named with its size, then
    up to two questions whose answers the queries fix."""
    rng = np.random.default_rng([index, len(item.queries)])
    visible = [n for n in range(len(item.scene.objects)) if item.masks[n].any()]
    medium = "image" if len(item.frames) == 1 else "video"
    pairs = [
        (f"How many objects are in the {medium}?", f"{NUMBERS[len(visible)].capitalize()}."),
        (f"Which objects are in the {medium}?", _inventory(item, visible)),
    ]
    extra = _attribute_questions(item, visible) + _reasoning_questions(item)
    if extra:
        chosen = rng.choice(len(extra), size=min(2, len(extra)), replace=False)
        pairs += [extra[int(i)] for i in sorted(chosen)]
    turns = []
    for turn, (question, answer) in enumerate(pairs):
        prefix = f"<{medium}>\n" if turn == 0 else ""
        turns += [{"from": "human", "value": prefix + question}, {"from": "gpt", "value": answer}]
    return {"id": item.video_id, "video": folder, "frames": frames, "conversations": turns}


def _inventory(item: SyntheticVideo, visible: list[int]) -> str:
    """ "A large red circle and a small blue square." (colour order, then shape order; "Nothing."
    when none is visible)."""
    objects = sorted(
        (item.scene.objects[n] for n in visible),
        key=lambda o: (list(COLOURS).index(o.colour), SHAPES.index(o.shape)),
    )
    names = [f"a {o.size} {o.name}" for o in objects]
    if not names:
        return "Nothing."
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    return f"{listed[0].upper()}{listed[1:]}."


def _attribute_questions(item: SyntheticVideo, visible: list[int]) -> list[tuple[str, str]]:
    objects = [item.scene.objects[n] for n in visible]
    pairs = []
    for obj in objects:
        if sum(o.shape == obj.shape for o in objects) == 1:
            pairs.append((f"What colour is the {obj.shape}?", f"It is {obj.colour}."))
        if sum(o.colour == obj.colour for o in objects) == 1:
            pairs.append((f"What shape is the {obj.colour} object?", f"It is a {obj.shape}."))
    return pairs


def _reasoning_questions(item: SyntheticVideo) -> list[tuple[str, str]]:
    pairs = []
    for query in item.queries:
        if query.type_id == 1:
            words = query.target_words(item.scene)
            pairs.append((f"Which is {query.text}?", f"{words[0].upper()}{words[1:]}."))
        elif query.type_id == 2 and not query.text.startswith("the object"):
            pairs.append((f"Is there a {query.text.removeprefix('the ')}?", "No."))
    return pairs
