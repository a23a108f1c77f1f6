from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

import visa_core
from visa_core import ComponentOptionError, Query
from visa_core.testing import FrameSelectorContract, moving_squares
from visa_frame_select.llamavid import frame_question


class ScriptedBackend:
    """Replays fixed answers (one per seed) and records what it was asked."""

    def __init__(self, answers: Sequence[str]) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[int, str, int]] = []

    def answer(self, frames: Sequence[np.ndarray], question: str, seed: int) -> str:
        self.calls.append((len(frames), question, seed))
        return self.answers[seed % len(self.answers)]


class TestLlamaVidContract(FrameSelectorContract):
    component_name = "llamavid"

    @pytest.fixture
    def selector(self, tiny_llava_dir: Path):
        return visa_core.build(
            "frame_selector", "llamavid", model=tiny_llava_dir, repeats=2, frames_shown=3, max_new_tokens=4
        )


def test_scripted_answers_are_averaged_into_the_target() -> None:
    backend = ScriptedBackend(["the 20% mark", "last 10%", "I cannot tell", "40%"])
    selector = visa_core.build("frame_selector", "llamavid", backend=backend, repeats=4, seed=7)
    video, _ = moving_squares(num_frames=40)
    selection = selector.select(video, Query("who will take the baton?"))
    # answers for seeds 7, 8, 9, 10 -> "40%", "the 20% mark", "last 10%", "I cannot tell"
    assert selection.target == int(40 * (0.4 + 0.2 + 0.9) / 3)
    assert selection.target in selection.references
    assert [seed for _, _, seed in backend.calls] == [7, 8, 9, 10]
    assert {question for _, question, _ in backend.calls} == {frame_question("who will take the baton?")}
    assert {shown for shown, _, _ in backend.calls} == {16}


def test_no_parsable_answer_gives_the_middle_frame() -> None:
    selector = visa_core.build("frame_selector", "llamavid", backend=ScriptedBackend(["no idea"]))
    video, _ = moving_squares(num_frames=9)
    assert selector.select(video, Query("x")).target == 4


def test_last_frame_is_clamped() -> None:
    selector = visa_core.build("frame_selector", "llamavid", backend=ScriptedBackend(["100%"]), repeats=3)
    video, _ = moving_squares(num_frames=9)
    assert selector.select(video, Query("x")).target == 8


def test_shown_frames_are_spread_over_the_video() -> None:
    selector = visa_core.build("frame_selector", "llamavid", backend=ScriptedBackend(["0%"]), frames_shown=5)
    video, _ = moving_squares(num_frames=101)
    assert selector.shown_frames(video) == [0, 25, 50, 75, 100]
    short, _ = moving_squares(num_frames=2)
    assert selector.shown_frames(short) == [0, 1]


def test_transformers_backend_is_seeded(tiny_llava_dir: Path) -> None:
    from visa_frame_select.llamavid.transformers_backend import TransformersVideoQA

    backend = TransformersVideoQA(tiny_llava_dir, max_new_tokens=6)
    video, _ = moving_squares(num_frames=4)
    frames = [video.frames[i] for i in range(4)]
    prompt = backend.prompt(4, frame_question("the red square"))
    assert prompt.count("<image>") == 4 and prompt.endswith("ASSISTANT:")
    first = backend.answer(frames, frame_question("the red square"), seed=3)
    assert isinstance(first, str)
    assert backend.answer(frames, frame_question("the red square"), seed=3) == first


def test_options_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ComponentOptionError, match="needs the option model"):
        visa_core.build("frame_selector", "llamavid")
    with pytest.raises(ComponentOptionError, match="backend must be one of"):
        visa_core.build("frame_selector", "llamavid", backend="llama-vid-server", model=tmp_path)
    with pytest.raises(ComponentOptionError, match="answer"):
        visa_core.build("frame_selector", "llamavid", backend=object())
