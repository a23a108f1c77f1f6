"""Writing a segmented video to disk: mask PNGs, a result JSON and a coloured overlay video.

Layout of ``OUT``::

    OUT/masks/<query_id>/<object>/<frame_id>.png   0/255 at the original size, one per object and frame
    OUT/result.json                                answers, chosen frames, per-frame mask areas
    OUT/overlay.mp4                                every query's masks drawn on the video
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

from visa_core.inference.pipeline import QueryResult
from visa_core.video import Video
from visa_core.video.writers import Mp4Writer, load_mask_png, overlay_masks, save_mask_png


def mask_path(out: Path, query_id: str, obj: int, frame_id: str) -> Path:
    """Where the mask of object ``obj`` of a query on a frame is written."""
    return out / "masks" / query_id / str(obj) / f"{frame_id}.png"


def write_masks(
    out: Path, video: Video, results: Sequence[QueryResult], stream: Iterable[tuple[int, int, np.ndarray]]
) -> list[np.ndarray]:
    """Write every streamed mask as a PNG.

    Returns:
        Per result, the mask areas ``float32[T, N]`` as fractions of the frame.
    """
    num_pixels = float(video.size[0] * video.size[1])
    areas = [np.zeros((len(video), r.keyframe_logits.shape[0]), dtype=np.float32) for r in results]
    for result_index, frame_index, masks in stream:
        result = results[result_index]
        frame_id = video.frame_ids[frame_index]
        for obj, mask in enumerate(masks):
            save_mask_png(mask_path(out, result.query.query_id, obj, frame_id), mask)
            areas[result_index][frame_index, obj] = mask.sum() / num_pixels
    return areas


def write_result_json(
    out: Path, source: str, video: Video, results: Sequence[QueryResult], areas: Sequence[np.ndarray]
) -> Path:
    """Write ``OUT/result.json``: per query the answer, the frames chosen and per-frame mask areas."""
    queries = []
    for result, area in zip(results, areas, strict=True):
        probabilities = 0.5 * (1 + np.tanh(0.5 * result.keyframe_logits))  # sigmoid without overflow
        confidence = [
            float(p[m].mean()) if m.any() else 0.0
            for p, m in zip(probabilities, result.keyframe_masks, strict=True)
        ]
        queries.append(
            {
                "id": result.query.query_id,
                "text": result.query.text,
                "answer": result.answer,
                "has_target": result.has_target,
                "note": None if result.has_target else "the answer contains no [SEG]: nothing segmented",
                "target_frame": result.selection.target,
                "target_frame_id": video.frame_ids[result.selection.target],
                "reference_frames": list(result.selection.references),
                "num_objects": int(result.keyframe_logits.shape[0]),
                "keyframe_confidence": confidence,
                "frame_mask_area": area.round(6).tolist(),
            }
        )
    document = {
        "video": source,
        "num_frames": len(video),
        "height": video.size[0],
        "width": video.size[1],
        "frame_ids": list(video.frame_ids),
        "queries": queries,
    }
    path = out / "result.json"
    path.write_text(json.dumps(document, indent=2))
    return path


def write_overlay_video(
    out: Path, video: Video, results: Sequence[QueryResult], fps: float | None = None
) -> Path:
    """Draw every query's masks (read back from the PNGs, one frame at a time) into ``OUT/overlay.mp4``."""
    path = out / "overlay.mp4"
    with Mp4Writer(path, fps=fps or video.fps or 10.0) as writer:
        for frame_index in tqdm(range(len(video)), desc="overlay video", unit="frame", leave=False):
            frame_id = video.frame_ids[frame_index]
            masks = [
                load_mask_png(mask_path(out, r.query.query_id, obj, frame_id))
                for r in results
                for obj in range(r.keyframe_logits.shape[0])
            ]
            frame = video.frames[frame_index]
            writer.write(overlay_masks(frame, np.stack(masks)) if masks else frame)
    return path
