"""Frame sources: random access to the frames of a video without holding the video in memory.

Every source returns frames as ``uint8`` RGB arrays of shape ``[H, W, 3]`` and raises
:class:`~visa_core.errors.VideoDecodeError` naming the file and the frame index when a frame
cannot be read.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from visa_core.errors import VideoDecodeError


@runtime_checkable
class FrameSource(Protocol):
    """Random access to ``T`` frames, each ``uint8[H, W, 3]``."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> np.ndarray: ...

    @property
    def size(self) -> tuple[int, int]:
        """``(H, W)`` of every frame, in pixels."""
        ...

    @property
    def ids(self) -> Sequence[str]:
        """One id per frame (file stems for frame folders), used to name output files."""
        ...


def _check_index(index: int, length: int, where: str) -> int:
    if not isinstance(index, (int, np.integer)):
        raise TypeError(f"frame index must be an int, got {type(index).__name__}")
    index = int(index)
    if index < 0:
        index += length
    if not 0 <= index < length:
        raise IndexError(f"frame {index} out of range for {where} with {length} frames")
    return index


def _as_rgb(array: np.ndarray) -> np.ndarray:
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    elif array.shape[2] == 4:
        array = array[:, :, :3]
    return np.ascontiguousarray(array, dtype=np.uint8)


class ArrayFrames:
    """Frames already in memory: ``uint8[T, H, W, 3]`` (for tests, synthetic data, small clips)."""

    def __init__(self, frames: np.ndarray, ids: Sequence[str] | None = None) -> None:
        if frames.ndim != 4 or frames.shape[3] != 3 or frames.dtype != np.uint8:
            raise ValueError(f"frames must be uint8[T, H, W, 3], got {frames.dtype}{list(frames.shape)}")
        self._frames = frames
        self._ids = list(ids) if ids is not None else [f"{i:05d}" for i in range(len(frames))]
        if len(self._ids) != len(frames):
            raise ValueError(f"{len(self._ids)} ids for {len(frames)} frames")

    def __len__(self) -> int:
        return len(self._frames)

    def __getitem__(self, index: int) -> np.ndarray:
        return self._frames[_check_index(index, len(self), "an in-memory video")]

    @property
    def size(self) -> tuple[int, int]:
        return int(self._frames.shape[1]), int(self._frames.shape[2])

    @property
    def ids(self) -> Sequence[str]:
        return self._ids


class ImageFileFrames:
    """One image file per frame (a frame folder of JPEG/PNG files, or a single image)."""

    def __init__(self, paths: Sequence[str | Path], ids: Sequence[str] | None = None) -> None:
        if not paths:
            raise VideoDecodeError("a video needs at least one frame; got an empty list of frames")
        self._paths = [Path(p) for p in paths]
        self._ids = list(ids) if ids is not None else [p.stem for p in self._paths]
        if len(self._ids) != len(self._paths):
            raise ValueError(f"{len(self._ids)} ids for {len(self._paths)} frame files")
        self._size: tuple[int, int] | None = None

    @property
    def paths(self) -> list[Path]:
        """The frame files, in frame order."""
        return list(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    def __getitem__(self, index: int) -> np.ndarray:
        index = _check_index(index, len(self), f"frames in {self._paths[0].parent}")
        frame = self._read(index)
        expected = self.size
        if frame.shape[:2] != expected:
            raise VideoDecodeError(
                f"frame {index} ({self._paths[index]}) is {frame.shape[1]}x{frame.shape[0]} but the "
                f"video's frames are {expected[1]}x{expected[0]}"
            )
        return frame

    def _read(self, index: int) -> np.ndarray:
        from PIL import Image, UnidentifiedImageError

        path = self._paths[index]
        try:
            with Image.open(path) as image:
                image.load()
                return np.array(image.convert("RGB"), dtype=np.uint8)  # writable: torch.from_numpy needs it
        except FileNotFoundError as error:
            raise VideoDecodeError(f"frame {index} is missing: {path} does not exist") from error
        except (UnidentifiedImageError, OSError, SyntaxError) as error:
            raise VideoDecodeError(f"frame {index} ({path}) cannot be decoded: {error}") from error

    @property
    def size(self) -> tuple[int, int]:
        """``(H, W)`` of the first frame, read from its header (no decoding)."""
        if self._size is None:
            self._size = self._header_size(0)
        return self._size

    def _header_size(self, index: int) -> tuple[int, int]:
        from PIL import Image, UnidentifiedImageError

        path = self._paths[index]
        try:
            with Image.open(path) as image:
                width, height = image.size
        except FileNotFoundError as error:
            raise VideoDecodeError(f"frame {index} is missing: {path} does not exist") from error
        except (UnidentifiedImageError, OSError) as error:
            raise VideoDecodeError(f"frame {index} ({path}) cannot be decoded: {error}") from error
        return int(height), int(width)

    @property
    def ids(self) -> Sequence[str]:
        return self._ids


class VideoFileFrames:
    """Frames of a video file (mp4, avi, mkv, webm, ...), decoded on demand.

    decord is used when installed; PyAV otherwise (or with ``backend="pyav"``). Neither keeps more
    than a few decoded frames in memory, so a 10,000-frame video costs no more than a short one.
    """

    def __init__(self, path: str | Path, backend: str = "auto") -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise VideoDecodeError(f"video file {self.path} does not exist")
        if backend not in ("auto", "decord", "pyav"):
            raise ValueError(f"backend must be 'auto', 'decord' or 'pyav', got {backend!r}")
        self._reader = _open_reader(self.path, backend)
        if len(self._reader) == 0:
            raise VideoDecodeError(f"video file {self.path} holds no decodable frames")
        self._ids = [f"{i:05d}" for i in range(len(self._reader))]

    @property
    def backend(self) -> str:
        """``"decord"`` or ``"pyav"``."""
        return self._reader.backend

    @property
    def fps(self) -> float:
        """Average frame rate, frames per second."""
        return self._reader.fps

    def __len__(self) -> int:
        return len(self._reader)

    def __getitem__(self, index: int) -> np.ndarray:
        index = _check_index(index, len(self), f"video file {self.path}")
        try:
            return _as_rgb(self._reader.read(index))
        except VideoDecodeError:
            raise
        except Exception as error:  # decoders raise their own exception types
            raise VideoDecodeError(f"frame {index} of {self.path} cannot be decoded: {error}") from error

    @property
    def size(self) -> tuple[int, int]:
        return self._reader.size

    @property
    def ids(self) -> Sequence[str]:
        return self._ids

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "backend": self._reader.backend}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"], state["backend"])  # type: ignore[misc]


