"""One-frame videos over image files whose size is read from the file header, not by decoding."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from visa_core.errors import VideoDecodeError
from visa_core.video import ImageFileFrames, Video


class HeaderSizedImageFrames(ImageFileFrames):
    """:class:`ImageFileFrames` whose ``size`` comes from the first file's header.

    Building a :class:`~visa_core.Sample` with masks checks them against ``video.size``; reading
    the header keeps that check from decoding the whole image.
    """

    @property
    def size(self) -> tuple[int, int]:
        if self._size is None:
            self._size = image_size(self.paths[0])
        return self._size


def image_size(path: Path) -> tuple[int, int]:
    """``(H, W)`` of an image file from its header; :class:`VideoDecodeError` if unreadable."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            width, height = image.size
    except FileNotFoundError as error:
        raise VideoDecodeError(f"image {path} does not exist") from error
    except (UnidentifiedImageError, OSError) as error:
        raise VideoDecodeError(f"image {path} cannot be read: {error}") from error
    return int(height), int(width)


def image_video(dataset: str, video_id: str, paths: Sequence[Path], item: str) -> Video:
    """A video of the image files ``paths`` (one frame each), decoded on access.

    Raises:
        VideoDecodeError: a listed image is missing, naming the dataset, the file and the item.
    """
    for path in paths:
        if not path.is_file():
            raise VideoDecodeError(f"{dataset}: image {path} listed for {item} does not exist")
    return Video(video_id, HeaderSizedImageFrames(list(paths)))
