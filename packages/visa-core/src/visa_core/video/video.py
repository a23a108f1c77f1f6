"""The :class:`Video` container: an id plus a lazily decoded :class:`FrameSource`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from visa_core.errors import VideoDecodeError
from visa_core.video.sources import ArrayFrames, FrameSource, ImageFileFrames, VideoFileFrames

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".gif"})


@dataclass(frozen=True)
class Video:
    """A video of ``T`` frames, each ``uint8[H, W, 3]`` RGB at its original resolution.

    Frames are decoded when indexed (``video.frames[i]``), never all at once.
    """

    video_id: str
    frames: FrameSource
    fps: float | None = None

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def size(self) -> tuple[int, int]:
        """``(H, W)`` in pixels."""
        return self.frames.size

    @property
    def frame_ids(self) -> Sequence[str]:
        """One id per frame (file stems for frame folders, ``00000``... for video files)."""
        return self.frames.ids

    @classmethod
    def open(cls, path: str | Path, video_id: str | None = None) -> Video:
        """Open a frame folder, a single image, or a video file (chosen by what ``path`` is)."""
        path = Path(path)
        if path.is_dir():
            return cls.from_dir(path, video_id)
        if not path.exists():
            raise VideoDecodeError(f"{path} does not exist (expected a video file or a frame folder)")
        suffix = path.suffix.lower()
        if suffix in IMAGE_SUFFIXES:
            return cls(video_id or path.stem, ImageFileFrames([path]))
        source = VideoFileFrames(path)
        return cls(video_id or path.stem, source, fps=source.fps)

    @classmethod
    def from_dir(cls, folder: str | Path, video_id: str | None = None) -> Video:
        """A folder of frame images, ordered by file name (``00000.jpg``, ``00001.jpg``...)."""
        folder = Path(folder)
        if not folder.is_dir():
            raise VideoDecodeError(f"frame folder {folder} does not exist")
        paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not paths:
            raise VideoDecodeError(
                f"frame folder {folder} holds no image files ({', '.join(sorted(IMAGE_SUFFIXES))})"
            )
        return cls(video_id or folder.name, ImageFileFrames(paths))

    @classmethod
    def from_files(cls, video_id: str, paths: Sequence[str | Path]) -> Video:
        """Frames from explicit image paths, in the given order (as dataset annotations list them)."""
        return cls(video_id, ImageFileFrames(paths))

    @classmethod
    def from_array(cls, video_id: str, frames: np.ndarray, fps: float | None = None) -> Video:
        """A video held in memory, ``uint8[T, H, W, 3]``."""
        return cls(video_id, ArrayFrames(frames), fps=fps)