def _open_reader(path: Path, backend: str) -> _DecordReader | _PyAVReader:
    if backend in ("auto", "decord"):
        try:
            return _DecordReader(path)
        except ImportError:
            if backend == "decord":
                raise VideoDecodeError(f"{path}: decord is not installed") from None
        except Exception as error:
            if backend == "decord":
                raise VideoDecodeError(f"{path} cannot be opened by decord: {error}") from error
    try:
        return _PyAVReader(path)
    except VideoDecodeError:
        raise
    except Exception as error:
        raise VideoDecodeError(f"{path} is not a readable video: {error}") from error


class _DecordReader:
    backend = "decord"

    def __init__(self, path: Path) -> None:
        import decord

        self._reader = decord.VideoReader(str(path), ctx=decord.cpu(0), num_threads=1)
        self.fps = float(self._reader.get_avg_fps())
        first = self._reader[0].asnumpy()
        if first.ndim != 3 or first.shape[2] != 3:  # decord mis-decodes some tiny videos
            raise ValueError(f"decord decoded a frame of shape {first.shape}, not [H, W, 3]")
        self.size = (int(first.shape[0]), int(first.shape[1]))

    def __len__(self) -> int:
        return len(self._reader)

    def read(self, index: int) -> np.ndarray:
        return self._reader[index].asnumpy()


class _PyAVReader:
    """Random access over PyAV: an index of presentation timestamps, seek + decode forward."""

    backend = "pyav"

    def __init__(self, path: Path) -> None:
        import av

        self._path = path
        self._container = av.open(str(path))
        if not self._container.streams.video:
            raise VideoDecodeError(f"{path} has no video stream")
        self._stream = self._container.streams.video[0]
        self._pts = sorted(
            packet.pts for packet in self._container.demux(self._stream) if packet.pts is not None
        )
        rate = self._stream.average_rate
        self.fps = float(rate) if rate else 0.0
        self._frames: Any = None
        self._next = 0
        self.size = (int(self._stream.codec_context.height), int(self._stream.codec_context.width))

    def __len__(self) -> int:
        return len(self._pts)

    def read(self, index: int) -> np.ndarray:
        target_pts = self._pts[index]
        if self._frames is None or index < self._next or index > self._next + 30:
            self._container.seek(target_pts, stream=self._stream, backward=True, any_frame=False)
            self._frames = self._container.decode(self._stream)
        for frame in self._frames:
            if frame.pts is None or frame.pts < target_pts:
                continue
            self._next = index + 1
            if frame.pts != target_pts:
                raise VideoDecodeError(f"frame {index} of {self._path} cannot be found after seeking")
            return frame.to_ndarray(format="rgb24")
        self._frames = None
        raise VideoDecodeError(f"frame {index} of {self._path} is truncated or corrupt")
