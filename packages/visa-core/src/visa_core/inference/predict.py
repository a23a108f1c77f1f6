"""Dataset-level inference in the layout the official evaluators read.

``PRED/<video>/<expression>/<frame>.png`` holds the union of an expression's masks (0/255). A run
is resumable (expressions whose every frame is written are skipped) and shardable: process ``i``
of ``n`` takes the videos ``i, i + n, ...``. Answers without ``[SEG]`` are written as empty masks
and listed in ``PRED/predictions.jsonl`` with a note, never silently.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from visa_core.inference.pipeline import VisaPipeline
from visa_core.interfaces import DatasetLoader
from visa_core.types import Query
from visa_core.video import Video
from visa_core.video.writers import save_mask_png


@dataclass
class PredictSummary:
    """What a prediction run did."""

    videos: int = 0
    expressions_written: int = 0
    expressions_skipped: int = 0
    without_seg: int = 0


def is_complete(folder: Path, video: Video) -> bool:
    """Whether every frame's mask of an expression is on disk."""
    return all((folder / f"{frame_id}.png").is_file() for frame_id in video.frame_ids)


def predict_dataset(
    pipeline: VisaPipeline,
    dataset: DatasetLoader,
    out: Path,
    *,
    process_index: int = 0,
    num_processes: int = 1,
    forced_answer: Callable[[Query], str | None] | None = None,
) -> PredictSummary:
    """Predict every expression of ``dataset`` (this process's shard) into ``out``.

    ``forced_answer`` gives the answer text to teacher-force for a query (None: generate it), e.g.
    the right answer, to score segmentation apart from choosing the object.
    """
    summary = PredictSummary()
    out.mkdir(parents=True, exist_ok=True)
    log_path = out / ("predictions.jsonl" if num_processes == 1 else f"predictions.rank{process_index}.jsonl")
    groups = dataset.queries_by_video()
    with log_path.open("a", encoding="utf-8") as log:
        for position, (video, queries) in enumerate(tqdm(groups, desc="videos", unit="video")):
            if position % num_processes != process_index:
                continue
            summary.videos += 1
            pending = [q for q in queries if not is_complete(out / video.video_id / q.query_id, video)]
            summary.expressions_skipped += len(queries) - len(pending)
            if not pending:
                continue
            results = [
                pipeline.answer(video, query, None if forced_answer is None else forced_answer(query))
                for query in pending
            ]
            written = {i: np.zeros(len(video), dtype=bool) for i in range(len(results))}
            for result_index, frame_index, masks in pipeline.track(video, results):
                folder = out / video.video_id / results[result_index].query.query_id
                save_mask_png(folder / f"{video.frame_ids[frame_index]}.png", masks.any(axis=0))
                written[result_index][frame_index] = True
            empty = np.zeros(video.size, dtype=bool)
            for result_index, result in enumerate(results):
                folder = out / video.video_id / result.query.query_id
                for frame_index in np.flatnonzero(~written[result_index]):
                    save_mask_png(folder / f"{video.frame_ids[frame_index]}.png", empty)
                summary.expressions_written += 1
                summary.without_seg += not result.has_target
                record = {
                    "video": video.video_id,
                    "expression": result.query.query_id,
                    "query": result.query.text,
                    "answer": result.answer,
                    "target_frame": result.selection.target,
                    "reference_frames": list(result.selection.references),
                }
                if not result.has_target:
                    record["note"] = "answer has no [SEG]: empty masks written"
                log.write(json.dumps(record) + "\n")
            log.flush()
    return summary
