"""The ``xmem`` propagator: XMem memory propagation from the key frame, forward then backward.

As VISA ran XMem (``XMem/tracking.py``): one run from the (first) key frame to the last frame,
then a fresh run from the key frame back to frame 0. Later key frames are given to the forward
run as prompts when it reaches them. Objects whose prompts are empty stay empty everywhere
(VISA's "target absent" output). Importing this module does not import torch.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

from visa_core.components.propagation_prompts import check_prompts
from visa_core.errors import CheckpointError
from visa_core.interfaces import FrameDecoder, Propagator
from visa_core.video import Video

if TYPE_CHECKING:
    import torch

    from visa_propagate.xmem.inference import RunSettings
    from visa_propagate.xmem.network import XMemNetwork


class XMemPropagator(Propagator):
    """XMem (ECCV 2022), VISA's propagator: memory-based masks forward and backward from the key frame."""

    name: ClassVar[str] = "xmem"

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Config:
        """Options; the defaults are those of XMem's ``eval.py`` as VISA ran it.

        ``checkpoint``: the published ``XMem.pth`` (needed unless ``network='tiny'``, which builds
        a small random network in the same key layout, for tests). ``size``: shorter side in
        pixels for processing (-1 keeps the frames' size). ``mem_every``: r. ``top_k``: k of the
        top-k memory read. ``min/max_working_frames``: T_min/T_max. ``max_long_term_elements``:
        LT_max. ``num_prototypes``: P. ``deep_update_every``: -1 ties sensory deep updates to
        memory frames. ``long_term``: False disables long-term memory. ``amp``: float16 autocast
        on CUDA, as XMem's evaluation did. ``device``: ``auto`` picks CUDA when available.
        """

        checkpoint: Path | None = None
        network: Literal["xmem", "tiny"] = "xmem"
        seed: int = 0
        device: str = "auto"
        size: int = 480
        mem_every: int = 5
        top_k: int = 30
        min_working_frames: int = 5
        max_working_frames: int = 10
        max_long_term_elements: int = 10_000
        num_prototypes: int = 128
        deep_update_every: int = -1
        long_term: bool = True
        amp: bool = True

        def __post_init__(self) -> None:
            if self.checkpoint is not None:
                object.__setattr__(self, "checkpoint", Path(self.checkpoint))
            if self.network not in ("xmem", "tiny"):
                raise ValueError(f"network must be 'xmem' or 'tiny', got {self.network!r}")
            if self.size == 0 or self.size < -1:
                raise ValueError(f"size must be a positive number of pixels or -1, got {self.size}")
            for option in ("mem_every", "top_k", "min_working_frames", "num_prototypes"):
                if getattr(self, option) < 1:
                    raise ValueError(f"{option} must be at least 1, got {getattr(self, option)}")
            if self.max_working_frames <= self.min_working_frames:
                raise ValueError(
                    f"max_working_frames ({self.max_working_frames}) must exceed "
                    f"min_working_frames ({self.min_working_frames})"
                )
            if self.max_long_term_elements <= self.num_prototypes:
                raise ValueError(
                    f"max_long_term_elements ({self.max_long_term_elements}) must exceed "
                    f"num_prototypes ({self.num_prototypes})"
                )

    def __init__(self, config: Any = None, /, **options: Any) -> None:
        super().__init__(config, **options)
        checkpoint = self.config.checkpoint
        if checkpoint is None and self.config.network == "xmem":
            raise CheckpointError(
                "propagator 'xmem' needs checkpoint=PATH to the published XMem.pth "
                "(network='tiny' builds a small random network for tests)"
            )
        if checkpoint is not None and not checkpoint.is_file():
            raise CheckpointError(f"XMem checkpoint {checkpoint} does not exist")
        self._network: XMemNetwork | None = None

    @property
    def network(self) -> XMemNetwork:
        """The network, loaded (or randomly built) on first use and moved to the device."""
        if self._network is None:
            from visa_propagate.xmem.checkpoint import load_checkpoint
            from visa_propagate.xmem.network import XMemDims, build_random_network

            if self.config.checkpoint is not None:
                network = load_checkpoint(self.config.checkpoint)
            else:
                network = build_random_network(XMemDims.tiny(), self.config.seed)
            self._network = network.to(self.device)
        return self._network

    @property
    def device(self) -> torch.device:
        import torch

        if self.config.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.config.device)

    def run_settings(self) -> RunSettings:
        """The per-run options as :class:`RunSettings`."""
        from visa_propagate.xmem.inference import RunSettings
        from visa_propagate.xmem.memory import MemorySettings

        config = self.config
        memory = MemorySettings(
            top_k=config.top_k,
            min_working_frames=config.min_working_frames,
            max_working_frames=config.max_working_frames,
            num_prototypes=config.num_prototypes,
            max_long_term_elements=config.max_long_term_elements,
            long_term=config.long_term,
        )
        return RunSettings(
            mem_every=config.mem_every, deep_update_every=config.deep_update_every, memory=memory
        )

    def stream(
        self,
        video: Video,
        prompts: Mapping[int, np.ndarray],
        *,
        decoder: FrameDecoder | None = None,
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(t, bool[N, H, W])`` for every frame: key frame onwards, then backwards.

        ``decoder`` is not used (XMem segments from its memory). Key frames yield a copy of
        their prompt.
        """
        num_objects = check_prompts(self.name, video, prompts)
        prompts = {int(t): masks for t, masks in prompts.items()}
        first = min(prompts)
        active = np.flatnonzero(np.any([masks.any(axis=(1, 2)) for masks in prompts.values()], axis=0))
        forward = range(first, len(video))
        backward = range(first, -1, -1)
        if active.size == 0:
            empty = np.zeros((num_objects, *video.size), dtype=bool)
            for t in [*forward, *backward[1:]]:
                yield t, prompts[t].copy() if t in prompts else empty.copy()
            return
        yield from self._run(video, prompts, forward, active, num_objects)
        if len(backward) > 1:
            yield from self._run(
                video, {first: prompts[first]}, backward, active, num_objects, skip_first=True
            )

    def _run(
        self,
        video: Video,
        prompts: Mapping[int, np.ndarray],
        order: range,
        active: np.ndarray,
        num_objects: int,
        skip_first: bool = False,
    ) -> Iterator[tuple[int, np.ndarray]]:
        """One XMem run over the frames in ``order`` (the first one is a key frame)."""
        import torch

        from visa_propagate.xmem.frames import (
            frame_to_tensor,
            masks_to_tensor,
            probabilities_to_masks,
            processing_size,
        )
        from visa_propagate.xmem.inference import PropagationRun

        network, device = self.network, self.device
        height, width = video.size
        size_hw = processing_size(height, width, self.config.size)
        run = PropagationRun(network, self.run_settings(), len(active))
        use_amp = self.config.amp and device.type == "cuda"

        def step(t: int, last: bool) -> np.ndarray | None:
            # Modes are entered per frame, never held across a yield (they are thread-global).
            amp = torch.autocast("cuda", dtype=torch.float16) if use_amp else contextlib.nullcontext()
            with torch.inference_mode(), amp:
                image = frame_to_tensor(video.frames[t], size_hw, device)
                if t in prompts:
                    run.step(image, masks_to_tensor(prompts[t][active], size_hw, device), last=last)
                    return None
                return probabilities_to_masks(run.step(image, last=last), (height, width))

        for position, t in enumerate(order):
            predicted = step(t, last=position == len(order) - 1)
            if predicted is None:
                if not (skip_first and position == 0):
                    yield t, prompts[t].copy()
                continue
            masks = np.zeros((num_objects, height, width), dtype=bool)
            masks[active] = predicted
            yield t, masks
