"""The ``xmem`` propagator with a tiny random network: contract, directions, prompts, options."""

from __future__ import annotations

import numpy as np
import pytest

from visa_core.errors import CheckpointError, ComponentOptionError
from visa_core.testing import PropagatorContract, modules_imported_by, moving_squares
from visa_core.video import Video
from visa_propagate.xmem import XMemPropagator


def tiny(**options) -> XMemPropagator:
    return XMemPropagator(network="tiny", size=-1, device="cpu", **options)


class TestXMemContract(PropagatorContract):
    component_name = "xmem"

    @pytest.fixture
    def propagator(self) -> XMemPropagator:
        return tiny()


class _CountingFrames:
    """A frame source that records which frames are decoded, in order."""

    def __init__(self, frames: np.ndarray) -> None:
        self._frames = frames
        self.reads: list[int] = []
        self.size = frames.shape[1:3]
        self.ids = [f"{i:05d}" for i in range(len(frames))]

    def __len__(self) -> int:
        return len(self._frames)

    def __getitem__(self, index: int) -> np.ndarray:
        self.reads.append(index)
        return self._frames[index]


def test_streams_forward_from_the_key_frame_then_backward_one_frame_at_a_time() -> None:
    video, masks = moving_squares(num_frames=7, height=32, width=48, num_objects=1)
    frames = _CountingFrames(np.stack([video.frames[i] for i in range(7)]))
    order = [t for t, _ in tiny().stream(Video("counted", frames), {3: masks[:, 3]})]
    assert order == [3, 4, 5, 6, 2, 1, 0]
    assert frames.reads == [3, 4, 5, 6, 3, 2, 1, 0], "the backward run restarts from the key frame"


def test_backward_run_equals_forward_run_on_the_reversed_video() -> None:
    video, masks = moving_squares(num_frames=8, height=32, width=48, num_objects=2)
    frames = np.stack([video.frames[i] for i in range(8)])
    key = 5
    result = tiny().propagate(video, {key: masks[:, key].copy()}).masks
    reversed_video = Video.from_array("reversed", frames[::-1].copy())
    mirrored = tiny().propagate(reversed_video, {7 - key: masks[:, key].copy()}).masks
    assert np.array_equal(result, mirrored[:, ::-1])


def test_deterministic() -> None:
    video, masks = moving_squares(num_frames=5, num_objects=2)
    first = tiny().propagate(video, {1: masks[:, 1].copy()}).masks
    second = tiny().propagate(video, {1: masks[:, 1].copy()}).masks
    assert np.array_equal(first, second)


def test_later_key_frames_are_prompts_of_the_forward_run() -> None:
    video, masks = moving_squares(num_frames=6, num_objects=2)
    prompts = {1: masks[:, 1].copy(), 4: np.roll(masks[:, 4], 3, axis=2)}
    result = tiny().propagate(video, prompts).masks
    assert np.array_equal(result[:, 1], prompts[1])
    assert np.array_equal(result[:, 4], prompts[4])


def test_objects_with_empty_prompts_stay_empty() -> None:
    video, masks = moving_squares(num_frames=5, num_objects=2)
    prompt = masks[:, 2].copy()
    prompt[1] = False
    result = tiny().propagate(video, {2: prompt}).masks
    assert not result[1].any()
    assert result[0].any(axis=(1, 2)).all()


def test_all_empty_prompts_need_no_network() -> None:
    video, _ = moving_squares(num_frames=4, num_objects=2)
    propagator = tiny()
    result = propagator.propagate(video, {2: np.zeros((2, *video.size), dtype=bool)}).masks
    assert not result.any()
    assert propagator._network is None


def test_resizes_to_the_processing_size_and_back() -> None:
    video, masks = moving_squares(num_frames=4, height=40, width=60, num_objects=1)
    propagator = XMemPropagator(network="tiny", size=24, device="cpu", keyframe_output="prompt")
    result = propagator.propagate(video, {0: masks[:, 0].copy()}).masks
    assert result.shape == (1, 4, 40, 60)
    assert np.array_equal(result[:, 0], masks[:, 0])


