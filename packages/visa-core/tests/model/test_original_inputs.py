"""What we feed the model equals what the original VISA code fed it (transformers 4.31).

The reference is ``tests/fixtures/tokenizer_431/expected.json``, written by transformers 4.31
itself (``make_fixture.py`` there says how to regenerate it): token ids of raw texts and of the
llava_v1 prompts our processor builds, in every ``legacy`` mode, and the CLIP preprocessing of
frames of several sizes.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from visa_core.model.image_processing import clip_preprocess, shortest_side_shape
from visa_core.model.processor import VisaProcessor
from visa_core.model.tokenization import encode_pieces
from visa_core.types import Turn

FIXTURE = Path(__file__).resolve().parents[4] / "tests" / "fixtures" / "tokenizer_431"
EXPECTED = json.loads((FIXTURE / "expected.json").read_text())
VARIANTS = sorted(EXPECTED["tokenizer_configs"])
REGENERATE = f"regenerate with .venv/bin/python {FIXTURE / 'make_fixture.py'}"


def tokenizer_folder(root: Path, variant: str) -> Path:
    """``tokenizer.model`` and the variant's ``tokenizer_config.json``, as in 2023 checkpoints."""
    folder = root / variant
    folder.mkdir()
    shutil.copy(FIXTURE / "tokenizer.model", folder / "tokenizer.model")
    (folder / "tokenizer_config.json").write_text(json.dumps(EXPECTED["tokenizer_configs"][variant]))
    return folder


def original_ids(processor: VisaProcessor, ids) -> list[int]:
    """Our ids with the ``<image>`` id written as the original's -200."""
    image = EXPECTED["image_token_index"]
    return [image if i == processor.image_token_id else int(i) for i in ids]


def our_ids(processors: dict[str, VisaProcessor]) -> dict[str, list[int]]:
    """The fixture's texts and its prompts of the given styles through our processors."""
    visa = processors["visa"]
    ids = {
        name: original_ids(
            visa, encode_pieces(visa.tokenizer, [(text, False)], visa.image_token_id, visa.sentencepiece)[0]
        )
        for name, text in EXPECTED["texts"].items()
    }
    for name, prompt in EXPECTED["prompts"].items():
        if prompt["style"] not in processors:
            continue
        processor = processors[prompt["style"]]
        turns = [Turn(**turn) for turn in prompt["turns"]]
        assert processor.prompt_text(turns, prompt["generation"]) == prompt["text"], (
            f"our {name} prompt changed; {REGENERATE}"
        )
        ids[name] = original_ids(processor, processor.encode_prompt(turns, prompt["generation"])[0])
    return ids


def load_processors(folder: Path) -> dict[str, VisaProcessor]:
    return {style: VisaProcessor.from_pretrained(folder, prompt_style=style) for style in ("visa", "lisa")}


def assert_same_ids(ours: dict[str, list[int]], variant: str) -> None:
    expected = EXPECTED["token_ids"][variant]
    wrong = [name for name in ours if ours[name] != expected[name]]
    assert not wrong, {name: {"ours": ours[name], "4.31": expected[name]} for name in wrong}


@pytest.mark.parametrize("variant", VARIANTS)
def test_token_ids_are_those_of_transformers_431(variant: str, tmp_path: Path) -> None:
    processors = load_processors(tokenizer_folder(tmp_path, variant))
    assert processors["visa"].sentencepiece.legacy is EXPECTED["legacy"][variant]
    assert_same_ids(our_ids(processors), variant)


@pytest.mark.parametrize("variant", VARIANTS)
def test_legacy_mode_survives_save_and_reload(variant: str, tmp_path: Path) -> None:
    reloaded = {}
    for style, processor in load_processors(tokenizer_folder(tmp_path, variant)).items():
        processor.save_pretrained(tmp_path / style)
        assert (tmp_path / style / "tokenizer.model").is_file()
        reloaded[style] = VisaProcessor.from_pretrained(tmp_path / style)
        assert reloaded[style].prompt_style == style
        assert reloaded[style].sentencepiece.legacy is EXPECTED["legacy"][variant]
    assert_same_ids(our_ids(reloaded), variant)


@pytest.mark.parametrize("variant", ["legacy_true", "legacy_false"])
def test_init_model_keeps_the_legacy_mode_of_a_published_tokenizer(variant: str, tmp_path: Path) -> None:
    """``visa init-model --tokenizer`` of a tokenizer saved by 4.31 with ``[SEG]`` (as published)."""
    from visa_core.model.folders import init_model_folder

    init_model_folder("tiny", tmp_path / "model", tokenizer_dir=FIXTURE / f"published_{variant}")
    processor = VisaProcessor.from_pretrained(tmp_path / "model")
    assert processor.seg_token_id == 420  # published added_tokens.json: [SEG] after the pieces
    assert_same_ids(our_ids({"visa": processor}), variant)


@pytest.mark.parametrize("variant", ["legacy_true", "legacy_false"])
def test_convert_checkpoint_keeps_the_legacy_mode(variant: str, processor, tmp_path: Path) -> None:
    """``visa convert-checkpoint --tokenizer`` of a tokenizer saved by 4.31 (a merged VISA folder)."""
    import torch

    from visa_core.model import VisaForSegmentation, preset_config
    from visa_core.model.checkpoints import convert_checkpoint

    from .published_layouts import write_clip_folder, write_merged_folder

    torch.manual_seed(0)
    model = VisaForSegmentation(preset_config("tiny")).eval()
    src = write_merged_folder(model, processor, tmp_path / "visa")
    clip = write_clip_folder(model, tmp_path / "clip")
    published = FIXTURE / f"published_{variant}"
    convert_checkpoint("visa", src, tmp_path / "out", clip=clip, tokenizer=published)
    converted = VisaProcessor.from_pretrained(tmp_path / "out")
    assert converted.sentencepiece.legacy is EXPECTED["legacy"][variant]
    assert_same_ids(our_ids({"visa": converted}), variant)


def test_seg_answer_labels_supervise_the_lone_prefix_piece(tmp_path: Path) -> None:
    """legacy=True: the ``▁`` between ``[SEG]`` and ``.`` is part of the answer, as in the original."""
    processor = VisaProcessor.from_pretrained(tokenizer_folder(tmp_path, "legacy_absent"))
    ids, labels = processor.encode_prompt([Turn("human", "<image> the dog"), Turn("gpt", "It is [SEG].")])
    tokens = processor.tokenizer.convert_ids_to_tokens(ids[labels >= 0].tolist())
    assert tokens[-5:] == ["▁is", "[SEG]", "▁", ".", "</s>"]
    assert processor.decode_answer(ids[labels >= 0].tolist()) == "It is [SEG]."


@pytest.mark.parametrize("name", sorted(EXPECTED["frames"]))
def test_clip_pixels_are_those_of_transformers_431(name: str) -> None:
    frame_spec = EXPECTED["frames"][name]
    height, width = frame_spec["size"]
    frame = np.random.default_rng(frame_spec["seed"]).integers(0, 256, (height, width, 3), dtype=np.uint8)
    assert list(shortest_side_shape(height, width, 224)) == frame_spec["resized"]
    pixels = clip_preprocess(frame, 224).numpy()
    assert pixels.shape == (3, 224, 224)
    digest = hashlib.sha256(np.ascontiguousarray(pixels, dtype=np.float32).tobytes()).hexdigest()
    assert abs(float(pixels.astype(np.float64).sum()) - frame_spec["pixels_sum"]) < 1e-3
    assert digest == frame_spec["pixels_sha256"]
