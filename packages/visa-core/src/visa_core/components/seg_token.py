"""The ``seg_token`` propagator: every frame decoded with the same prompt (VideoLISA-style)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import ClassVar

import numpy as np
from tqdm.auto import tqdm

from visa_core import FrameDecoder, Propagator, Video
from visa_core.components.propagation_prompts import PropagationInputError, check_prompts

PROGRESS_MIN_FRAMES = 100
"""Videos at least this long show a progress bar."""


class SegTokenPropagator(Propagator):
    """Runs the ``decoder`` (e.g. VISA's ``[SEG]`` embeddings through its SAM decoder) on every
    frame and keeps logits > 0; key frames keep their prompts."""

    name: ClassVar[str] = "seg_token"

    def stream(
        self,
        video: Video,
        prompts: Mapping[int, np.ndarray],
        *,
        decoder: FrameDecoder | None = None,
    ) -> Iterator[tuple[int, np.ndarray]]:
        num_objects = check_prompts(self.name, video, prompts)
        if decoder is None:
            raise PropagationInputError(
                "propagator 'seg_token' decodes every frame with the model's own mask decoder: pass "
                "decoder= (a FrameDecoder, e.g. built from the VISA model's [SEG] embeddings)"
            )
        height, width = video.size
        progress = tqdm(
            range(len(video)), desc=f"seg_token {video.video_id}", disable=len(video) < PROGRESS_MIN_FRAMES
        )
        for index in progress:
            if index in prompts:
                yield index, prompts[index].copy()
                continue
            logits = np.asarray(decoder(video.frames[index]))
            if logits.shape != (num_objects, height, width):
                raise PropagationInputError(
                    f"propagator 'seg_token': the decoder returned {list(logits.shape)} for frame {index} "
                    f"of video {video.video_id!r}, expected [{num_objects}, {height}, {width}]"
                )
            yield index, logits > 0
