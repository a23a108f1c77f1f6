"""Evaluate a trained VISA model on the synthetic dataset, next to two query-blind baselines.

The model runs the full inference pipeline on every expression of the split: keyframe selector
-> model *generating* its answer (no teacher forcing) -> ``[SEG]`` masks on the target frame ->
propagator to every frame. Its masks are written as ``OUT/predictions/<video>/<exp>/<frame>.png``
and scored by ``visa_eval.revos`` exactly as ``visa eval revos`` would. The baselines see every
object of a video (the generator knows them) but not the query: a random visible object, and the
largest object. Answers without ``[SEG]`` are scored as empty masks and counted per query kind;
how often the answer names the right object before ``[SEG]`` (the dataset's ``answer``, e.g. "the
red circle") is counted per kind too, and the row "name given" scores the same pipeline with
that answer teacher-forced: together they separate choosing the object from segmenting it.

``examples/train.py`` calls :func:`evaluate_synthetic` after the default run; it can also be
called on any model folder::

    from evaluate_synthetic import evaluate_synthetic
    print(evaluate_synthetic("runs/tiny-synthetic/model", "data/synthetic", "runs/tiny-synthetic/eval").text)
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from visa_eval import revos
from visa_eval.revos import ExpressionResult, RevosSummary

SELECTOR = "uniform"
"""The keyframe selector of the default evaluation (middle frame, references spread over the video)."""
PROPAGATOR = "seg_token"
"""The propagator: every frame decoded with the answer's ``[SEG]`` embedding."""
KIND_OF_TYPE = {0: "referring", 1: "reasoning", 2: "no-target"}
TABLE_METRICS = (("J", "J"), ("F", "F"), ("J&F", "JF"), ("R", "R"))


@dataclass(frozen=True)
class SyntheticEvaluation:
    """Scores of the model and the baselines (``RevosSummary``, x100), answer statistics, the
    (right, asked) question-answer turns per kind (:func:`conversation_accuracy`), which word of
    an object's name its ``[SEG]`` prompt follows (:func:`prompt_word_shares`), how much the frame
    tokens say where they lie (:func:`frame_position_r2`), files, and the keyframe selector and
    propagator that were used; ``text`` is the printable report."""

    model: RevosSummary
    name_given: RevosSummary
    baselines: dict[str, RevosSummary]
    results: list[ExpressionResult]
    answers: AnswerStatistics
    conversations: dict[str, tuple[int, int]]
    prompt_words: dict[str, float]
    frame_positions: dict[str, float]
    example: Path | None
    seconds: float
    selector: str
    propagator: str

    @property
    def text(self) -> str:
        return format_report(self)


def evaluate_synthetic(
    model_dir: str | Path,
    root: str | Path,
    out: str | Path,
    *,
    split: str = "valid",
    selector: str = SELECTOR,
    propagator: str = PROPAGATOR,
    device: str = "cpu",
    seed: int = 0,
) -> SyntheticEvaluation:
    """Predict, score and compare; write ``OUT/predictions``, ``OUT/evaluation.json`` and the overlay
    video of one reasoning example under ``OUT/example``. Returns the numbers and a printable report.

    A second pass teacher-forces the answer that names the right object (``OUT/predictions_name_given``):
    its scores are those of the masks alone, as if every object were chosen right.
    """
    from visa_core.inference import VisaPipeline
    from visa_core.inference.predict import predict_dataset
    from visa_core.plugins import build

    started = time.perf_counter()
    root, out = Path(root), Path(out)
    pred_dir, given_dir = out / "predictions", out / "predictions_name_given"
    for folder in (pred_dir, given_dir):
        shutil.rmtree(folder, ignore_errors=True)  # predictions of an earlier model must not be reused
    dataset = build("dataset", "revos", root=root, split=split)
    pipeline = VisaPipeline.from_pretrained(
        model_dir, selector=selector, propagator=propagator, device=device
    )
    predict_dataset(pipeline, dataset, pred_dir)
    summary, results = revos.evaluate(pred_dir, root, split, progress=False)
    style = pipeline.processor.style
    predict_dataset(pipeline, dataset, given_dir, forced_answer=lambda q: style.answer(target=q.answer))
    name_given, _ = revos.evaluate(given_dir, root, split, progress=False)
    truth = revos.RevosGroundTruth.open(root, split)
    baselines = score_baselines(truth, root, seed)
    answers = answer_statistics(pred_dir / "predictions.jsonl", results, expected_names(truth))
    conversations = conversation_accuracy(pipeline, build("dataset", "synthetic_qa", root=root, split=split))
    prompt_words = prompt_word_shares(pipeline, dataset)
    frame_positions = frame_position_r2(pipeline, dataset)
    example = write_reasoning_example(pipeline, dataset, out / "example")
    evaluation = SyntheticEvaluation(
        summary,
        name_given,
        baselines,
        results,
        answers,
        conversations,
        prompt_words,
        frame_positions,
        example,
        time.perf_counter() - started,
        selector,
        propagator,
    )
    _write_json(out / "evaluation.json", evaluation)
    return evaluation


