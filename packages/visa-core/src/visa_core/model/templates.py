"""Every prompt of the original VISA: question and answer templates and the ``llava_v1`` format."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from visa_core.types import Turn

IMAGE_TOKEN = "<image>"
SEG_TOKEN = "[SEG]"
VIDEO_PLACEHOLDER = "<video>"

_HEADER = "Reference Video: " + VIDEO_PLACEHOLDER + " \nTarget Image: " + IMAGE_TOKEN + " \n"

SHORT_QUESTION_TEMPLATES: tuple[str, ...] = (
    _HEADER
    + "What is {sent} in the Reference Video? Please respond with segmentation mask in the Target Image.",
    _HEADER + "What is {sent} in the Reference Video? Please output segmentation mask in the Target Image.",
    _HEADER + "Please find {sent} in the Reference Video and segment it in the Target Image.",
)
"""For queries not ending in ``?`` (the original's ``UNIFIED_SHORT_QUESTION_LIST``)."""

LONG_QUESTION_TEMPLATES: tuple[str, ...] = (
    _HEADER
    + "{sent} Please find it in the Reference Video and respond with segmentation mask in the Target Image.",
    _HEADER
    + "{sent} Please find it in the Reference Video and output segmentation mask in the Target Image.",
)
"""For queries ending in ``?`` (the original's ``UNIFIED_LONG_QUESTION_LIST``)."""

ANSWER_TEMPLATES: tuple[str, ...] = (
    "It is [SEG].",
    "Sure, [SEG].",
    "Sure, it is [SEG].",
    "Sure, the segmentation result is [SEG].",
)

SYSTEM_PROMPT = (
    "A chat between a curious human and an artificial intelligence assistant. "
    "The assistant gives helpful, detailed, and polite answers to the human's questions."
)
ROLES = {"human": "USER", "gpt": "ASSISTANT"}
SEP, SEP2 = " ", "</s>"


def reference_video_text(num_frames: int) -> str:
    """``"(0)<image>, (1)<image>, ..."`` for ``num_frames`` reference frames."""
    return ", ".join(f"({i}){IMAGE_TOKEN}" for i in range(num_frames))


def show_reference_video(turns: Sequence[Turn], num_frames: int) -> list[Turn]:
    """The turns with their first ``<video>`` replaced by ``num_frames`` numbered ``<image>``
    placeholders (:func:`reference_video_text`); without one they open the first turn."""
    frames_text = reference_video_text(num_frames)
    if any(VIDEO_PLACEHOLDER in turn.text for turn in turns):
        return [Turn(t.role, t.text.replace(VIDEO_PLACEHOLDER, frames_text, 1)) for t in turns]
    first, *rest = turns
    return [Turn(first.role, f"{frames_text}\n{first.text}"), *rest]


def place_frames(
    turns: Sequence[Turn], num_frames: int, choose_references: Callable[[], list[int]]
) -> tuple[list[int], list[Turn]]:
    """The frames a conversation about a ``num_frames``-frame video shows, and its turns with one
    ``<image>`` per frame: ``<image>`` placeholders without a ``<video>`` take every frame, in
    order; otherwise ``choose_references()`` picks the frames (:func:`show_reference_video`).

    Raises:
        ValueError: ``<image>`` placeholders whose count is not ``num_frames``.
    """
    num_images = sum(turn.text.count(IMAGE_TOKEN) for turn in turns)
    if num_images and not any(VIDEO_PLACEHOLDER in turn.text for turn in turns):
        if num_images != num_frames:
            raise ValueError(
                f"the conversation has {num_images} {IMAGE_TOKEN} placeholders but {num_frames} frames"
            )
        return list(range(num_frames)), list(turns)
    references = choose_references()
    return references, show_reference_video(turns, len(references))


def question_text(query: str, num_reference_frames: int, rng: random.Random | None = None) -> str:
    """The human turn for a query; ``rng`` picks the template variant, None gives variant 0."""
    query = query.strip()
    templates = LONG_QUESTION_TEMPLATES if query.endswith("?") else SHORT_QUESTION_TEMPLATES
    template = templates[0] if rng is None else rng.choice(templates)
    text = template.replace("{sent}", query)
    return text.replace(VIDEO_PLACEHOLDER, reference_video_text(num_reference_frames))


def answer_text(rng: random.Random | None = None, num_seg: int = 1, target: str | None = None) -> str:
    """An answer template (variant 0 when ``rng`` is None); see :func:`fill_answer`."""
    template = ANSWER_TEMPLATES[0] if rng is None else rng.choice(ANSWER_TEMPLATES)
    return fill_answer(template, num_seg, target)


def fill_answer(template: str, num_seg: int = 1, target: str | None = None) -> str:
    """Put ``num_seg`` ``[SEG]`` (joined with ", ") into ``template``, after ``target`` (the target
    named in words) when given: ``"It is [SEG]."`` -> ``"It is the red circle [SEG]."``."""
    segs = ", ".join([SEG_TOKEN] * num_seg)
    return template.replace(SEG_TOKEN, f"{target} {segs}" if target else segs)


def conversation_segments(
    turns: Sequence[Turn], add_generation_prompt: bool = False
) -> list[tuple[str, bool]]:
    """The ``llava_v1`` prompt as ``(text, is_answer)`` pieces; their concatenation is the prompt.

    Layout: ``"{system} USER: {q} ASSISTANT: {a}</s>USER: ..."``; answer pieces hold the space
    before the answer and its ``</s>``, so the first supervised token is the one that carries that
    space (Llama's ``"▁Sure"``; a lone ``"Ġ"`` when a byte-level vocabulary has no ``"ĠFour"``),
    which is what a model generates first after a generation prompt, which ends with
    ``"ASSISTANT:"`` (``add_generation_prompt``).
    """
    pieces: list[tuple[str, bool]] = [(SYSTEM_PROMPT + SEP, False)]
    for index, turn in enumerate(turns):
        expected = "human" if index % 2 == 0 else "gpt"
        if turn.role != expected:
            raise ValueError(f"turn {index} must be a {expected!r} turn, got {turn.role!r}")
        if turn.role == "human":
            pieces.append((f"{ROLES['human']}: {turn.text}{SEP}{ROLES['gpt']}:", False))
        else:
            pieces.append((f" {turn.text}{SEP2}", True))
    if add_generation_prompt and turns and turns[-1].role != "human":
        raise ValueError("a generation prompt must end with a human turn")
    return pieces
