from __future__ import annotations

import random

import numpy as np
import pytest

from visa_core.model import templates
from visa_core.model.image_processing import sam_preprocess
from visa_core.model.tokenization import IGNORE_INDEX
from visa_core.types import Turn


def test_prompt_layout_of_the_original(processor):
    turns = processor.make_conversation("the red square", 2, None)
    assert turns[0].text == (
        "Reference Video: (0)<image>, (1)<image> \nTarget Image: <image> \n"
        "What is the red square in the Reference Video? "
        "Please respond with segmentation mask in the Target Image."
    )
    assert turns[1].text == "It is [SEG]."
    long = processor.make_conversation("which one moves?", 1, None)[0].text
    assert long.endswith(
        "which one moves? Please find it in the Reference Video and respond with segmentation "
        "mask in the Target Image."
    )
    rng = random.Random(3)
    seen = {processor.make_conversation("x", 1, rng)[0].text for _ in range(40)}
    assert len(seen) == len(templates.SHORT_QUESTION_TEMPLATES)
    prompt = "".join(p for p, _ in templates.conversation_segments(turns))
    assert prompt.startswith(templates.SYSTEM_PROMPT + " USER: Reference Video:")
    assert prompt.endswith(" ASSISTANT: It is [SEG].</s>")


def test_answers_can_name_the_target_before_seg(processor):
    rng = random.Random(0)
    answers = {processor.make_conversation("x", 1, rng, target="the red circle")[1].text for _ in range(60)}
    assert answers == {
        "It is the red circle [SEG].",
        "Sure, the red circle [SEG].",
        "Sure, it is the red circle [SEG].",
        "Sure, the segmentation result is the red circle [SEG].",
    }
    assert processor.make_conversation("x", 1, None, target="the dog")[1].text == "It is the dog [SEG]."
    assert templates.fill_answer("It is [SEG].", 2, "both cats") == "It is both cats [SEG], [SEG]."
    assert templates.fill_answer("It is [SEG].", 1, None) == "It is [SEG]."


def test_only_answers_are_supervised_and_seg_id_is_looked_up(processor):
    turns = processor.make_conversation("the dog", 1, None, answer="Sure, [SEG] and [SEG].")
    ids, labels = processor.encode_prompt(turns)
    assert processor.seg_token_id == processor.tokenizer.convert_tokens_to_ids("[SEG]")
    assert int((ids == processor.image_token_id).sum()) == 2
    assert ids[0] == processor.tokenizer.bos_token_id
    supervised = ids[labels != IGNORE_INDEX]
    assert supervised[-1] == processor.tokenizer.eos_token_id
    # the first supervised token carries the separator space (like Llama's "▁Sure"); [SEG] strips
    # the spaces around it when encoding and gets them back when decoding
    assert processor.decode_answer(supervised) == "Sure, [SEG] and [SEG]."
    before_seg = ids[ids.tolist().index(processor.seg_token_id) - 1]
    assert processor.tokenizer.convert_ids_to_tokens(int(before_seg)) == ","
    assert (labels[ids == processor.image_token_id] == IGNORE_INDEX).all()


@pytest.mark.parametrize("answer", [*templates.ANSWER_TEMPLATES, "Four.", "A large red circle.", "No."])
def test_generation_prompt_is_followed_by_a_supervised_token(processor, answer):
    """What a model generates first after ``ASSISTANT:`` is what training supervised there, also
    when the tiny byte-level vocabulary splits the separator space off the answer's first word."""
    turns = processor.make_conversation("the dog", 1, None, answer=answer)
    follow_up = [*turns, Turn("human", "and then?"), Turn("gpt", answer)]
    ids, labels = processor.encode_prompt(follow_up)
    for asked in (turns[:1], follow_up[:3]):
        prompt, _ = processor.encode_prompt(asked, add_generation_prompt=True)
        assert ids[: len(prompt)].tolist() == prompt.tolist()
        assert labels[len(prompt)] == ids[len(prompt)]
    assert processor.decode_answer(ids[labels != IGNORE_INDEX][: len(ids)].tolist()).startswith(answer)


def test_sam_preprocess_resizes_longest_side_normalises_and_pads():
    frame = np.full((48, 64, 3), 128, dtype=np.uint8)
    sam = sam_preprocess(frame, 128)
    assert sam.pixel_values.shape == (3, 128, 128)
    assert sam.resized_size == (96, 128) and sam.original_size == (48, 64)
    assert np.allclose(sam.pixel_values[0, :96].numpy(), (128 - 123.675) / 58.395, atol=1e-4)
    assert (sam.pixel_values[:, 96:] == 0).all()


def test_encode_example_and_collate(processor, frames, two_masks):
    turns = processor.make_conversation("the red square", 3, None, answer="It is [SEG], [SEG].")
    example = processor.encode_example(frames[:3], frames[3], turns, two_masks)
    assert example["clip_pixel_values"].shape == (4, 3, 56, 56)
    text_only = processor.encode_example([], None, [Turn("human", "hi"), Turn("gpt", "hello")], None)
    batch = processor.collate([example, text_only])
    assert batch["input_ids"].shape[0] == 2 and batch["sam_pixel_values"].shape == (1, 3, 128, 128)
    assert batch["has_target"].tolist() == [True, False]
    assert batch["attention_mask"][1].sum() == text_only["input_ids"].shape[0]


def test_bad_inputs_are_named(processor, frames, two_masks):
    turns = processor.make_conversation("the red square", 3, None)
    with pytest.raises(ValueError, match="4 <image> placeholders but 3 frames"):
        processor.encode_example(frames[:2], frames[3], turns, None)
    with pytest.raises(ValueError, match="1 \\[SEG\\] tokens but 2 masks"):
        processor.encode_example(frames[:3], frames[3], turns, two_masks)
    with pytest.raises(ValueError, match="uint8"):
        processor.clip_pixels([frames[0].astype(np.float32)])
