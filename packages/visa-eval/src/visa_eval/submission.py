"""Submission zips for the benchmarks without public ground truth (evaluation servers).

* MeViS ``valid``: ``<video>/<exp_id>/<frame>.png`` (``zip_mp_mevis.py``).
* Ref-YouTube-VOS ``valid``: ``Annotations/<video>/<exp_id>/<frame>.png`` (``zip_mp_refytvos.py``).

Every expected frame (from the meta_expressions file) is checked; missing ones are listed by name.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path

from visa_core.annotations import VideoEntry


def expected_files(videos: Sequence[VideoEntry]) -> list[str]:
    """``<video>/<exp_id>/<frame>.png`` for every frame of every expression."""
    return [
        f"{video.video_id}/{expression.exp_id}/{frame}.png"
        for video in videos
        for expression in video.expressions
        for frame in video.frames
    ]


def write_submission(pred_dir: Path, videos: Sequence[VideoEntry], out: Path, prefix: str = "") -> list[str]:
    """Zip the expected PNGs of ``pred_dir`` under ``prefix``; return the missing ones (not zipped)."""
    from tqdm import tqdm

    missing = []
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for relative in tqdm(expected_files(videos), desc="zipping", unit="png"):
            path = pred_dir / relative
            if path.is_file():
                archive.write(path, arcname=f"{prefix}{relative}")
            else:
                missing.append(relative)
    return missing
