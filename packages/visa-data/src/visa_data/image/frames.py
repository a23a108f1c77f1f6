"""One-frame videos over image files, with listed-but-missing images reported by dataset and item."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from visa_core.errors import VideoDecodeError
from visa_core.video import ImageFileFrames, Video


def image_video(dataset: str, video_id: str, paths: Sequence[Path], item: str) -> Video:
    """A video of the image files ``paths`` (one frame each), decoded on access.

    Raises:
        VideoDecodeError: a listed image is missing, naming the dataset, the file and the item.
    """
    for path in paths:
        if not path.is_file():
            raise VideoDecodeError(f"{dataset}: image {path} listed for {item} does not exist")
    return Video(video_id, ImageFileFrames(list(paths)))