def score_baselines(truth: revos.RevosGroundTruth, root: Path, seed: int = 0) -> dict[str, RevosSummary]:
    """ReVOS summaries of the query-blind baselines on every expression of ``truth``."""
    from visa_data.synthetic.baselines import largest_object_track, object_masks, random_object_track

    rng = np.random.default_rng(seed)
    rows: dict[str, list[ExpressionResult]] = {"random object": [], "largest object": []}
    for video in truth.videos:
        masks = object_masks(root, video.video)
        foreground = truth.foreground(video)
        for expression in video.expressions:
            target = truth.target(video, expression)
            tracks = {
                "random object": random_object_track(masks, rng),
                "largest object": largest_object_track(masks),
            }
            for name, track in tracks.items():
                scores = revos.score_expression(track, target, foreground)
                rows[name].append(
                    ExpressionResult(
                        video.video, expression.exp_id, scores, expression.type_id, expression.text
                    )
                )
        truth.release(video)
    return {name: revos.summarise(results) for name, results in rows.items()}


@dataclass(frozen=True)
class AnswerStatistics:
    """What the generated answers say, per query kind: ``without_seg`` counts answers without
    ``[SEG]``; ``named`` is (answers naming the expected object right before ``[SEG]``, expressions
    with an expected name); ``colour_named`` is (answers whose name before ``[SEG]`` has the expected
    object's colour, expressions with an expected name, how many a random visible object of each
    video would get right on average); ``texts`` counts each answer text."""

    without_seg: dict[str, int]
    named: dict[str, tuple[int, int]]
    colour_named: dict[str, tuple[int, int, float]]
    texts: Counter[str]


def expected_names(truth: revos.RevosGroundTruth) -> dict[tuple[str, str], str]:
    """``(video, expression) -> answer`` (e.g. "the red circle") of the expressions that have one."""
    return {
        (video.video, expression.exp_id): expression.answer
        for video, expression in truth.expressions()
        if expression.answer is not None
    }


def colour_word(name: str) -> str:
    """The colour of a synthetic object's name, the word before its shape ("the small red circle"
    -> "red"); "" when the text has fewer than two words."""
    words = name.split()
    return words[-2] if len(words) >= 2 else ""


def answer_statistics(
    log: Path, results: Sequence[ExpressionResult], names: dict[tuple[str, str], str]
) -> AnswerStatistics:
    """One pass over the predictions log (``predictions.jsonl``); kinds come from ``results``.

    A video's visible objects are the distinct names its expressions expect (every visible object
    has a referring expression), so the random-object expectation needs no other input.
    """
    kinds = {(r.video, r.exp_id): KIND_OF_TYPE.get(r.type_id, "unknown") for r in results}
    objects: dict[str, set[str]] = defaultdict(set)
    for (video, _), name in names.items():
        objects[video].add(name)
    without_seg = dict.fromkeys(KIND_OF_TYPE.values(), 0)
    named: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    colour_named: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0.0])
    texts: Counter[str] = Counter()
    for line in log.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        key, answer = (record["video"], record["expression"]), record["answer"]
        texts[answer] += 1
        kind = kinds[key]
        if "[SEG]" not in answer:
            without_seg[kind] = without_seg.get(kind, 0) + 1
        if key in names:
            expected = names[key]
            named[kind][0] += f"{expected} [SEG]" in answer
            named[kind][1] += 1
            colour = colour_word(expected)
            shown = objects[key[0]]
            counts = colour_named[kind]
            counts[0] += "[SEG]" in answer and colour_word(answer.split("[SEG]")[0]) == colour
            counts[1] += 1
            counts[2] += sum(colour_word(name) == colour for name in shown) / len(shown)
    return AnswerStatistics(
        without_seg,
        {kind: (r, n) for kind, (r, n) in named.items()},
        {kind: (int(r), int(n), chance) for kind, (r, n, chance) in colour_named.items()},
        texts,
    )


