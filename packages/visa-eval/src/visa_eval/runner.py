"""Score every expression of a ``meta_expressions`` + ``mask_dict`` dataset from a prediction folder.

Work is split by video (each RLE is decoded once per video) over worker processes (forked, so
that they share the loaded annotation files; threads where fork does not exist): PNG decoding
and the numpy kernels hold the GIL for most of their time. Results come back in the meta file's
order, whatever the number of workers, so the summaries are deterministic.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.pool
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from visa_core.annotations import VideoEntry
from visa_eval import bitmask
from visa_eval.groundtruth import VideoMasks, foreground_area, foreground_values
from visa_eval.predictions import PredictionProblem, read_expression
from visa_eval.scoring import ExpressionScores, FrameScores, score_frames, score_packed


@dataclass(frozen=True)
class ExpressionResult:
    """One scored expression: where it comes from, its text and type, its scores, and any problem."""

    video: str
    exp_id: str
    scores: ExpressionScores
    type_id: int | None = None
    text: str = ""
    problem: PredictionProblem | None = None
    frames: FrameScores | None = None


class Targets(Protocol):
    """The ground truth of one video as :func:`score_video` needs it."""

    video: VideoEntry

    def size(self) -> tuple[int, int] | None: ...

    def target(self, exp_id: str, size: tuple[int, int]) -> np.ndarray: ...

    def foreground(self, size: tuple[int, int]) -> np.ndarray | None: ...

    def target_bits(self, exp_id: str, size: tuple[int, int]) -> np.ndarray: ...

    def foreground_area(self, size: tuple[int, int]) -> np.ndarray | None: ...


class VideoTargets:
    """The targets (and ReVOS foreground) of one video, from a mask_dict."""

    def __init__(
        self,
        video: VideoEntry,
        mask_dict: Mapping[str, Sequence[Any]],
        mask_source: Path,
        foreground_dict: Mapping[str, Any] | None = None,
        foreground_source: Path | None = None,
    ) -> None:
        self.video = video
        self.masks = VideoMasks(video, mask_dict, mask_source)
        self.foreground_dict = foreground_dict
        self.foreground_source = foreground_source
        self._foreground: np.ndarray | None = None
        self._foreground_area: np.ndarray | None = None

    def size(self) -> tuple[int, int] | None:
        return self.masks.frame_size()

    def target(self, exp_id: str, size: tuple[int, int]) -> np.ndarray:
        return self.masks.target_values(self._expression(exp_id), size)

    def target_bits(self, exp_id: str, size: tuple[int, int]) -> np.ndarray:
        return self.masks.target_bits(self._expression(exp_id), size)

    def foreground_area(self, size: tuple[int, int]) -> np.ndarray | None:
        if self.foreground_dict is None:
            return None
        if self._foreground_area is None:
            self._foreground_area = foreground_area(
                self.foreground_dict, self.video, size, self.foreground_source or Path()
            )
        return self._foreground_area

    def _expression(self, exp_id: str):
        return next(e for e in self.video.expressions if e.exp_id == exp_id)

    def foreground(self, size: tuple[int, int]) -> np.ndarray | None:
        if self.foreground_dict is None:
            return None
        if self._foreground is None:
            self._foreground = foreground_values(
                self.foreground_dict, self.video, size, self.foreground_source or Path()
            )
        return self._foreground


def score_video(
    pred_dir: Path, targets: Targets, *, legacy_png_values: bool = False
) -> list[ExpressionResult]:
    """Score every expression of one video; problems with predictions give official zeros."""
    video = targets.video
    size = targets.size()
    results = []
    for expression in video.expressions:
        pred: np.ndarray | PredictionProblem
        if size is None:
            size = _size_from_first_prediction(pred_dir, video, expression.exp_id)
        if size is None:
            reason = "no ground-truth mask and no prediction"
            pred = PredictionProblem(video.video_id, expression.exp_id, reason)
        else:
            pred = read_expression(
                pred_dir, video.video_id, expression.exp_id, video.frames, size, legacy_png_values
            )
        frames: FrameScores | None = None
        if isinstance(pred, PredictionProblem):
            scores, problem = ExpressionScores.zero(), pred
        else:
            assert size is not None
            frames = _score(pred, targets, expression.exp_id, size, legacy_png_values)
            scores, problem = frames.means(), None
        results.append(
            ExpressionResult(
                video.video_id,
                expression.exp_id,
                scores,
                expression.type_id,
                expression.text,
                problem,
                frames,
            )
        )
    return results


def _score(
    pred: np.ndarray, targets: Targets, exp_id: str, size: tuple[int, int], legacy_png_values: bool
) -> FrameScores:
    if legacy_png_values:
        return score_frames(
            pred, targets.target(exp_id, size), targets.foreground(size), legacy_png_values=True
        )
    return score_packed(
        bitmask.pack(pred), targets.target_bits(exp_id, size), size, targets.foreground_area(size)
    )


def default_workers() -> int:
    """The CPUs this process may run on, at most 8."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return min(8, cpus or 1)


