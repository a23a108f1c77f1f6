"""The main job's evaluation path (``examples/train.py`` with no arguments, after training) on a
tiny synthetic dataset and a model trained for two steps: generated answers, propagation,
visa-eval scores, the two baselines, the answer count and the overlay video."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[2] / "examples"


@pytest.fixture
def examples(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))  # train.py imports its sibling evaluate_synthetic
    spec = importlib.util.spec_from_file_location("visa_example_train", EXAMPLES / "train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_evaluation_of_a_briefly_trained_model(tmp_path, capsys, examples):
    from visa_core.config import load_config
    from visa_data.synthetic import SyntheticConfig, generate_dataset

    data = tmp_path / "synthetic"
    manifest = generate_dataset(
        data,
        SyntheticConfig(videos=5, images=2, texts=0, frames=6, size=32, valid_fraction=0.4),
        progress=False,
    )
    mixture = ", ".join(
        f"{{dataset: {name}, weight: 1, options: {{root: {data}}}}}"
        for name in ("revos", "synthetic_images", "synthetic_qa")
    )
    overrides = ["--output_dir", str(tmp_path / "run"), "--data.mixture", f"[{mixture}]",
                 "--model.path", "null", "--model.preset", "tiny",
                 "--schedule.steps_per_epoch", "2", "--schedule.batch_size", "2",
                 "--data.clip.max_frames", "4"]  # fmt: skip
    config_file = EXAMPLES / "configs" / "tiny-synthetic.yaml"
    assert examples.main(["--config", str(config_file), *overrides, "--no-eval"]) == 0
    capsys.readouterr()

    examples.evaluate(load_config(config_file, overrides), tmp_path / "run" / "model")
    printed = capsys.readouterr().out
    for method in ("VISA tiny", "name given", "random object", "largest object"):
        for subset in ("referring", "reasoning", "overall"):
            assert f"{method:<16}{subset:<11}" in printed
    assert "answers without [SEG] (scored as empty masks):" in printed

    out = tmp_path / "run" / "eval"
    expressions = sum(manifest["expressions"].values())
    log = (out / "predictions" / "predictions.jsonl").read_text().splitlines()
    valid = json.loads((data / "meta_expressions_valid_.json").read_text())["videos"]
    assert len(log) == sum(len(v["expressions"]) for v in valid.values()) < expressions
    for video, meta in valid.items():
        for exp_id in meta["expressions"]:
            assert len(list((out / "predictions" / video / exp_id).glob("*.png"))) == len(meta["frames"])
    document = json.loads((out / "evaluation.json").read_text())
    assert set(document["baselines"]) == {"random object", "largest object"}
    assert document["model_name_given"]["expression_counts"] == document["model"]["expression_counts"]
    given = (out / "predictions_name_given" / "predictions.jsonl").read_text().splitlines()
    assert len(given) == len(log)
    for line in given:
        record = json.loads(line)
        meta = valid[record["video"]]["expressions"][record["expression"]]
        expected_answer = f"It is {meta['answer']} [SEG]." if "answer" in meta else "It is [SEG]."
        assert record["answer"] == expected_answer
    assert sum(document["answers"].values()) == len(log)
    named = document["answers_naming_the_target"]
    with_target = [e for v in valid.values() for e in v["expressions"].values() if e["type_id"] != 2]
    assert sum(kind["of"] for kind in named.values()) == len(with_target) > 0
    assert all(0 <= kind["right"] <= kind["of"] for kind in named.values())
    assert "answers that name the right object before [SEG]:" in printed
    coloured = document["answers_naming_the_target_colour"]
    assert {kind: entry["of"] for kind, entry in coloured.items()} == {k: e["of"] for k, e in named.items()}
    assert all(entry["right"] >= named[kind]["right"] for kind, entry in coloured.items())
    assert all(0 < entry["random_object"] <= entry["of"] for entry in coloured.values())
    assert "answers whose name before [SEG] has the right object's colour:" in printed
    asked = document["conversations_answered"]
    conversations = json.loads((data / "qa" / "qa_valid.json").read_text())
    assert asked["which objects"]["of"] == len(conversations)  # every conversation lists the objects
    questions = sum(len(c["conversations"]) // 2 for c in conversations)
    assert sum(kind["of"] for kind in asked.values()) == questions
    assert all(0 <= kind["right"] <= kind["of"] for kind in asked.values())
    assert "question-answer turns answered exactly" in printed
    shares = document["seg_prompt_variance_shares"]
    assert set(shares) == {"colour", "shape", "both"}
    assert sum(shares.values()) == pytest.approx(1.0)
    assert "[SEG] prompt of each name teacher-forced" in printed
    positions = document["frame_token_position_r2"]
    assert set(positions) == {"x", "y"} and all(r2 <= 1.0 for r2 in positions.values())
    assert "frame tokens (the LLM's input), share of their positions" in printed
    assert (out / "example" / "overlay.mp4").stat().st_size > 0
    assert json.loads((out / "example" / "result.json").read_text())["queries"][0]["text"]


def test_answer_statistics_count_missing_seg_and_named_targets_per_kind(tmp_path, examples):
    from evaluate_synthetic import answer_statistics
    from visa_eval.revos import ExpressionResult, ExpressionScores

    results = [
        ExpressionResult("v", str(i), ExpressionScores(0, 0), type_id, "q")
        for i, type_id in enumerate((0, 1, 1, 2, 0))
    ]
    answers = [
        "It is the red circle [SEG].",
        "It is.",
        "Sure.",
        "Sure, [SEG].",
        "It is the red square [SEG].",
    ]
    log = tmp_path / "predictions.jsonl"
    log.write_text(
        "".join(
            json.dumps({"video": "v", "expression": str(i), "answer": a}) + "\n"
            for i, a in enumerate(answers)
        )
    )
    names = {("v", "0"): "the red circle", ("v", "1"): "the blue square", ("v", "4"): "the red circle"}
    statistics = answer_statistics(log, results, names)
    assert statistics.without_seg == {"referring": 0, "reasoning": 2, "no-target": 0}
    assert statistics.named == {"referring": (1, 2), "reasoning": (0, 1)}
    # the video shows a red circle and a blue square: a random one has the expected colour half the time
    assert statistics.colour_named == {"referring": (2, 2, 1.0), "reasoning": (0, 1, 0.5)}
    assert sum(statistics.texts.values()) == 5


def test_query_families(examples):
    from evaluate_synthetic import query_family

    assert query_family("the red circle", 0) == "referring"
    assert query_family("the blue square", 2) == "no-target: an absent object"
    assert (
        query_family("the object with the same colour as the triangle", 1)
        == "reasoning: the object with the same colour as the <shape>"
    )


class _PromptsOf:
    """A stand-in pipeline whose ``[SEG]`` prompt of "the <colour> <shape>" is ``prompt(colour, shape)``."""

    def __init__(self, prompt):
        from types import SimpleNamespace

        from visa_core.model.prompt_styles import prompt_style

        self.prompt = prompt
        self.processor = SimpleNamespace(style=prompt_style("visa"))

    def answer(self, video, query, answer):
        from types import SimpleNamespace

        import torch

        assert answer == f"It is {query.text} [SEG]."
        _, colour, shape = query.text.split()
        return SimpleNamespace(seg_embeddings=torch.tensor([self.prompt(colour, shape)], dtype=torch.float32))


def test_prompt_word_shares_split_the_variance_between_colour_and_shape(examples):
    from types import SimpleNamespace

    from evaluate_synthetic import prompt_word_shares
    from visa_data.synthetic.scene import COLOURS, SHAPES

    dataset = SimpleNamespace(queries_by_video=lambda: iter([("video", [])]))
    colour_axis = {c: float(i) for i, c in enumerate(COLOURS)}
    shape_axis = {s: float(i) for i, s in enumerate(SHAPES)}

    shape_only = prompt_word_shares(_PromptsOf(lambda c, s: [0.0, shape_axis[s]]), dataset)
    assert shape_only == pytest.approx({"colour": 0.0, "shape": 1.0, "both": 0.0})

    additive = prompt_word_shares(_PromptsOf(lambda c, s: [colour_axis[c], shape_axis[s]]), dataset)
    # colours 0..3 (variance 1.25 per name) and shapes 0..2 (variance 2/3) on separate axes
    assert additive["colour"] == pytest.approx(1.25 / (1.25 + 2 / 3))
    assert additive["both"] == pytest.approx(0.0, abs=1e-9)

    interaction = _PromptsOf(lambda c, s: [(colour_axis[c] - 1.5) * (shape_axis[s] - 1)])
    product = prompt_word_shares(interaction, dataset)
    assert product == pytest.approx({"colour": 0.0, "shape": 0.0, "both": 1.0})
