"""LISA's prompt style: the exact prompt text, its tokens, persistence, and converted LISA folders."""

from __future__ import annotations

import json
import random

import pytest
import torch

from visa_core.errors import CheckpointError
from visa_core.model import VisaForSegmentation, VisaProcessor, preset_config
from visa_core.model.checkpoints import convert_checkpoint
from visa_core.model.processor import PROCESSOR_FILE
from visa_core.model.prompt_styles import LISA_SHORT_QUESTION_TEMPLATES

from .published_layouts import write_clip_folder, write_merged_folder

LLAVA_V1_SYSTEM = (
    "A chat between a curious human and an artificial intelligence assistant. "
    "The assistant gives helpful, detailed, and polite answers to the human's questions."
)


@pytest.fixture()
def lisa_processor(tiny_visa_model_dir):
    return VisaProcessor.from_pretrained(tiny_visa_model_dir, prompt_style="lisa")


def test_lisa_prompt_text_of_a_query(lisa_processor):
    turns = lisa_processor.make_conversation("the red square", 0, None)
    assert lisa_processor.prompt_text(turns) == (
        LLAVA_V1_SYSTEM + " USER: <im_start><image><im_end>\n What is the red square in this image? "
        "Please output segmentation mask. ASSISTANT: [SEG].</s>"
    )
    question = lisa_processor.make_conversation("What can hold water?", 0, None)[:1]
    assert lisa_processor.prompt_text(question, add_generation_prompt=True) == (
        LLAVA_V1_SYSTEM + " USER: <im_start><image><im_end>\n What can hold water? "
        "Please output segmentation mask. ASSISTANT:"
    )
    rng = random.Random(0)
    seen = {lisa_processor.make_conversation("x", 0, rng)[0].text for _ in range(60)}
    assert seen == {
        t.replace("<image>", "<im_start><image><im_end>").replace("{sent}", "x")
        for t in LISA_SHORT_QUESTION_TEMPLATES
    }
    with pytest.raises(ValueError, match="LISA prompts show one image, got 2 reference frames"):
        lisa_processor.make_conversation("x", 2, None)


def test_lisa_tokens_are_special_and_image_is_one_placeholder(lisa_processor):
    ids, labels = lisa_processor.encode_prompt(lisa_processor.make_conversation("the dog", 0, None))
    tokenizer = lisa_processor.tokenizer
    start, end = tokenizer.convert_tokens_to_ids(["<im_start>", "<im_end>"])
    position = int(torch.nonzero(ids == lisa_processor.image_token_id))
    assert ids[position - 1 : position + 2].tolist() == [start, lisa_processor.image_token_id, end]
    assert int((ids == lisa_processor.image_token_id).sum()) == 1
    assert tokenizer.decode(ids[labels != -100]) == "[SEG].</s>"
    assert not lisa_processor.shows_references and lisa_processor.embedding_rows == max(start, end) + 1


def test_prompt_style_is_saved_with_the_processor(lisa_processor, tmp_path):
    lisa_processor.save_pretrained(tmp_path / "p")
    assert json.loads((tmp_path / "p" / PROCESSOR_FILE).read_text())["prompt_style"] == "lisa"
    assert VisaProcessor.from_pretrained(tmp_path / "p").prompt_style == "lisa"
    settings = json.loads((tmp_path / "p" / PROCESSOR_FILE).read_text())
    (tmp_path / "p" / PROCESSOR_FILE).write_text(json.dumps({**settings, "prompt_style": "llava"}))
    with pytest.raises(CheckpointError, match="unknown prompt style 'llava'"):
        VisaProcessor.from_pretrained(tmp_path / "p")


def test_converted_lisa_folder_segments_with_lisa_prompts(processor, frames, tmp_path):
    config = preset_config("tiny")
    config.text_config.vocab_size = len(processor.tokenizer)
    torch.manual_seed(1)
    source = VisaForSegmentation(config).eval()
    src = write_merged_folder(source, processor, tmp_path / "lisa")
    result = convert_checkpoint(
        "lisa", src, tmp_path / "out", clip=write_clip_folder(source, tmp_path / "clip")
    )
    assert any("rows for [SEG] and <im_start> and <im_end>" in note for note in result.notes)
    assert json.loads((tmp_path / "out" / PROCESSOR_FILE).read_text())["prompt_style"] == "lisa"
    converted = VisaForSegmentation.from_pretrained(str(tmp_path / "out")).eval()
    lisa = VisaProcessor.from_pretrained(tmp_path / "out")
    assert lisa.prompt_style == "lisa" and converted.config.cluster_sizes == []
    assert converted.config.tokens_per_image == converted.config.num_patches == 64
    assert converted.config.text_config.vocab_size == lisa.embedding_rows
    prompts, encode = [], lisa.encode_prompt
    lisa.encode_prompt = lambda turns, *a, **k: (
        prompts.append(lisa.prompt_text(turns, *a, **k)) or encode(turns, *a, **k)
    )
    lengths = []
    handle = converted.language_model.model.register_forward_hook(
        lambda _m, _a, kwargs, _o: lengths.append(kwargs["inputs_embeds"].shape[1]), with_kwargs=True
    )
    try:
        output = converted.segment(lisa, frames[:3], frames[3], "the red square", answer="[SEG].")
    finally:
        handle.remove()
    assert prompts == [
        LLAVA_V1_SYSTEM + " USER: <im_start><image><im_end>\n What is the red square in this image? "
        "Please output segmentation mask. ASSISTANT: [SEG].</s>"
    ]
    ids, _ = encode(lisa.make_conversation("the red square", 0, None))
    assert lengths == [ids.shape[0] - 1 + 64]  # one image of 256/4 = 64 patch tokens, references unused
    assert output.has_seg and output.mask_logits.shape == (1, 48, 64)
