"""Prompt styles: how a query and its answer are written for the model a checkpoint was trained as.

``visa``: the reference video then the target image (``templates``). ``lisa``: LISA's one-image
prompt, ``<im_start><image><im_end>\\n`` + LISA's question, its answers (the original LISA,
``use_mm_start_end=True``; the image is 256 CLIP patch tokens, no merging). Both use the
``llava_v1`` conversation (``templates.conversation_segments``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from visa_core.model import templates
from visa_core.model.templates import IMAGE_TOKEN

IM_START_TOKEN = "<im_start>"
IM_END_TOKEN = "<im_end>"

LISA_SHORT_QUESTION_TEMPLATES: tuple[str, ...] = (
    IMAGE_TOKEN + "\nCan you segment the {sent} in this image?",
    IMAGE_TOKEN + "\nPlease segment the {sent} in this image.",
    IMAGE_TOKEN + "\nWhat is {sent} in this image? Please respond with segmentation mask.",
    IMAGE_TOKEN + "\nWhat is {sent} in this image? Please output segmentation mask.",
)
"""LISA's ``SHORT_QUESTION_LIST`` (``utils/utils.py``; its ``{class_name}`` is our ``{sent}``)."""

LISA_LONG_QUESTION_TEMPLATES: tuple[str, ...] = (
    IMAGE_TOKEN + "\n{sent} Please respond with segmentation mask.",
    IMAGE_TOKEN + "\n{sent} Please output segmentation mask.",
)
"""LISA's ``LONG_QUESTION_LIST`` (reasoning sentences)."""

LISA_EVAL_SHORT_QUESTION = IMAGE_TOKEN + "\n What is {sent} in this image? Please output segmentation mask."
LISA_EVAL_LONG_QUESTION = IMAGE_TOKEN + "\n {sent} Please output segmentation mask."
"""LISA's evaluation prompts (``ValDataset``), the space after the newline included."""

LISA_ANSWER_TEMPLATES: tuple[str, ...] = (*templates.ANSWER_TEMPLATES, "[SEG].")
"""LISA's ``ANSWER_LIST``: VISA's four answers plus ``"[SEG]."``."""

LISA_EVAL_ANSWER = "[SEG]."


@dataclass(frozen=True)
class PromptStyle:
    """One way of writing prompts.

    Attributes:
        name: ``visa`` or ``lisa``.
        shows_references: whether the prompt shows reference frames before the target frame.
        special_tokens: tokens the tokenizer must know besides ``[SEG]`` / ``<image>``.
    """

    name: str
    shows_references: bool
    special_tokens: tuple[str, ...] = ()

    def question(self, query: str, num_reference_frames: int, rng: random.Random | None = None) -> str:
        """The human turn for ``query``; ``rng`` picks a template variant, None gives the
        evaluation prompt of the original."""
        if self.name == "visa":
            return templates.question_text(query, num_reference_frames, rng)
        if num_reference_frames:
            raise ValueError(f"LISA prompts show one image, got {num_reference_frames} reference frames")
        query = query.strip()
        is_sentence = query.endswith("?")
        if rng is None:
            template = LISA_EVAL_LONG_QUESTION if is_sentence else LISA_EVAL_SHORT_QUESTION
        else:
            template = rng.choice(
                LISA_LONG_QUESTION_TEMPLATES if is_sentence else LISA_SHORT_QUESTION_TEMPLATES
            )
        text = template.replace("{sent}", query)
        return text.replace(IMAGE_TOKEN, IM_START_TOKEN + IMAGE_TOKEN + IM_END_TOKEN)

    def answer(self, rng: random.Random | None = None, num_seg: int = 1, target: str | None = None) -> str:
        """An answer with ``num_seg`` ``[SEG]`` (joined with ", "), after ``target`` (the target named
        in words) when given; ``rng`` None gives the evaluation answer."""
        if self.name == "visa":
            return templates.answer_text(rng, num_seg, target)
        template = LISA_EVAL_ANSWER if rng is None else rng.choice(LISA_ANSWER_TEMPLATES)
        return templates.fill_answer(template, num_seg, target)


PROMPT_STYLES: dict[str, PromptStyle] = {
    "visa": PromptStyle("visa", shows_references=True),
    "lisa": PromptStyle("lisa", shows_references=False, special_tokens=(IM_START_TOKEN, IM_END_TOKEN)),
}


def prompt_style(name: str) -> PromptStyle:
    """The style called ``name``.

    Raises:
        ValueError: an unknown name (the message lists the known ones).
    """
    if name not in PROMPT_STYLES:
        raise ValueError(f"unknown prompt style {name!r}; known styles: {', '.join(PROMPT_STYLES)}")
    return PROMPT_STYLES[name]
