"""Per-frame speed of the ``sam2`` propagator and of the stock transformers session.

Usage: python packages/visa-propagate/benchmarks/sam2_speed.py [--checkpoint DIR] [--frames 40]
       [--size 480x854] [--device cpu] [--dtype float32]
Without --checkpoint a tiny random checkpoint (visa_propagate.testing) is written to a temp folder.
Prints seconds per frame for the bounded propagator and for the stock whole-video session (the
documented transformers flow), and their ratio.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from visa_core import Video
from visa_propagate.sam2.preprocess import frame_to_pixels, mask_to_input
from visa_propagate.sam2.propagator import Sam2Propagator
from visa_propagate.testing import write_tiny_sam2_checkpoint


def synthetic_video(num_frames: int, height: int, width: int) -> tuple[Video, np.ndarray]:
    """A bright square drifting right on noise; returns the video and its key-frame mask ``[1, H, W]``."""
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 80, size=(num_frames, height, width, 3), dtype=np.uint8)
    side = min(height, width) // 4
    for t in range(num_frames):
        left = (t * 2) % (width - side)
        frames[t, height // 3 : height // 3 + side, left : left + side] = (240, 60, 60)
    mask = np.zeros((1, height, width), dtype=bool)
    key = num_frames // 2
    left = (key * 2) % (width - side)
    mask[0, height // 3 : height // 3 + side, left : left + side] = True
    return Video.from_array("bench", frames), mask


def time_bounded(propagator: Sam2Propagator, video: Video, key: int, mask: np.ndarray) -> float:
    start = time.perf_counter()
    for _ in propagator.stream(video, {key: mask}):
        pass
    return (time.perf_counter() - start) / len(video)


def time_stock(propagator: Sam2Propagator, video: Video, key: int, mask: np.ndarray) -> float:
    from transformers import Sam2VideoInferenceSession

    model = propagator.model
    size = (model.config.image_size, model.config.image_size)
    start = time.perf_counter()
    pixels = torch.stack([frame_to_pixels(video.frames[i], size) for i in range(len(video))])
    session = Sam2VideoInferenceSession(
        video=pixels, video_height=video.size[0], video_width=video.size[1], dtype=model.dtype
    )
    session.add_mask_inputs(session.obj_id_to_idx(0), key, mask_to_input(mask[0], size))
    session.obj_with_new_inputs = [0]
    model(inference_session=session, frame_idx=key)
    for reverse in (False, True):
        for _ in model.propagate_in_video_iterator(session, start_frame_idx=key, reverse=reverse):
            pass
    return (time.perf_counter() - start) / len(video)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path)
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--size", default="480x854")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--tiny-size", type=int, default=128, help="input size of the tiny checkpoint")
    args = parser.parse_args()
    height, width = map(int, args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = args.checkpoint or write_tiny_sam2_checkpoint(tmp, image_size=args.tiny_size)
        propagator = Sam2Propagator(checkpoint=checkpoint, device=args.device, dtype=args.dtype)
        video, mask = synthetic_video(args.frames, height, width)
        key = args.frames // 2
        time_bounded(propagator, Video.from_array("warm", np.stack([video.frames[0]] * 3)), 1, mask)
        bounded = time_bounded(propagator, video, key, mask)
        stock = time_stock(propagator, video, key, mask)
    setup = f"frames={args.frames} size={height}x{width} device={args.device} dtype={args.dtype}"
    print(f"threads={torch.get_num_threads()} {setup} model input={propagator.model.config.image_size}")
    print(f"sam2 (bounded, streamed): {bounded * 1000:.1f} ms/frame")
    print(f"stock transformers session: {stock * 1000:.1f} ms/frame")
    print(f"ratio bounded/stock: {bounded / stock:.2f}")


if __name__ == "__main__":
    main()
