"""Dataset-level inference in the layout the official evaluators read.

``PRED/<video>/<expression>/<frame>.png`` holds the union of an expression's masks (0/255). A run
is resumable (expressions whose every frame is written and whose answer is logged are skipped) and
shardable: process ``i`` of ``n`` takes the videos ``i, i + n, ...`` and logs its answers to
``PRED/predictions.rank<i>.jsonl``; :func:`merge_logs` then writes them, in dataset order, to
``PRED/predictions.jsonl``. Answers without ``[SEG]`` are written as empty masks and listed there
with a note, never silently. The output policy and the run manifest are the caller's
(``visa predict``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from visa_core.inference.pipeline import VisaPipeline
from visa_core.inference.queries import check_query
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


LOG_FILE = "predictions.jsonl"
RANK_LOG_PATTERN = "predictions.rank*.jsonl"


def is_complete(folder: Path, video: Video) -> bool:
    """Whether every frame's mask of an expression is on disk."""
    return all((folder / f"{frame_id}.png").is_file() for frame_id in video.frame_ids)


def rank_log_path(out: Path, process_index: int) -> Path:
    """Where process ``process_index`` logs its answers until :func:`merge_logs`."""
    return out / f"predictions.rank{process_index}.jsonl"


def read_logs(out: Path) -> dict[tuple[str, str], dict]:
    """Every logged answer, by ``(video, expression)``: the merged log, then the rank logs (a later
    record of an expression replaces an earlier one); a line cut short by a kill is dropped."""
    records: dict[tuple[str, str], dict] = {}
    for path in [out / LOG_FILE, *sorted(out.glob(RANK_LOG_PATTERN))]:
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
                records[(record["video"], record["expression"])] = record
            except (ValueError, KeyError, TypeError):
                continue
    return records


def merge_logs(out: Path, order: Iterable[tuple[str, str]]) -> int:
    """Write every logged answer to ``PRED/predictions.jsonl`` in ``order`` (``(video,
    expression)`` pairs; others after, sorted), delete the rank logs; return the record count."""
    records = read_logs(out)
    ordered = [key for key in order if key in records]
    ordered += sorted(set(records) - set(ordered))
    merged = out / LOG_FILE
    partial = merged.with_name(f".{merged.name}.partial")
    partial.write_text("".join(json.dumps(records[key]) + "\n" for key in ordered), encoding="utf-8")
    partial.replace(merged)
    for path in out.glob(RANK_LOG_PATTERN):
        path.unlink()
    return len(ordered)


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
    the right answer, to score segmentation apart from choosing the object. One process merges
    the log itself; with ``num_processes`` > 1 the caller runs :func:`merge_logs` once every
    process has finished. Every query of the shard is checked first
    (:func:`~visa_core.inference.queries.check_query`).

    Raises:
        QueryError: an empty query, or one too long for the model's context (named by video and
            expression), before any file is written.
    """
    summary = PredictSummary()
    out.mkdir(parents=True, exist_ok=True)
    logged = set(read_logs(out))
    groups = list(dataset.queries_by_video())
    mine = [group for position, group in enumerate(groups) if position % num_processes == process_index]
    for video, queries in mine:
        for query in queries:
            label = f"{dataset.name} video {video.video_id!r} expression {query.query_id!r}"
            check_query(
                query.text,
                pipeline.model,
                pipeline.processor,
                max_new_tokens=pipeline.max_new_tokens,
                label=label,
            )
    with rank_log_path(out, process_index).open("a", encoding="utf-8") as log:
        for video, queries in tqdm(mine, desc=f"videos (process {process_index})", unit="video"):
            summary.videos += 1
            pending = [
                q
                for q in queries
                if (video.video_id, q.query_id) not in logged
                or not is_complete(out / video.video_id / q.query_id, video)
            ]
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
    if num_processes == 1:
        merge_logs(out, expression_order(groups))
    return summary


def expression_order(groups: Iterable[tuple[Video, list[Query]]]) -> list[tuple[str, str]]:
    """``(video, expression)`` pairs in dataset order (``queries_by_video`` groups)."""
    return [(video.video_id, query.query_id) for video, queries in groups for query in queries]
