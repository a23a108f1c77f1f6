"""Reading ``XMem.pth`` (a plain state dict) into :class:`XMemNetwork`, strictly.

The widths are read from the weights as XMem does (C^k from ``key_proj.key_proj.weight``, C^v
from ``value_encoder.fuser.block2.conv2.weight``, C^h from ``decoder.hidden_update.transform.weight``,
absent for the no-sensory variant) plus the stem width from ``key_encoder.conv1.weight``. Every
other key must then be present with the shape the network expects; BatchNorm's
``num_batches_tracked`` counters are optional (inference does not use them). Single-object
checkpoints (4-channel ``value_encoder.conv1``) get a zero channel for "other objects", as
XMem's ``load_weights(init_as_zero_if_needed=True)`` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch

from visa_core.errors import CheckpointError
from visa_propagate.xmem.network import XMemDims, XMemNetwork

_DIM_KEYS = {
    "width": "key_encoder.conv1.weight",
    "key_dim": "key_proj.key_proj.weight",
    "value_dim": "value_encoder.fuser.block2.conv2.weight",
}
_HIDDEN_KEY = "decoder.hidden_update.transform.weight"
_VALUE_CONV1 = "value_encoder.conv1.weight"
_OPTIONAL_SUFFIX = "num_batches_tracked"


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Load a state dict saved with ``torch.save`` (tensors only, loaded on the CPU)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"XMem checkpoint {path} does not exist (expected the published XMem.pth)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # pickle, zip and weights-only errors all mean the same here
        raise CheckpointError(
            f"XMem checkpoint {path} cannot be read as a torch state dict: {error}"
        ) from error
    if not isinstance(state, Mapping) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(
            f"XMem checkpoint {path} is not a plain state dict of tensors (got {type(state).__name__})"
        )
    return dict(state)


def infer_dims(state: Mapping[str, torch.Tensor], source: str = "state dict") -> XMemDims:
    """The widths of the network that ``state`` belongs to."""
    missing = [key for key in _DIM_KEYS.values() if key not in state]
    if missing:
        raise CheckpointError(f"XMem {source} lacks {', '.join(missing)}: not an XMem checkpoint")
    hidden = state.get(_HIDDEN_KEY)
    return XMemDims(
        width=int(state[_DIM_KEYS["width"]].shape[0]),
        key_dim=int(state[_DIM_KEYS["key_dim"]].shape[0]),
        value_dim=int(state[_DIM_KEYS["value_dim"]].shape[0]),
        hidden_dim=0 if hidden is None else int(hidden.shape[0]) // 3,
    )


def _widen_single_object(state: dict[str, torch.Tensor]) -> None:
    """Append a zero "other objects" input channel to a single-object value encoder, in place."""
    weight = state.get(_VALUE_CONV1)
    if weight is not None and weight.ndim == 4 and weight.shape[1] == 4:
        state[_VALUE_CONV1] = torch.cat([weight, weight.new_zeros(weight.shape[0], 1, *weight.shape[2:])], 1)


def load_network(state: Mapping[str, torch.Tensor], source: str = "state dict") -> XMemNetwork:
    """Build the network ``state`` describes and load it strictly (eval mode, CPU).

    Raises:
        CheckpointError: keys missing or unexpected, or tensors of the wrong shape; the message
            lists them (up to 20 of each).
    """
    state = dict(state)
    _widen_single_object(state)
    network = XMemNetwork(infer_dims(state, source))
    expected = network.state_dict()
    missing = [k for k in expected if k not in state and not k.endswith(_OPTIONAL_SUFFIX)]
    unexpected = [k for k in state if k not in expected]
    wrong = [
        f"{k} {list(state[k].shape)} (expected {list(v.shape)})"
        for k, v in expected.items()
        if k in state and state[k].shape != v.shape
    ]
    problems = [
        f"{label} ({len(keys)}): {', '.join(keys[:20])}{' ...' if len(keys) > 20 else ''}"
        for label, keys in (
            ("missing keys", missing),
            ("unexpected keys", unexpected),
            ("wrong shapes", wrong),
        )
        if keys
    ]
    if problems:
        raise CheckpointError(f"XMem {source} does not match the XMem network: " + "; ".join(problems))
    network.load_state_dict(state, strict=False)
    return network.eval()


def load_checkpoint(path: str | Path) -> XMemNetwork:
    """:func:`read_state_dict` then :func:`load_network`."""
    return load_network(read_state_dict(path), source=f"checkpoint {path}")
