from __future__ import annotations

import numpy as np
import pytest

from visa_frame_select.llamavid.protocol import average_position, frame_question, parse_position


def test_question_is_the_original_string() -> None:
    expected = (
        "If I want to find 'who will take the baton', which percentage mark of the video should I check?\n"
        "             Please choose one answer from "
        "0%, 10%, 20%, 30%, 40%, 50%, 60%, 70%, 80%, 90%, and 100%."
    )
    assert frame_question("who will take the baton?") == expected
    assert frame_question("the red car").startswith("If I want to find 'the red car', ")
    assert frame_question("why??").startswith("If I want to find 'why?', ")


@pytest.mark.parametrize(
    ("answer", "position"),
    [
        ("You should check the 30% mark.", 0.3),
        ("100%", 1.0),
        ("0%", 0.0),
        ("Look at the last 20% of the video", 0.8),
        ("the last 100% of it", 0.0),
        ("the last 0%", 1.0),
        ("Check 50% or 70%", 0.5),  # the first pattern in the original's list wins, not the first in the text
        ("Check 70% or 50%", 0.5),
        ("Last 20%", 0.2),  # case-sensitive as the original: only "20%" matches
        ("somewhere in the middle", None),
        ("15%", None),
        ("5%", None),
    ],
)
def test_parse_position(answer: str, position: float | None) -> None:
    assert parse_position(answer) == position


def test_average_ignores_unparsed_answers() -> None:
    answers = ["It is at 20%.", "no idea", "40%", "the last 10%"]
    assert average_position(answers) == pytest.approx((0.2 + 0.4 + 0.9) / 3)


def test_average_defaults_to_the_middle() -> None:
    assert average_position(["no idea", ""]) == 0.5
    assert average_position([]) == 0.5


def test_average_is_numpy_mean_as_the_original() -> None:
    # Ten "20%" answers: numpy's pairwise sum gives exactly 0.2 (frame 1 of 5); a sequential sum
    # gives 0.19999999999999998 (frame 0).
    answers = ["20%"] * 10
    assert average_position(answers) == 0.2
    assert int(5 * average_position(answers)) == 1  # the target frame int(T * tp) on 5 frames
    mixed = ["10%", "last 30%", "60%", "90%", "20%", "last 70%", "0%", "30%", "50%"]
    parsed = [parse_position(answer) for answer in mixed]
    assert average_position(mixed) == np.array(parsed).mean()