QUESTION_KINDS = (
    ("How many", "how many"),
    ("Which objects", "which objects"),
    ("What ", "colour or shape"),
    ("Which is", "which is (reasoning)"),
    ("Is there", "is there"),
)
"""Question prefix -> kind of the synthetic conversations (``visa_data.synthetic.qa``)."""


def conversation_accuracy(pipeline: Any, dataset: Any) -> dict[str, tuple[int, int]]:
    """(answers exactly right, questions) per question kind over the split's conversations.

    Each question is answered greedily after the conversation's own earlier answers, about the
    reference frames the pipeline's keyframe selector picks: perception ("which objects"), then
    reasoning in words, apart from choosing a mask.
    """
    import torch

    from visa_core.model.templates import place_frames

    counts: dict[str, list[int]] = {kind: [0, 0] for _, kind in QUESTION_KINDS}
    for index in range(len(dataset)):
        sample = dataset[index]
        first_question = sample.conversation[0].text.split("\n")[-1]
        choose = partial(selected_references, pipeline.selector, sample.video, first_question)
        references, turns = place_frames(sample.conversation, len(sample.video), choose)
        frames = [sample.video.frames[i] for i in references]
        with torch.inference_mode():
            tokens = pipeline.model.frame_tokens(pipeline.processor, frames)
        for k in range(0, len(turns) - 1, 2):
            question, truth = turns[k].text.split("\n")[-1], turns[k + 1].text
            kind = next((kind for prefix, kind in QUESTION_KINDS if question.startswith(prefix)), None)
            if kind is None:
                continue
            with torch.inference_mode():
                said = pipeline.model.reply(pipeline.processor, frames, turns[: k + 1], frame_tokens=tokens)
            counts[kind][0] += said.strip() == truth.strip()
            counts[kind][1] += 1
    return {kind: (right, asked) for kind, (right, asked) in counts.items() if asked}


def prompt_word_shares(pipeline: Any, dataset: Any, videos: int = 4) -> dict[str, float]:
    """How the ``[SEG]`` prompt varies with the object's name: every colour x shape name is
    teacher-forced ("It is the red circle [SEG].") on the first ``videos`` videos of the split,
    and the variance of the projected prompts over the names is split two-way into the part that
    follows the colour word, the part that follows the shape word and the rest (their interaction),
    as shares of the total (mean over the videos). A prompt that ignores the colour cannot tell
    the red circle from the blue one, whatever the mask decoder sees.
    """
    from visa_core.types import Query
    from visa_data.synthetic.scene import COLOURS, SHAPES

    style = pipeline.processor.style
    names = [f"the {colour} {shape}" for colour in COLOURS for shape in SHAPES]
    shares: dict[str, list[float]] = {"colour": [], "shape": [], "both": []}
    for video, _ in itertools.islice(dataset.queries_by_video(), videos):
        results = [pipeline.answer(video, Query(name), answer=style.answer(target=name)) for name in names]
        prompts = np.stack([result.seg_embeddings[0].numpy() for result in results])
        prompts = prompts.reshape(len(COLOURS), len(SHAPES), -1)
        centred = prompts - prompts.mean(axis=(0, 1))
        total = float((centred**2).sum()) or 1.0
        colour = len(SHAPES) * float((centred.mean(axis=1) ** 2).sum()) / total
        shape = len(COLOURS) * float((centred.mean(axis=0) ** 2).sum()) / total
        shares["colour"].append(colour)
        shares["shape"].append(shape)
        shares["both"].append(1.0 - colour - shape)
    return {part: float(np.mean(values)) for part, values in shares.items() if values}


