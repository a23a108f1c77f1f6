"""The ``sam2`` propagator: SAM 2 video (transformers ``Sam2VideoModel``) from a local checkpoint."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from visa_core import CheckpointError, FrameDecoder, Propagator, Video
from visa_core.components.propagation_prompts import check_prompts

DTYPES = ("float32", "float16", "bfloat16")
PROGRESS_MIN_FRAMES = 100
"""Videos at least this long show a progress bar."""


class Sam2Propagator(Propagator):
    """SAM 2: key-frame masks as mask prompts, a forward pass to the end, then a reverse pass to
    frame 0 (key frames counted once and returned as given); all objects in one session."""

    name: ClassVar[str] = "sam2"

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Config:
        """``checkpoint``: a folder written by ``Sam2VideoModel.save_pretrained`` (e.g. a copy of
        ``facebook/sam2.1-hiera-tiny``); ``memory_window``: tracked frames kept around the current
        one (default: the model's reach, ``max(num_maskmem, max_object_pointers_in_encoder)``)."""

        checkpoint: Path
        device: str = "cpu"
        dtype: str = "float32"
        memory_window: int | None = None

        def __post_init__(self) -> None:
            if self.dtype not in DTYPES:
                raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")
            if self.memory_window is not None and self.memory_window < 1:
                raise ValueError(f"memory_window must be at least 1, got {self.memory_window}")

    def __init__(self, config: Any = None, /, **options: Any) -> None:
        super().__init__(config, **options)
        if not (Path(self.config.checkpoint) / "config.json").is_file():
            raise CheckpointError(
                f"propagator 'sam2': {self.config.checkpoint} is not a Sam2VideoModel folder (no config.json)"
            )
        self._model: Any = None

    @property
    def model(self) -> Any:
        """The ``Sam2VideoModel`` (loaded on first use, in eval mode on ``device``)."""
        if self._model is None:
            import torch
            from transformers import Sam2VideoModel

            try:
                model = Sam2VideoModel.from_pretrained(self.config.checkpoint)
            except (OSError, ValueError, RuntimeError) as error:
                raise CheckpointError(
                    f"propagator 'sam2': cannot load a Sam2VideoModel from {self.config.checkpoint}: {error}"
                ) from error
            self._model = model.to(self.config.device, getattr(torch, self.config.dtype)).eval()
        return self._model

    def memory_window(self) -> int:
        """How many frames back the model's memory reaches (tracked outputs kept per pass)."""
        if self.config.memory_window is not None:
            return self.config.memory_window
        config = self.model.config
        return max(config.num_maskmem, config.max_object_pointers_in_encoder)

    def stream(
        self,
        video: Video,
        prompts: Mapping[int, np.ndarray],
        *,
        decoder: FrameDecoder | None = None,
    ) -> Iterator[tuple[int, np.ndarray]]:
        from tqdm.auto import tqdm

        check_prompts(self.name, video, prompts)
        tracker = _Sam2Tracker(self, video)
        key_frames = sorted(prompts)
        progress = tqdm(
            total=len(video), desc=f"sam2 {video.video_id}", disable=len(video) < PROGRESS_MIN_FRAMES
        )
        with progress:
            for index in key_frames:
                tracker.condition(index, prompts[index])
                progress.update()
                yield index, prompts[index].copy()
            start = key_frames[0]
            passes = ((range(start + 1, len(video)), False), (range(start - 1, -1, -1), True))
            for frames, reverse in passes:
                for index in frames:
                    if index in prompts:
                        continue
                    masks = tracker.track(index, reverse)
                    progress.update()
                    yield index, masks
                tracker.end_pass()


class _Sam2Tracker:
    """One propagation run: a bounded session fed frame by frame (imports torch on creation)."""

    def __init__(self, propagator: Sam2Propagator, video: Video) -> None:
        import torch

        from visa_propagate.sam2.session import BoundedSam2Session

        self.model = propagator.model
        self.video = video
        image_size = self.model.config.image_size
        self.input_size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
        self.window = propagator.memory_window()
        self.key_frames: list[int] = []
        height, width = video.size
        self.session = BoundedSam2Session(
            len(video),
            video_height=height,
            video_width=width,
            inference_device=propagator.config.device,
            inference_state_device=propagator.config.device,
            video_storage_device=propagator.config.device,
            dtype=getattr(torch, propagator.config.dtype),
        )

    def condition(self, index: int, masks: np.ndarray) -> None:
        """Add ``bool[N, H, W]`` key-frame masks as prompts of objects 0..N-1 on frame ``index``."""
        from visa_propagate.sam2.preprocess import mask_to_input

        for obj_id, mask in enumerate(masks):
            obj_idx = self.session.obj_id_to_idx(obj_id)
            self.session.add_mask_inputs(obj_idx, index, mask_to_input(mask, self.input_size))
        self.session.obj_with_new_inputs = list(range(len(masks)))
        self.key_frames.append(index)
        self._run(index, reverse=False)

    def track(self, index: int, reverse: bool) -> np.ndarray:
        """Masks ``bool[N, H, W]`` of frame ``index`` from the memory of the frames before it
        (after it when ``reverse``)."""
        from visa_propagate.sam2.preprocess import logits_to_masks

        logits = self._run(index, reverse)
        step = 1 if reverse else -1
        self.session.forget_tracked_frame(index + step * self.window, self._near_key_frame)
        return logits_to_masks(logits, self.input_size, self.video.size)

    def end_pass(self) -> None:
        """Forget every tracked output of the finished pass except those next to a key frame."""
        for index in self.session.stored_frames():
            self.session.forget_tracked_frame(index, self._near_key_frame)

    def _near_key_frame(self, index: int) -> bool:
        # outputs next to a key frame feed the memory of the other pass's first frames
        return any(abs(index - key) < self.window for key in self.key_frames)

    def _run(self, index: int, reverse: bool) -> Any:
        from visa_propagate.sam2.preprocess import frame_to_pixels

        self.session.add_new_frame(frame_to_pixels(self.video.frames[index], self.input_size), index)
        output = self.model(inference_session=self.session, frame_idx=index, reverse=reverse)
        self.session.drop_frame(index)
        return output.pred_masks
