"""LLaMA-VID loaded from the published file layout (tiny random weights) and run as TFS did."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

import visa_core
from visa_core import CheckpointError, ComponentOptionError, Query
from visa_core.testing import FrameSelectorContract, moving_squares
from visa_frame_select.llamavid import frame_question
from visa_frame_select.llamavid.llamavid_backend import LlamaVidVideoQA
from visa_frame_select.llamavid.weights import vision_tower_tensors

QUESTION = frame_question("the red square")


@pytest.fixture(scope="module")
def backend(tiny_llamavid: dict[str, Path]) -> LlamaVidVideoQA:
    return LlamaVidVideoQA(**tiny_llamavid, max_new_tokens=5)


def _frames(count: int = 4) -> list[np.ndarray]:
    video, _ = moving_squares(num_frames=count, height=40, width=56)
    return [video.frames[i] for i in range(count)]


class TestLlamaVidBackendContract(FrameSelectorContract):
    component_name = "llamavid"

    @pytest.fixture
    def selector(self, tiny_llamavid: dict[str, Path]):
        return visa_core.build(
            "frame_selector", "llamavid", backend="llamavid", repeats=2, frames_shown=3, max_new_tokens=3,
            **tiny_llamavid,
        )  # fmt: skip


def test_answers_are_seeded(backend: LlamaVidVideoQA) -> None:
    frames = _frames()
    first = backend.answer(frames, QUESTION, seed=3)
    assert isinstance(first, str) and first
    assert backend.answer(frames, QUESTION, seed=3) == first
    assert {backend.answer(frames, QUESTION, seed=s) for s in range(4)} != {first}


def test_video_tokens_fill_two_slots_per_frame(backend: LlamaVidVideoQA) -> None:
    frames = _frames(3)
    message, prompt = backend.prompt(3, QUESTION)
    assert prompt.count("<image>") == 6 and prompt.endswith(" ASSISTANT:")
    embeds = backend.input_embeddings(frames, QUESTION)[0]
    from visa_frame_select.llamavid.conversation import tokenize_with_image_slots

    ids, slots = tokenize_with_image_slots(prompt, backend.tokenizer)
    slots_t = torch.tensor(slots)
    assert embeds.shape == (len(ids), 32) and int(slots_t.sum()) == 6
    table = backend.network.language_model.get_input_embeddings().weight
    torch.testing.assert_close(embeds[~slots_t], table[torch.tensor(ids)[~slots_t]])
    text = backend.qformer_tokenizer([message], truncation=True, max_length=256, return_tensors="pt")
    with torch.inference_mode():
        tokens = backend.network.video_tokenizer(
            backend.frame_features(frames), text["input_ids"], text["attention_mask"]
        )
    torch.testing.assert_close(embeds[slots_t], tokens)


def test_frame_features_drop_cls_and_are_reused(backend: LlamaVidVideoQA) -> None:
    frames = _frames(2)
    features = backend.frame_features(frames)
    assert features.shape == (2, 4, 88)  # 28 px / 14 px patches = 2 x 2, CLS removed
    assert backend.frame_features([frame.copy() for frame in frames]) is features
    assert backend.frame_features(frames[::-1]) is not features


def test_greedy_decoding_follows_the_language_model(tiny_llamavid: dict[str, Path]) -> None:
    greedy = LlamaVidVideoQA(**tiny_llamavid, max_new_tokens=1, greedy=True)
    frames = _frames(2)
    embeds = greedy.input_embeddings(frames, QUESTION)
    with torch.inference_mode():
        logits = greedy.network.language_model(inputs_embeds=embeds).logits[0, -1]
    expected = greedy.tokenizer.decode([int(logits.argmax())], skip_special_tokens=True).strip()
    assert greedy.answer(frames, QUESTION, seed=0) == greedy.answer(frames, QUESTION, seed=9) == expected


def _copy(tiny_llamavid: dict[str, Path], tmp_path: Path) -> dict[str, Path]:
    paths = {name: tmp_path / path.name for name, path in tiny_llamavid.items()}
    for name, path in tiny_llamavid.items():
        (shutil.copytree if path.is_dir() else shutil.copy)(path, paths[name])
    return paths


def _edit_shard(folder: Path, edit) -> None:
    shard = folder / "pytorch_model-00002-of-00002.bin"
    state = torch.load(shard, weights_only=True)
    edit(state)
    torch.save(state, shard)


def test_missing_and_unexpected_keys_are_listed(tiny_llamavid: dict[str, Path], tmp_path: Path) -> None:
    paths = _copy(tiny_llamavid, tmp_path)

    def edit(state: dict) -> None:
        del state["model.vlm_att_key_projector.weight"]
        state["model.vlm_att_extra.weight"] = torch.zeros(2)

    _edit_shard(paths["model"], edit)
    with pytest.raises(CheckpointError) as error:
        LlamaVidVideoQA(**paths)
    assert "missing keys: vlm_att_key_projector.weight" in str(error.value)
    assert "unexpected keys: vlm_att_extra.weight" in str(error.value)


def test_unknown_model_key_and_wrong_shape(tiny_llamavid: dict[str, Path], tmp_path: Path) -> None:
    paths = _copy(tiny_llamavid, tmp_path)
    _edit_shard(paths["model"], lambda state: state.update({"model.something_else": torch.zeros(1)}))
    with pytest.raises(CheckpointError, match=r"unexpected keys: model\.something_else"):
        LlamaVidVideoQA(**paths)
    _edit_shard(paths["model"], lambda state: state.pop("model.something_else"))
    _edit_shard(paths["model"], lambda state: state.update({"model.vlm_att_query": torch.zeros(1, 5, 32)}))
    with pytest.raises(
        CheckpointError, match=r"shape mismatches: vlm_att_query \(1, 5, 32\) \(expected \(1, 4, 32\)\)"
    ):
        LlamaVidVideoQA(**paths)


def test_vision_tower_problems(tiny_llamavid: dict[str, Path], tmp_path: Path) -> None:
    paths = _copy(tiny_llamavid, tmp_path)
    state, dropped = vision_tower_tensors(paths["vision_tower"], depth=1)
    assert dropped and all(key.startswith("blocks.1.") for key in dropped)
    assert not any(key.startswith("blocks.1.") for key in state)
    torch.save({"weight": torch.zeros(1)}, paths["vision_tower"])
    with pytest.raises(CheckpointError, match="not an EVA ViT state dict"):
        LlamaVidVideoQA(**paths)
    with pytest.raises(CheckpointError, match="does not exist"):
        LlamaVidVideoQA(**{**paths, "vision_tower": tmp_path / "nowhere.pth"})


def test_missing_shard_and_config(tiny_llamavid: dict[str, Path], tmp_path: Path) -> None:
    paths = _copy(tiny_llamavid, tmp_path)
    (paths["model"] / "pytorch_model-00001-of-00002.bin").unlink()
    with pytest.raises(CheckpointError, match="names missing shards"):
        LlamaVidVideoQA(**paths)
    with pytest.raises(CheckpointError, match="cannot read"):
        LlamaVidVideoQA(**{**paths, "model": tmp_path})


def test_selector_uses_the_llamavid_backend(tiny_llamavid: dict[str, Path]) -> None:
    selector = visa_core.build(
        "frame_selector", "llamavid", backend="llamavid", repeats=2, frames_shown=None, max_new_tokens=3,
        **tiny_llamavid,
    )  # fmt: skip
    video, _ = moving_squares(num_frames=6)
    assert selector.shown_frames(video) == list(range(6))
    answers = selector.answers(video, Query("the red square"))
    assert len(answers) == 2 and all(isinstance(a, str) for a in answers)
    assert isinstance(selector.backend, LlamaVidVideoQA)


def test_llamavid_backend_needs_its_paths(tiny_llamavid: dict[str, Path]) -> None:
    with pytest.raises(ComponentOptionError, match="needs the options vision_tower, qformer"):
        visa_core.build("frame_selector", "llamavid", backend="llamavid", model=tiny_llamavid["model"])