def frame_position_r2(
    pipeline: Any, dataset: Any, fit_share: float = 0.75, ridge: float = 1e-3
) -> dict[str, float]:
    """How much the LLM's frame tokens say where they lie: a ridge regression from each token
    (:meth:`~visa_core.model.VisaForSegmentation.frame_token_positions`, every frame of the split)
    to its position (mean patch centre, frame widths and heights) is fit on the first ``fit_share``
    of the videos; returns its R^2 for ``x`` and ``y`` on the others (0: no linear trace of
    where a token is; 1: exact). Reasoning about motion or position needs it.
    """
    import torch

    features: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    for video, _ in dataset.queries_by_video():
        frames = [video.frames[i] for i in range(len(video))]
        pixels = pipeline.processor.clip_pixels(frames).to(pipeline.model.device)
        with torch.inference_mode():
            tokens, positions = pipeline.model.frame_token_positions(pixels)
        features.append(tokens.float().reshape(-1, tokens.shape[-1]).cpu().numpy().astype(np.float64))
        targets.append(positions.reshape(-1, 2).cpu().numpy().astype(np.float64))
    if len(features) < 2:
        return {}
    fit = max(1, min(len(features) - 1, round(len(features) * fit_share)))
    design = [np.c_[f, np.ones(len(f))] for f in features]
    fit_x, fit_y = np.concatenate(design[:fit]), np.concatenate(targets[:fit])
    weights = np.linalg.solve(fit_x.T @ fit_x + ridge * np.eye(fit_x.shape[1]), fit_x.T @ fit_y)
    test_x, test_y = np.concatenate(design[fit:]), np.concatenate(targets[fit:])
    residual = ((test_x @ weights - test_y) ** 2).sum(axis=0)
    spread = ((test_y - test_y.mean(axis=0)) ** 2).sum(axis=0)
    r2 = 1.0 - residual / np.maximum(spread, 1e-12)
    return {"x": float(r2[0]), "y": float(r2[1])}


def selected_references(selector: Any, video: Any, question: str) -> list[int]:
    """The reference frames ``selector`` picks for ``question`` (the target alone when it picks none)."""
    from visa_core.types import Query

    selection = selector.select(video, Query(question))
    return list(selection.references) or [selection.target]


def write_reasoning_example(pipeline: Any, dataset: Any, out: Path) -> Path | None:
    """Run the pipeline on the split's first reasoning expression and draw it into ``OUT/overlay.mp4``
    (with its mask PNGs and ``result.json``). None when the split has no reasoning expression."""
    from visa_core.inference.outputs import write_masks, write_overlay_video, write_result_json

    sample = next(
        (s for s in map(dataset.__getitem__, range(len(dataset))) if s.query.kind == "reasoning"), None
    )
    if sample is None:
        return None
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    result = pipeline.answer(sample.video, sample.query)
    areas = write_masks(out, sample.video, [result], pipeline.track(sample.video, [result]))
    write_result_json(out, sample.video.video_id, sample.video, [result], areas)
    return write_overlay_video(out, sample.video, [result])


def query_family(text: str, type_id: int | None) -> str:
    """A query's template: ``"referring"``, ``"the object with the same colour as the <shape>"``, ..."""
    from visa_data.synthetic.scene import COLOURS, SHAPES

    kind = KIND_OF_TYPE.get(type_id, "unknown")
    if kind == "referring":
        return kind
    if kind == "no-target" and not text.startswith("the object"):
        return "no-target: an absent object"
    words = "|".join([*COLOURS, *SHAPES])
    family = re.sub(rf"\b({words})\b", lambda m: "<shape>" if m.group(1) in SHAPES else "<colour>", text)
    return f"{kind}: {family}"


def family_scores(results: Sequence[ExpressionResult]) -> dict[str, tuple[int, float]]:
    """Per query family: the number of expressions and the mean J&F (x100)."""
    groups: dict[str, list[float]] = defaultdict(list)
    for result in results:
        groups[query_family(result.text, result.type_id)].append(50 * (result.scores.j + result.scores.f))
    return {name: (len(values), float(np.mean(values))) for name, values in sorted(groups.items())}