def score_videos(
    pred_dir: Path,
    videos: Sequence[VideoEntry],
    make_targets: Callable[[VideoEntry], Targets],
    *,
    workers: int | None = None,
    legacy_png_values: bool = False,
    progress: bool = True,
) -> list[ExpressionResult]:
    """Score all ``videos`` with ``workers`` processes (default: :func:`default_workers`).

    Raises:
        ValueError: ``workers`` is below 1.
    """
    from tqdm import tqdm

    workers = default_workers() if workers is None else workers
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")

    def job(index: int) -> list[ExpressionResult]:
        return score_video(pred_dir, make_targets(videos[index]), legacy_png_values=legacy_png_values)

    total = sum(len(v.expressions) for v in videos)
    results: list[ExpressionResult] = []
    batches = _ordered_map(job, len(videos), min(workers, len(videos)))
    with tqdm(total=total, desc="scoring expressions", unit="exp", disable=not progress) as bar:
        for batch in batches:
            results.extend(batch)
            bar.update(len(batch))
    return results


_FORKED_JOB: Callable[[int], list[ExpressionResult]] | None = None


def _run_forked_job(index: int) -> list[ExpressionResult]:
    assert _FORKED_JOB is not None
    return _FORKED_JOB(index)


def _ordered_map(
    job: Callable[[int], list[ExpressionResult]], count: int, workers: int
) -> Iterator[list[ExpressionResult]]:
    """``job(0), job(1), ...`` in order: in this process, in forked processes, or in threads."""
    global _FORKED_JOB
    if workers <= 1:
        return map(job, range(count))
    pool: ThreadPoolExecutor | multiprocessing.pool.Pool
    if "fork" in multiprocessing.get_all_start_methods():
        _FORKED_JOB = job  # the forked workers inherit it; a closure cannot be pickled
        pool = multiprocessing.get_context("fork").Pool(workers)  # before any thread of ours starts
        results = pool.imap(_run_forked_job, range(count))
    else:
        pool = ThreadPoolExecutor(max_workers=workers)
        results = pool.map(job, range(count))

    def ordered() -> Iterator[list[ExpressionResult]]:
        with pool:
            yield from results

    return ordered()


def _size_from_first_prediction(pred_dir: Path, video: VideoEntry, exp_id: str) -> tuple[int, int] | None:
    """The official fallback: the frame size of the first prediction PNG."""
    from PIL import Image

    path = pred_dir / video.video_id / exp_id / f"{video.frames[0]}.png" if video.frames else None
    if path is None or not path.is_file():
        return None
    with Image.open(path) as image:
        return image.size[1], image.size[0]


def iter_problems(results: Sequence[ExpressionResult]) -> Iterator[PredictionProblem]:
    """The problems among ``results``, in order."""
    return (r.problem for r in results if r.problem is not None)
