"""One XMem propagation run over a sequence of frames (XMem's ``InferenceCore.step``).

A run sees frames in its own order (the caller reverses the video for backward runs); the
first frame must come with masks. Frames are ``float[3, H, W]`` normalised images, encoded once
by :func:`encode_frame` (so several runs over the same frames share the key encoder), and masks
``float[N, H, W]`` at the same (processing) size; both are padded to multiples of 16.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from visa_propagate.xmem.memory import MemoryManager, MemorySettings
from visa_propagate.xmem.network import XMemNetwork, aggregate


@dataclass(frozen=True)
class RunSettings:
    """``mem_every``: r, a memory frame every r frames; ``deep_update_every`` < 0 ties deep updates
    of the sensory memory to memory frames (XMem's default)."""

    mem_every: int = 5
    deep_update_every: int = -1
    memory: MemorySettings = field(default_factory=MemorySettings)


def pad_to_multiple(
    tensor: torch.Tensor, multiple: int = 16
) -> tuple[torch.Tensor, tuple[int, int, int, int]]:
    """Zero-pad the last two axes to multiples of ``multiple``, centred; returns the pads (l, r, t, b)."""
    height, width = tensor.shape[-2:]
    pad_h, pad_w = -height % multiple, -width % multiple
    pads = (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2)
    return F.pad(tensor, pads), pads


def unpad(tensor: torch.Tensor, pads: tuple[int, int, int, int]) -> torch.Tensor:
    """Undo :func:`pad_to_multiple`."""
    left, right, top, bottom = pads
    height, width = tensor.shape[-2:]
    return tensor[..., top : height - bottom, left : width - right]


@dataclass(frozen=True)
class EncodedFrame:
    """A frame padded to multiples of 16 (``image [1, 3, H, W]``, ``pads`` l, r, t, b) and what the
    key encoder makes of it: ``key``, ``shrinkage``, ``selection`` and the features (f16, f8, f4).
    It depends on the image alone, so runs with different memories can share it."""

    image: torch.Tensor
    pads: tuple[int, int, int, int]
    key: torch.Tensor
    shrinkage: torch.Tensor
    selection: torch.Tensor
    features: tuple[torch.Tensor, ...]


def encode_frame(network: XMemNetwork, image: torch.Tensor) -> EncodedFrame:
    """:class:`EncodedFrame` of ``image [3, H, W]`` (shrinkage and selection always computed: they
    do not change the key, and a run uses them only when it needs them)."""
    padded, pads = pad_to_multiple(image)
    padded = padded.unsqueeze(0)
    key, shrinkage, selection, features = network.encode_key(padded, need_shrinkage=True, need_selection=True)
    assert shrinkage is not None and selection is not None
    return EncodedFrame(padded, pads, key, shrinkage, selection, features)


class PropagationRun:
    """Memory and counters of one run; :meth:`step` segments the next frame."""

    def __init__(self, network: XMemNetwork, settings: RunSettings, num_objects: int) -> None:
        self.network = network
        self.settings = settings
        self.num_objects = num_objects
        self.memory = MemoryManager(settings.memory)
        self.frame_index = -1
        self.last_memory_frame = 0
        self.last_deep_update = -settings.deep_update_every

    def step(self, frame: EncodedFrame, mask: torch.Tensor | None = None, last: bool = False) -> torch.Tensor:
        """Probabilities ``[1 + N, H, W]`` (background first) for the encoded ``frame``.

        ``mask [N, H, W]`` replaces the prediction (a prompt); ``last`` skips memory updates on
        the final frame as XMem does. Deep updates of the sensory memory happen on memory frames
        only (also when ``deep_update_every`` is set, as in XMem).
        """
        self.frame_index += 1
        if self.frame_index == 0 and mask is None:
            raise ValueError("the first frame of an XMem run needs masks")
        settings, memory, network = self.settings, self.memory, self.network
        is_memory_frame = (
            self.frame_index - self.last_memory_frame >= settings.mem_every or mask is not None
        ) and not last
        need_segment = mask is None
        sync_deep_update = settings.deep_update_every < 0
        if sync_deep_update:
            deep_update = is_memory_frame
        else:
            deep_update = self.frame_index - self.last_deep_update >= settings.deep_update_every and not last
        normal_update = (not sync_deep_update or not deep_update) and not last

        key, features = frame.key, frame.features
        selection = frame.selection if settings.memory.long_term or need_segment else None
        hw = key.shape[-2:]
        if need_segment:
            readout = memory.read(key[0].flatten(1), None if selection is None else selection[0].flatten(1))
            readout = readout.view(1, self.num_objects, -1, *hw)
            hidden, prob = network.segment(features, readout, memory.hidden, update_hidden=normal_update)
            prob = prob[0]
            if normal_update:
                memory.hidden = hidden
        else:
            prob = aggregate(pad_to_multiple(mask)[0], dim=0)
            if memory.hidden is None:
                hidden_dim = network.dims.hidden_dim
                memory.hidden = key.new_zeros(1, self.num_objects, hidden_dim, *hw)

        if is_memory_frame:
            value, hidden = network.encode_value(
                frame.image, features[0], memory.hidden, prob[1:].unsqueeze(0), deep_update=deep_update
            )
            memory.add(
                key[0].flatten(1),
                frame.shrinkage[0].flatten(1),
                None if selection is None else selection[0].flatten(1),
                value[0].flatten(2),
            )
            self.last_memory_frame = self.frame_index
            if deep_update:
                memory.hidden = hidden
                self.last_deep_update = self.frame_index
        return unpad(prob, frame.pads)