def format_report(evaluation: SyntheticEvaluation) -> str:
    """The printed report: the ReVOS table of the model and the baselines, then the diagnostics."""
    model, baselines, answers = evaluation.model, evaluation.baselines, evaluation.answers
    conversations, prompt_words = evaluation.conversations, evaluation.prompt_words
    header = (
        f"{'method':<16}{'subset':<11}" + "".join(f"{name:>8}" for name, _ in TABLE_METRICS) + f"{'n':>6}"
    )
    lines = [
        f"synthetic valid split, pipeline {evaluation.selector} -> VISA (generated answers) -> "
        f"{evaluation.propagator}",
        header,
    ]
    counts = model.counts
    for method, summary in [("VISA tiny", model), ("name given", evaluation.name_given), *baselines.items()]:
        for subset, values, n in (
            ("referring", summary.referring, counts["referring"]),
            ("reasoning", summary.reason, counts["reason"]),
            ("overall", summary.overall, counts["referring"] + counts["reason"]),
        ):
            cells = "".join(f"{values[key]:>8.2f}" for _, key in TABLE_METRICS)
            lines.append(f"{method:<16}{subset:<11}{cells}{n:>6}")
    random_jf = baselines["random object"].overall["JF"]
    lines.append(
        f"overall J&F {model.overall['JF']:.2f} = {model.overall['JF'] / random_jf:.2f} x the random-object "
        f"baseline ({random_jf:.2f}); no-target expressions (empty truth, not in overall): "
        f"J&F {model.no_target['JF']:.2f} over {counts['no_target']}"
    )
    lines.append(
        "name given: the same model and pipeline with the answer that names the right object "
        "teacher-forced (masks alone, as if every object were chosen right)"
    )
    total = sum(answers.texts.values())
    missing = sum(answers.without_seg.values())
    per_kind = ", ".join(f"{kind} {count}" for kind, count in answers.without_seg.items())
    lines.append(f"answers without [SEG] (scored as empty masks): {missing} of {total} ({per_kind})")
    if answers.named:
        right = ", ".join(f"{kind} {r} of {n}" for kind, (r, n) in answers.named.items())
        lines.append(f"answers that name the right object before [SEG]: {right}")
        right = ", ".join(
            f"{kind} {r} of {n} (a random visible object: {chance:.1f})"
            for kind, (r, n, chance) in answers.colour_named.items()
        )
        lines.append(f"answers whose name before [SEG] has the right object's colour: {right}")
    if conversations:
        right = ", ".join(f"{kind} {r} of {n}" for kind, (r, n) in conversations.items())
        lines.append(f"question-answer turns answered exactly (text only, no mask): {right}")
    if prompt_words:
        lines.append(
            "[SEG] prompt of each name teacher-forced, share of its variation over the names that "
            f"follows the colour word {prompt_words['colour']:.2f}, the shape word "
            f"{prompt_words['shape']:.2f}, both together {prompt_words['both']:.2f}"
        )
    if frame_positions := evaluation.frame_positions:
        lines.append(
            "frame tokens (the LLM's input), share of their positions a linear map fit on other videos "
            f"explains: x {frame_positions['x']:.2f}, y {frame_positions['y']:.2f}"
        )
    common = ", ".join(f"{text!r} x{count}" for text, count in answers.texts.most_common(4))
    lines.append(f"most frequent answers: {common}")
    lines.append("J&F per query family (x100):")
    families = family_scores(evaluation.results)
    lines.extend(f"  {name:<58}{score:>7.2f}  n={n}" for name, (n, score) in families.items())
    if (example := evaluation.example) is not None:
        lines.append(f"reasoning example: {example} (masks and answer in {example.parent / 'result.json'})")
    lines.append(f"evaluation took {evaluation.seconds:.0f} s")
    return "\n".join(lines)


def _write_json(path: Path, evaluation: SyntheticEvaluation) -> None:
    answers, conversations = evaluation.answers, evaluation.conversations
    families = family_scores(evaluation.results)
    document = {
        "model": evaluation.model.as_json(),
        "model_name_given": evaluation.name_given.as_json(),
        "baselines": {name: summary.as_json() for name, summary in evaluation.baselines.items()},
        "answers_without_seg": answers.without_seg,
        "answers_naming_the_target": {kind: {"right": r, "of": n} for kind, (r, n) in answers.named.items()},
        "answers_naming_the_target_colour": {
            kind: {"right": r, "of": n, "random_object": chance}
            for kind, (r, n, chance) in answers.colour_named.items()
        },
        "answers": dict(answers.texts.most_common()),
        "conversations_answered": {kind: {"right": r, "of": n} for kind, (r, n) in conversations.items()},
        "seg_prompt_variance_shares": evaluation.prompt_words,
        "frame_token_position_r2": evaluation.frame_positions,
        "families": {name: {"n": n, "JF": score} for name, (n, score) in families.items()},
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
