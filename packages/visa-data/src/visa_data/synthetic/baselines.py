"""Baselines that know every object of a synthetic video but not the query.

``object_masks(root, video_id)`` regenerates a written video's objects from the dataset's
manifest (the generator is deterministic), so a baseline can pick among *all* objects, not only
those some expression names. The two baselines answer every query the same way:

* ``random_object_track``: one object drawn uniformly among those visible in some frame;
* ``largest_object_track``: the object with the largest visible area summed over the video.

Both return ``bool[T, H, W]``: the chosen object's visible mask in every frame.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from visa_core.errors import DataFormatError

_VIDEO_ID = re.compile(r"^(vid|img)(\d+)$")


def object_masks(root: Path, video_id: str) -> np.ndarray:
    """Visible-part masks ``bool[N, T, H, W]`` of every object of ``video_id`` in the dataset at ``root``.

    Raises:
        DataFormatError: ``root`` holds no synthetic manifest, one of another generator format, or
            ``video_id`` is not one of its items.
    """
    from visa_data.synthetic.generate import FORMAT_VERSION, MANIFEST, SyntheticConfig, make_video

    manifest_path = Path(root) / MANIFEST
    if not manifest_path.is_file():
        raise DataFormatError(f"{root}: no {MANIFEST}; object masks need a dataset written by the generator")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT_VERSION:
        raise DataFormatError(
            f"{manifest_path}: written by generator format {manifest.get('format')}, this one is "
            f"{FORMAT_VERSION}; its objects cannot be regenerated (write the dataset again)"
        )
    config = SyntheticConfig(**manifest["config"])
    match = _VIDEO_ID.match(video_id)
    still = match is not None and match.group(1) == "img"
    count = config.images if still else config.videos
    if match is None or int(match.group(2)) >= count:
        raise DataFormatError(f"{manifest_path}: {video_id!r} is not an item of this synthetic dataset")
    return make_video(int(match.group(2)), config, still=still).masks


def visible_objects(masks: np.ndarray) -> np.ndarray:
    """Indices of the objects of ``bool[N, T, H, W]`` visible in at least one frame."""
    return np.flatnonzero(masks.any(axis=(1, 2, 3)))


def random_object_track(masks: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The track ``bool[T, H, W]`` of one object drawn uniformly among the visible ones (all empty
    when none is visible)."""
    candidates = visible_objects(masks)
    if len(candidates) == 0:
        return np.zeros(masks.shape[1:], dtype=bool)
    return masks[int(rng.choice(candidates))]


def largest_object_track(masks: np.ndarray) -> np.ndarray:
    """The track ``bool[T, H, W]`` of the object with the most visible pixels over the video."""
    if masks.shape[0] == 0:
        return np.zeros(masks.shape[1:], dtype=bool)
    return masks[int(masks.sum(axis=(1, 2, 3)).argmax())]
