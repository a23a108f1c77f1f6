"""XMem checkpoints: the published key layout, tiny round trips and the errors on bad files."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from visa_core.errors import CheckpointError
from visa_core.testing import moving_squares
from visa_propagate.xmem import XMemPropagator
from visa_propagate.xmem.checkpoint import infer_dims, load_checkpoint, load_network
from visa_propagate.xmem.network import XMemDims, XMemNetwork, build_random_network

# Shapes of the published XMem.pth (C^k 64, C^v 512, C^h 64; ResNet-50 / ResNet-18 stems of 64).
PUBLISHED_SHAPES = {
    "key_encoder.conv1.weight": (64, 3, 7, 7),
    "key_encoder.res2.0.downsample.0.weight": (256, 64, 1, 1),
    "key_encoder.layer2.3.conv3.weight": (512, 128, 1, 1),
    "key_encoder.layer3.5.bn3.running_var": (1024,),
    "value_encoder.conv1.weight": (64, 5, 7, 7),
    "value_encoder.layer1.1.conv2.weight": (64, 64, 3, 3),
    "value_encoder.layer3.0.downsample.1.weight": (256,),
    "value_encoder.fuser.block1.downsample.weight": (512, 1280, 3, 3),
    "value_encoder.fuser.attention.ChannelGate.mlp.1.weight": (32, 512),
    "value_encoder.fuser.attention.SpatialGate.spatial.conv.weight": (1, 2, 7, 7),
    "value_encoder.fuser.block2.conv2.weight": (512, 512, 3, 3),
    "value_encoder.hidden_reinforce.transform.weight": (192, 576, 3, 3),
    "key_proj.key_proj.weight": (64, 1024, 3, 3),
    "key_proj.d_proj.weight": (1, 1024, 3, 3),
    "key_proj.e_proj.weight": (64, 1024, 3, 3),
    "decoder.fuser.block1.downsample.weight": (512, 1600, 3, 3),
    "decoder.hidden_update.g4_conv.weight": (256, 257, 1, 1),
    "decoder.hidden_update.transform.weight": (192, 320, 3, 3),
    "decoder.up_16_8.skip_conv.weight": (512, 512, 3, 3),
    "decoder.up_16_8.out_conv.downsample.weight": (256, 512, 3, 3),
    "decoder.up_8_4.skip_conv.weight": (256, 256, 3, 3),
    "decoder.pred.weight": (1, 256, 3, 3),
}


@pytest.fixture(scope="module")
def tiny_state() -> dict[str, torch.Tensor]:
    return build_random_network(XMemDims.tiny(), seed=3).state_dict()


def test_published_layout() -> None:
    with torch.device("meta"):
        network = XMemNetwork()
    shapes = {key: tuple(value.shape) for key, value in network.state_dict().items()}
    for key, shape in PUBLISHED_SHAPES.items():
        assert shapes.get(key) == shape, key
    prefixes = {key.split(".")[0] for key in shapes}
    assert prefixes == {"key_encoder", "value_encoder", "key_proj", "decoder"}
    assert not any(
        ".layer4." in key or key.startswith(("key_encoder.fc", "key_encoder.layer1.")) for key in shapes
    )


def test_dims_are_read_from_the_weights(tiny_state) -> None:
    assert infer_dims(tiny_state) == XMemDims.tiny()
    with torch.device("meta"):
        published = XMemNetwork().state_dict()
    assert infer_dims(published) == XMemDims()


def test_round_trip_through_a_published_format_file(tmp_path, tiny_state) -> None:
    path = tmp_path / "XMem.pth"
    torch.save(tiny_state, path)
    loaded = load_checkpoint(path).state_dict()
    assert loaded.keys() == tiny_state.keys()
    assert all(torch.equal(loaded[k], tiny_state[k]) for k in tiny_state)

    video, masks = moving_squares(num_frames=5, num_objects=2)
    from_file = XMemPropagator(checkpoint=path, size=-1, device="cpu")
    random = XMemPropagator(network="tiny", seed=3, size=-1, device="cpu")
    prompts = {2: masks[:, 2].copy()}
    assert np.array_equal(from_file.propagate(video, prompts).masks, random.propagate(video, prompts).masks)


def test_batch_norm_counters_are_optional(tiny_state) -> None:
    state = {k: v for k, v in tiny_state.items() if not k.endswith("num_batches_tracked")}
    load_network(state)


def test_single_object_weights_get_a_zero_other_objects_channel(tiny_state) -> None:
    state = dict(tiny_state)
    state["value_encoder.conv1.weight"] = tiny_state["value_encoder.conv1.weight"][:, :4].clone()
    weight = load_network(state).value_encoder.conv1.weight
    assert torch.equal(weight[:, :4], state["value_encoder.conv1.weight"])
    assert not weight[:, 4].any()


def test_no_sensory_variant_loads_and_runs(tmp_path) -> None:
    state = build_random_network(
        XMemDims(width=4, key_dim=8, value_dim=16, hidden_dim=0), seed=0
    ).state_dict()
    assert not any("hidden" in key for key in state)
    path = tmp_path / "XMem-no-sensory.pth"
    torch.save(state, path)
    video, masks = moving_squares(num_frames=4, num_objects=1)
    result = XMemPropagator(checkpoint=path, size=-1, device="cpu").propagate(video, {0: masks[:, 0].copy()})
    assert result.masks.shape == (1, 4, *video.size)


def test_missing_key_is_named(tiny_state) -> None:
    state = {k: v for k, v in tiny_state.items() if k != "decoder.pred.bias"}
    with pytest.raises(CheckpointError, match=r"missing keys \(1\): decoder\.pred\.bias"):
        load_network(state)


def test_unexpected_key_is_named(tiny_state) -> None:
    state = {**tiny_state, "decoder.extra.weight": torch.zeros(1)}
    with pytest.raises(CheckpointError, match=r"unexpected keys \(1\): decoder\.extra\.weight"):
        load_network(state)


def test_wrong_shape_is_named(tiny_state) -> None:
    state = {**tiny_state, "decoder.pred.weight": torch.zeros(1, 3, 3, 3)}
    with pytest.raises(CheckpointError, match=r"wrong shapes \(1\): decoder\.pred\.weight \[1, 3, 3, 3\]"):
        load_network(state)


def test_prefixed_state_dict_is_rejected_with_its_keys(tiny_state) -> None:
    state = {f"module.{k}": v for k, v in tiny_state.items()}
    with pytest.raises(CheckpointError, match="lacks key_encoder.conv1.weight"):
        load_network(state)


def test_files_that_are_not_state_dicts(tmp_path) -> None:
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot be read"):
        load_checkpoint(garbage)
    listing = tmp_path / "list.pth"
    torch.save([torch.zeros(1)], listing)
    with pytest.raises(CheckpointError, match="not a plain state dict"):
        load_checkpoint(listing)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "absent.pth")
