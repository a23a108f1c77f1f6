"""Writing results people look at: 0/255 mask PNGs, coloured overlays and mp4 videos."""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

import numpy as np

PALETTE = np.array(
    [
        [255, 56, 56],
        [56, 140, 255],
        [72, 220, 96],
        [255, 178, 29],
        [207, 64, 255],
        [0, 212, 212],
        [255, 112, 190],
        [160, 160, 40],
    ],
    dtype=np.uint8,
)
"""Colours of objects 0, 1, 2, ... in overlays (cycled)."""


def save_mask_png(path: Path, mask: np.ndarray) -> None:
    """Save ``bool[H, W]`` as a single-channel PNG holding 0 and 255 (written atomically)."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    Image.fromarray(mask.astype(np.uint8) * 255, mode="L").save(partial, format="PNG")
    os.replace(partial, path)


def load_mask_png(path: Path) -> np.ndarray:
    """Read a mask PNG as ``bool[H, W]`` (any non-zero value is foreground)."""
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("L")) > 0


def overlay_masks(frame: np.ndarray, masks: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """Blend ``bool[N, H, W]`` masks into ``uint8[H, W, 3]`` in palette colours, with outlines."""
    out = frame.astype(np.float32)
    for index, mask in enumerate(masks):
        if not mask.any():
            continue
        colour = PALETTE[index % len(PALETTE)].astype(np.float32)
        out[mask] = (1 - alpha) * out[mask] + alpha * colour
        edge = mask & ~_eroded(mask)
        out[edge] = colour
    return out.clip(0, 255).astype(np.uint8)


def _eroded(mask: np.ndarray) -> np.ndarray:
    """4-neighbour erosion of ``bool[H, W]`` (pixels outside the frame count as background)."""
    padded = np.pad(mask, 1, constant_values=False)
    return padded[1:-1, 1:-1] & padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]


class Mp4Writer:
    """Append ``uint8[H, W, 3]`` frames to an H.264 mp4 (odd sizes are padded by one pixel)."""

    def __init__(self, path: Path, fps: float = 10.0) -> None:
        self.path = Path(path)
        self.fps = fps
        self._container = None
        self._stream = None

    def __enter__(self) -> Mp4Writer:
        return self

    def write(self, frame: np.ndarray) -> None:
        import av

        height, width = frame.shape[:2]
        if self._container is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._container = av.open(str(self.path), "w")
            self._stream = self._container.add_stream("libx264", rate=round(self.fps) or 10)
            self._stream.width, self._stream.height = width + width % 2, height + height % 2
            self._stream.pix_fmt = "yuv420p"
        padded = np.pad(frame, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")
        for packet in self._stream.encode(av.VideoFrame.from_ndarray(padded, format="rgb24")):
            self._container.mux(packet)

    def close(self) -> None:
        if self._container is not None:
            for packet in self._stream.encode():
                self._container.mux(packet)
            self._container.close()
            self._container = None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