def ellipse_with_a_thin_line(height: int, width: int) -> np.ndarray:
    """``bool[1, H, W]``: an ellipse and a one-pixel vertical line (details a downscale loses)."""
    rows, cols = np.mgrid[:height, :width]
    mask = ((rows - 0.4 * height) / (0.2 * height)) ** 2 + ((cols - 0.45 * width) / (0.2 * width)) ** 2 < 1
    mask[height // 7 : 5 * height // 6, int(0.8 * width)] = True
    return mask[None]


def xmem_eval_round_trip(mask: np.ndarray, size: int) -> np.ndarray:
    """What XMem's eval.py (as VISA ran it) writes for a key frame: ``resize_mask`` (nearest,
    ``int(h / min_hw * size)``), ``aggregate`` of the prompt, bilinear back, arg-max."""
    import torch
    import torch.nn.functional as F

    height, width = mask.shape[-2:]
    short = min(height, width)
    small_hw = (int(height / short * size), int(width / short * size))
    small = F.interpolate(torch.from_numpy(mask).float()[None], small_hw, mode="nearest")[0]
    with_bg = torch.cat([torch.prod(1 - small, dim=0, keepdim=True), small]).clamp(1e-7, 1 - 1e-7)
    prob = torch.softmax(torch.log(with_bg / (1 - with_bg)), dim=0)
    prob = F.interpolate(prob[:, None], (height, width), mode="bilinear", align_corners=False)[:, 0]
    return (prob.argmax(dim=0) == 1).numpy()[None]


@pytest.mark.parametrize(
    ("height", "width", "size", "num_frames", "key"),
    [(720, 1280, 480, 1, 0), (72, 128, 48, 3, 1)],  # 720p processed at 480, and the same ratio small
)
def test_key_frame_output_is_the_prompt_through_xmem_resize(
    height: int, width: int, size: int, num_frames: int, key: int
) -> None:
    rng = np.random.default_rng(0)
    video = Video.from_array("shrunk", rng.integers(0, 256, (num_frames, height, width, 3), dtype=np.uint8))
    prompt = ellipse_with_a_thin_line(height, width)
    expected = xmem_eval_round_trip(prompt, size)
    assert not np.array_equal(expected, prompt), "the case must be one the round trip changes"
    result = XMemPropagator(network="tiny", size=size, device="cpu").propagate(video, {key: prompt}).masks
    assert np.array_equal(result[:, key], expected)
    kept = XMemPropagator(network="tiny", size=size, device="cpu", keyframe_output="prompt")
    assert np.array_equal(kept.propagate(video, {key: prompt}).masks[:, key], prompt)


def nested_and_overlapping_squares() -> tuple[Video, np.ndarray]:
    """Moving squares and key-frame masks of three objects on frame 2: ``0`` a square, ``1``
    nested inside it, ``2`` overlapping its right half and the background."""
    video, masks = moving_squares(num_frames=6, height=32, width=48, num_objects=1)
    square = masks[0, 2]
    rows, cols = np.flatnonzero(square.any(axis=1)), np.flatnonzero(square.any(axis=0))
    nested = np.zeros_like(square)
    nested[rows[2] : rows[-2], cols[2] : cols[-2]] = True
    overlapping = np.roll(square, (cols[-1] - cols[0] + 1) // 2, axis=1)
    return video, np.stack([square, nested, overlapping])


def test_separate_objects_keep_shared_pixels_and_equal_single_object_runs() -> None:
    video, prompt = nested_and_overlapping_squares()
    result = tiny().propagate(video, {2: prompt}).masks
    for obj in range(3):
        alone = tiny().propagate(video, {2: prompt[obj : obj + 1]}).masks
        assert np.array_equal(result[obj], alone[0]), f"object {obj} differs from its run alone"
    assert (result[0] & result[1]).any(axis=(1, 2)).all(), "the nested object lost its shared pixels"
    assert (result[0] & result[2]).any(), "the overlapping objects lost their shared pixels"


def test_joint_objects_are_mutually_exclusive() -> None:
    video, prompt = nested_and_overlapping_squares()
    joint = tiny(objects="joint").propagate(video, {2: prompt}).masks
    assert (joint.sum(axis=0) <= 1).all()
    assert not np.array_equal(joint, tiny().propagate(video, {2: prompt}).masks)


def test_separate_objects_share_decoded_frames_and_the_key_encoder() -> None:
    video, prompt = nested_and_overlapping_squares()
    frames = _CountingFrames(np.stack([video.frames[i] for i in range(len(video))]))
    propagator = tiny()
    encoded: list[int] = []
    propagator.network.key_encoder.register_forward_pre_hook(lambda *_: encoded.append(1))
    propagator.propagate(Video("counted", frames), {2: prompt})
    assert frames.reads == [2, 3, 4, 5, 2, 1, 0]
    assert len(encoded) == len(frames.reads)


def test_runs_the_network_in_inference_mode() -> None:
    import torch

    propagator = tiny()
    modes: list[bool] = []
    propagator.network.key_encoder.register_forward_pre_hook(
        lambda *_: modes.append(torch.is_inference_mode_enabled())
    )
    video, masks = moving_squares(num_frames=3, num_objects=1)
    propagator.propagate(video, {0: masks[:, 0].copy()})
    assert modes and all(modes)


def test_inference_mode_does_not_leak_into_the_consumer_between_frames() -> None:
    import torch

    video, masks = moving_squares(num_frames=4, num_objects=1)
    for _ in tiny().stream(video, {1: masks[:, 1]}):
        assert not torch.is_inference_mode_enabled()


def test_needs_a_checkpoint_for_the_published_network(tmp_path) -> None:
    with pytest.raises(CheckpointError, match="XMem.pth"):
        XMemPropagator()
    with pytest.raises(CheckpointError, match="does not exist"):
        XMemPropagator(checkpoint=tmp_path / "missing.pth")


@pytest.mark.parametrize(
    "options",
    [
        {"size": 0},
        {"mem_every": 0},
        {"top_k": 0},
        {"min_working_frames": 5, "max_working_frames": 5},
        {"num_prototypes": 128, "max_long_term_elements": 100},
        {"network": "huge"},
        {"top_kk": 3},
    ],
)
def test_bad_options(options) -> None:
    with pytest.raises(ComponentOptionError):
        XMemPropagator(**{"network": "tiny", **options})


def test_defaults_are_the_original_settings() -> None:
    config = tiny().config
    defaults = XMemPropagator.Config(network="tiny")
    assert (defaults.size, defaults.mem_every, defaults.top_k) == (480, 5, 30)
    assert (defaults.min_working_frames, defaults.max_working_frames) == (5, 10)
    assert (defaults.num_prototypes, defaults.max_long_term_elements) == (128, 10_000)
    assert defaults.deep_update_every == -1 and defaults.long_term
    assert config.size == -1


def test_importing_the_propagator_and_the_plugin_does_not_import_torch() -> None:
    statement = "import visa_propagate.xmem, visa_propagate.plugin"
    assert modules_imported_by(statement, ("torch", "transformers")) == []
