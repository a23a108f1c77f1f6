from __future__ import annotations

import logging

import numpy as np
import pytest
import torch


def _force_answer(model, token_ids):
    """Make greedy decoding emit ``token_ids`` (a hook on lm_head adds a large logit per step)."""
    step = {"n": 0}

    def hook(_module, _inputs, logits):
        logits = logits.clone()
        logits[:, -1, token_ids[min(step["n"], len(token_ids) - 1)]] += 1e4
        step["n"] += 1
        return logits

    return model.language_model.lm_head.register_forward_hook(hook)


def test_generated_seg_tokens_give_masks_from_the_state_that_predicted_them(tiny_model, processor, frames):
    seg, eos = processor.seg_token_id, processor.tokenizer.eos_token_id
    handle = _force_answer(tiny_model, [seg, seg, eos])
    try:
        result = tiny_model.segment(processor, frames[:3], frames[3], "the red square", max_new_tokens=5)
    finally:
        handle.remove()
    assert result.has_seg and result.answer == "[SEG] [SEG]"
    assert result.mask_logits.shape == (2, 48, 64) and result.mask_logits.dtype == np.float32
    turns = processor.make_conversation("the red square", 3, None)[:1]
    prompt, _ = processor.encode_prompt(turns, add_generation_prompt=True)
    ids = torch.cat([prompt, torch.tensor([seg, seg])])
    sequence = tiny_model.expand(ids[None], None, None, processor.clip_pixels(frames))
    with torch.no_grad():
        hidden = tiny_model.language_model.model(inputs_embeds=sequence.embeds).last_hidden_state[0]
        expected = tiny_model.text_hidden_fcs(hidden[[-3, -2]])
    assert torch.allclose(result.seg_embeddings, expected, atol=1e-4)
    embedding = tiny_model.sam_image_embeddings(processor, frames[3])
    again = tiny_model.decode_masks(embedding, result.seg_embeddings, processor, (48, 64))
    assert np.allclose(again, result.mask_logits, atol=1e-5)


def test_teacher_forced_segment_and_explicit_no_seg_report(tiny_model, processor, frames, caplog):
    forced = tiny_model.segment(processor, frames[:2], frames[3], "the dog", answer="Sure, [SEG] and [SEG].")
    assert forced.has_seg and forced.mask_logits.shape == (2, 48, 64) and forced.masks.dtype == bool
    with caplog.at_level(logging.WARNING):
        none = tiny_model.segment(processor, frames[:2], frames[3], "the dog", answer="There is no dog.")
    assert not none.has_seg and none.mask_logits.shape == (0, 48, 64) and none.seg_embeddings.shape[0] == 0
    assert "contains no [SEG]" in caplog.text


def test_reply_answers_the_last_turn_after_the_given_answers(tiny_model, processor, frames):
    from visa_core.types import Turn

    words = processor.tokenizer("Four. A red circle.", add_special_tokens=False)["input_ids"]
    turns = [
        Turn("human", "(0)<image>, (1)<image>\nHow many objects are there?"),
        Turn("gpt", "Two."),
        Turn("human", "Which objects are there?"),
    ]
    handle = _force_answer(tiny_model, [*words, processor.tokenizer.eos_token_id])
    try:
        said = tiny_model.reply(processor, frames[:2], turns, max_new_tokens=20)
    finally:
        handle.remove()
    assert said == "Four. A red circle."
    tokens = tiny_model.frame_tokens(processor, frames[:2])
    handle = _force_answer(tiny_model, [*words, processor.tokenizer.eos_token_id])
    try:
        again = tiny_model.reply(processor, frames[:2], turns, max_new_tokens=20, frame_tokens=tokens)
    finally:
        handle.remove()
    assert again == said
    with pytest.raises(ValueError, match="2 <image> placeholders but 3 frames"):
        tiny_model.reply(processor, frames[:3], turns)
