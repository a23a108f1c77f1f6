"""Score every expression of a ``meta_expressions`` + ``mask_dict`` dataset from a prediction folder.

Work is split by video (each RLE is decoded once per video) over a thread pool: PNG decoding and
the numpy kernels release the GIL. Results come back in the meta file's order, whatever the
number of workers, so the summaries are deterministic.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from visa_core.annotations import VideoEntry
from visa_eval.groundtruth import VideoMasks, foreground_values
from visa_eval.predictions import PredictionProblem, read_expression
from visa_eval.scoring import ExpressionScores, FrameScores, score_frames


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

    def size(self) -> tuple[int, int] | None:
        return self.masks.frame_size()

    def target(self, exp_id: str, size: tuple[int, int]) -> np.ndarray:
        expression = next(e for e in self.video.expressions if e.exp_id == exp_id)
        return self.masks.target_values(expression, size)

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
            frames = score_frames(
                pred,
                targets.target(expression.exp_id, size),
                targets.foreground(size),
                legacy_png_values=legacy_png_values,
            )
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


def score_videos(
    pred_dir: Path,
    videos: Sequence[VideoEntry],
    make_targets: Callable[[VideoEntry], Targets],
    *,
    workers: int | None = None,
    legacy_png_values: bool = False,
    progress: bool = True,
) -> list[ExpressionResult]:
    """Score all ``videos`` with ``workers`` threads (default: the CPU count, at most 8)."""
    from tqdm import tqdm

    workers = workers or min(8, os.cpu_count() or 1)

    def job(video: VideoEntry) -> list[ExpressionResult]:
        return score_video(pred_dir, make_targets(video), legacy_png_values=legacy_png_values)

    total = sum(len(v.expressions) for v in videos)
    results: list[ExpressionResult] = []
    with tqdm(total=total, desc="scoring expressions", unit="exp", disable=not progress) as bar:
        for batch in _ordered_map(job, videos, workers):
            results.extend(batch)
            bar.update(len(batch))
    return results


def _ordered_map(
    job: Callable[[VideoEntry], list[ExpressionResult]], videos: Sequence[VideoEntry], workers: int
):
    if workers <= 1:
        yield from map(job, videos)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(job, videos)


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
