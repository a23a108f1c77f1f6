"""The ``xmem`` propagator: XMem memory propagation from the key frame, forward then backward.

As VISA ran XMem (``XMem/tracking.py``): one run from the (first) key frame to the last frame,
then a fresh run from the key frame back to frame 0. Later key frames are given to the forward
run as prompts when it reaches them. Objects whose prompts are empty stay empty everywhere
(VISA's "target absent" output).

Objects are propagated as VISA did, each in its own XMem memory (VISA gave every expression its
own folder, and XMem's evaluation a fresh ``InferenceCore``): the masks of each object equal
those of a run with that object alone, and overlapping objects keep their shared pixels. Their
runs share the decoded frames and the key encoder's output. ``objects="joint"`` runs them as one
multi-object XMem run instead (XMem on a multi-object VOS benchmark): its soft aggregation gives
every pixel to at most one object. Importing this module does not import torch.
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

ObjectMode = Literal["separate", "joint"]
KeyFrameOutput = Literal["xmem", "prompt"]


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
        ``objects``: ``separate`` (default, as VISA) gives every object its own memory;
        ``joint`` propagates all objects of a call in one memory, where soft aggregation makes
        their masks mutually exclusive. ``keyframe_output``: ``xmem`` (default, as VISA's key-frame
        PNG) returns the prompt as XMem's evaluation wrote it: nearest-neighbour resized to the
        processing size, soft-aggregated, resized back bilinearly and arg-maxed (the prompt itself
        unless frames are shrunk for processing); ``prompt`` returns the prompt unchanged.
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
        objects: ObjectMode = "separate"
        keyframe_output: KeyFrameOutput = "xmem"

        def __post_init__(self) -> None:
            if self.checkpoint is not None:
                object.__setattr__(self, "checkpoint", Path(self.checkpoint))
            if self.network not in ("xmem", "tiny"):
                raise ValueError(f"network must be 'xmem' or 'tiny', got {self.network!r}")
            if self.objects not in ("separate", "joint"):
                raise ValueError(f"objects must be 'separate' or 'joint', got {self.objects!r}")
            if self.keyframe_output not in ("xmem", "prompt"):
                raise ValueError(f"keyframe_output must be 'xmem' or 'prompt', got {self.keyframe_output!r}")
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

        ``decoder`` is not used (XMem segments from its memory). Key frames yield XMem's round
        trip of their prompt (or a copy of it, ``keyframe_output="prompt"``).
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
        groups = (
            [active] if self.config.objects == "joint" else [active[i : i + 1] for i in range(active.size)]
        )
        yield from self._run(video, prompts, forward, groups, num_objects)
        if len(backward) > 1:
            yield from self._run(
                video, {first: prompts[first]}, backward, groups, num_objects, skip_first=True
            )

    def _run(
        self,
        video: Video,
        prompts: Mapping[int, np.ndarray],
        order: range,
        groups: list[np.ndarray],
        num_objects: int,
        skip_first: bool = False,
    ) -> Iterator[tuple[int, np.ndarray]]:
        """XMem runs over the frames in ``order`` (the first one is a key frame), one per group of
        object indices in ``groups``; every frame is decoded and key-encoded once for all of them."""
        import torch

        from visa_propagate.xmem.frames import (
            frame_to_tensor,
            masks_to_tensor,
            probabilities_to_masks,
            processing_size,
        )
        from visa_propagate.xmem.inference import PropagationRun, encode_frame

        network, device = self.network, self.device
        height, width = video.size
        size_hw = processing_size(height, width, self.config.size)
        runs = [PropagationRun(network, self.run_settings(), len(group)) for group in groups]
        use_amp = self.config.amp and device.type == "cuda"

        def step(t: int, last: bool) -> np.ndarray:
            # Modes are entered per frame, never held across a yield (they are thread-global).
            amp = torch.autocast("cuda", dtype=torch.float16) if use_amp else contextlib.nullcontext()
            with torch.inference_mode(), amp:
                frame = encode_frame(network, frame_to_tensor(video.frames[t], size_hw, device))
                prompt = masks_to_tensor(prompts[t], size_hw, device) if t in prompts else None
                masks = np.zeros((num_objects, height, width), dtype=bool)
                for run, group in zip(runs, groups, strict=True):
                    group_prompt = None if prompt is None else prompt[group]
                    masks[group] = probabilities_to_masks(
                        run.step(frame, group_prompt, last=last), (height, width)
                    )
                return masks

        for position, t in enumerate(order):
            masks = step(t, last=position == len(order) - 1)
            if skip_first and position == 0:
                continue
            keep_prompt = t in prompts and self.config.keyframe_output == "prompt"
            yield t, prompts[t].copy() if keep_prompt else masks
