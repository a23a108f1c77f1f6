"""Peak memory of `visa segment` must not grow with video length.

Segments a synthetic 500-frame and a 5,000-frame video (same frame size) with the tiny model (the
answer teacher-forced to "Sure, [SEG]." so that every frame is propagated), the default selector
and propagator, each in a fresh process, and prints the ratio of peak resident memory (goal <= 1.2)
and the frames per second of each run (model loading included).

    python benchmarks/segment_memory.py [--frames 500 5000] [--size 96 128] [--propagator seg_token]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import json, resource, sys, time
from visa_core.cli.main import main
start = time.perf_counter()
status = main(sys.argv[1:])
elapsed = time.perf_counter() - start
print(json.dumps({"status": status, "seconds": elapsed,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write_video(path: Path, num_frames: int, height: int, width: int) -> None:
    """An mp4 of a square moving around a grey frame."""
    import av
    import numpy as np

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        side = height // 4
        for t in range(num_frames):
            frame = np.full((height, width, 3), 120, dtype=np.uint8)
            top = (t * 2) % (height - side)
            left = (t * 3) % (width - side)
            frame[top : top + side, left : left + side] = (220, 40, 40)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())


def run_segment(model: Path, video: Path, out: Path, propagator: str) -> dict[str, float]:
    command = [
        sys.executable,
        "-c",
        CHILD,
        "segment",
        "--model",
        str(model),
        "--video",
        str(video),
        "--query",
        "the red square",
        "--answer",
        "Sure, [SEG].",
        "--propagator",
        propagator,
        "--out",
        str(out),
        "--no-overlay",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"visa segment failed:\n{result.stderr[-3000:]}")
    stats = json.loads(result.stdout.strip().splitlines()[-1])
    stats["masks_written"] = sum(1 for _ in (out / "masks").rglob("*.png"))
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--frames", type=int, nargs=2, default=[500, 5000])
    parser.add_argument("--size", type=int, nargs=2, default=[96, 128], metavar=("H", "W"))
    parser.add_argument("--propagator", default="seg_token")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="visa-bench-") as scratch:
        root = Path(scratch)
        model_dir = root / "model"
        subprocess.run(
            [sys.executable, "-m", "visa_core.cli.main", "init-model", "--preset", "tiny", str(model_dir)],
            check=True,
            capture_output=True,
        )
        runs = {}
        for num_frames in args.frames:
            video = root / f"video_{num_frames}.mp4"
            write_video(video, num_frames, *args.size)
            started = time.perf_counter()
            stats = run_segment(model_dir, video, root / f"out_{num_frames}", args.propagator)
            stats["fps"] = num_frames / stats["seconds"]
            if stats["masks_written"] != num_frames:
                raise SystemExit(f"expected {num_frames} masks, found {stats['masks_written']}")
            runs[num_frames] = stats
            print(
                f"{num_frames:>6} frames {args.size[0]}x{args.size[1]}: "
                f"peak RSS {stats['peak_rss_mb']:.0f} MiB, "
                f"{stats['fps']:.1f} frames/s (wall {time.perf_counter() - started:.1f} s with start-up)"
            )
        short, long = args.frames
        ratio = runs[long]["peak_rss_mb"] / runs[short]["peak_rss_mb"]
        print(f"peak memory ratio {long}/{short} frames: {ratio:.3f} (goal <= 1.2)")


if __name__ == "__main__":
    main()
