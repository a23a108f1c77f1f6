"""Lazy video decoding: frame folders, single images and video files, and their errors."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from visa_core import VideoDecodeError
from visa_core.video import Video, VideoFileFrames


def _frames(num_frames: int = 12, height: int = 48, width: int = 64) -> np.ndarray:
    """Frames whose brightness encodes the frame index (robust to lossy coding)."""
    levels = np.linspace(10, 245, num_frames).astype(np.uint8)
    frames = np.repeat(levels[:, None, None, None], height, axis=1).repeat(width, axis=2).repeat(3, axis=3)
    frames[:, :, : width // 4, 0] = 255  # a red stripe: checks channel order
    return frames


def _write_mp4(path: Path, frames: np.ndarray, fps: int = 10) -> Path:
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "yuv420p"
        stream.options = {"g": "4", "crf": "10"}  # keyframe every 4 frames: exercises seeking
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    return path


def _write_folder(folder: Path, frames: np.ndarray, suffix: str = ".png") -> Path:
    folder.mkdir(parents=True)
    for index, frame in enumerate(frames):
        Image.fromarray(frame).save(folder / f"{index * 5:05d}{suffix}")
    return folder


@pytest.fixture(scope="module")
def mp4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_mp4(tmp_path_factory.mktemp("video") / "clip.mp4", _frames())


def _index_of(frame: np.ndarray, num_frames: int = 12) -> int:
    levels = np.linspace(10, 245, num_frames)
    return int(np.abs(levels - frame[:, 32:, 1].mean()).argmin())


@pytest.mark.parametrize("backend", ["decord", "pyav"])
def test_video_file_random_access_reads_the_right_frames(mp4: Path, backend: str) -> None:
    source = VideoFileFrames(mp4, backend=backend)
    assert source.backend == backend
    assert len(source) == 12 and source.size == (48, 64)
    for index in [0, 7, 3, 11, 4, 5, 1, 10]:  # backward and forward seeks
        frame = source[index]
        assert frame.dtype == np.uint8 and frame.shape == (48, 64, 3)
        assert _index_of(frame) == index
        assert frame[:, :8, 0].mean() > 200  # red stays red: RGB order
    assert source[-1].shape == (48, 64, 3)
    with pytest.raises(IndexError, match="frame 12 out of range"):
        source[12]


def test_decord_and_pyav_decode_identically(mp4: Path) -> None:
    decord_frames = VideoFileFrames(mp4, backend="decord")
    pyav_frames = VideoFileFrames(mp4, backend="pyav")
    for index in range(12):
        assert np.array_equal(decord_frames[index], pyav_frames[index])


def test_tiny_video_that_decord_misdecodes_falls_back_to_pyav(tmp_path: Path) -> None:
    path = _write_mp4(tmp_path / "tiny.mp4", _frames(4, 16, 16))
    source = VideoFileFrames(path)
    assert source.size == (16, 16)
    assert source[2].shape == (16, 16, 3)


def test_video_open_dispatches_and_pickles(mp4: Path) -> None:
    video = Video.open(mp4)
    assert video.video_id == "clip" and len(video) == 12 and video.fps == pytest.approx(10.0)
    assert list(video.frame_ids[:2]) == ["00000", "00001"]
    clone = pickle.loads(pickle.dumps(video))
    assert np.array_equal(clone.frames[6], video.frames[6])


def test_frame_folder_keeps_names_and_order(tmp_path: Path) -> None:
    frames = _frames(5)
    folder = _write_folder(tmp_path / "vid", frames)
    (folder / "notes.txt").write_text("ignored")
    video = Video.open(folder)
    assert video.video_id == "vid" and len(video) == 5 and video.size == (48, 64)
    assert list(video.frame_ids) == ["00000", "00005", "00010", "00015", "00020"]
    assert np.array_equal(video.frames[3], frames[3])


def test_single_image_is_a_one_frame_video(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    Image.fromarray(_frames(1)[0]).convert("L").save(path)  # greyscale becomes RGB
    video = Video.open(path)
    assert len(video) == 1 and video.frames[0].shape == (48, 64, 3)


def test_corrupt_video_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    with pytest.raises(VideoDecodeError, match="broken.mp4"):
        Video.open(path)


def test_truncated_video_names_file_and_frame(tmp_path: Path, mp4: Path) -> None:
    data = mp4.read_bytes()
    path = tmp_path / "truncated.mp4"
    path.write_bytes(data[: len(data) * 2 // 3])
    try:
        source = VideoFileFrames(path, backend="pyav")
    except VideoDecodeError as error:
        assert "truncated.mp4" in str(error)
        return
    with pytest.raises(VideoDecodeError, match=r"frame \d+ of .*truncated.mp4"):
        for index in range(len(source)):
            source[index]


def test_missing_and_corrupt_frames_are_named(tmp_path: Path) -> None:
    folder = _write_folder(tmp_path / "vid", _frames(4), suffix=".jpg")
    paths = sorted(folder.iterdir())
    (folder / paths[2].name).write_bytes(b"not a jpeg")
    video = Video.from_files("vid", [*paths, folder / "00099.jpg"])
    with pytest.raises(VideoDecodeError, match=r"frame 2 \(.*00010.jpg\) cannot be decoded"):
        video.frames[2]
    with pytest.raises(VideoDecodeError, match=r"frame 4 is missing: .*00099.jpg does not exist"):
        video.frames[4]


def test_frames_of_another_size_are_an_error(tmp_path: Path) -> None:
    folder = _write_folder(tmp_path / "vid", _frames(3))
    Image.fromarray(_frames(1, height=40)[0]).save(folder / "00005.png")
    video = Video.open(folder)
    with pytest.raises(VideoDecodeError, match=r"frame 1 .* is 64x40 but the video's frames are 64x48"):
        video.frames[1]


def test_empty_or_missing_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(VideoDecodeError, match="holds no image files"):
        Video.open(tmp_path / "empty")
    with pytest.raises(VideoDecodeError, match="does not exist"):
        Video.open(tmp_path / "nowhere")


def test_long_video_is_not_held_in_memory(tmp_path: Path) -> None:
    """A 600-frame video read frame by frame keeps no decoded frames around."""
    import tracemalloc

    path = _write_mp4(tmp_path / "long.mp4", np.repeat(_frames(12, 96, 128), 50, axis=0))
    source = VideoFileFrames(path, backend="pyav")
    tracemalloc.start()
    for index in range(len(source)):
        source[index]
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(source) == 600
    assert peak < 50 * 96 * 128 * 3, f"peak traced memory {peak} bytes for 600 frames"
