"""Lazily decoded videos: frame folders, image files and video files (decord, PyAV fallback)."""

from visa_core.video.sources import (
    ArrayFrames,
    FrameSource,
    ImageFileFrames,
    VideoFileFrames,
)
from visa_core.video.video import IMAGE_SUFFIXES, VIDEO_SUFFIXES, Video

__all__ = [
    "IMAGE_SUFFIXES",
    "VIDEO_SUFFIXES",
    "ArrayFrames",
    "FrameSource",
    "ImageFileFrames",
    "Video",
    "VideoFileFrames",
]
