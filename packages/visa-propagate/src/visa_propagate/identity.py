"""The ``identity`` propagator: every frame gets the mask of its nearest key frame (a baseline)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import ClassVar

import numpy as np

from visa_core import FrameDecoder, Propagator, Video
from visa_core.components.propagation_prompts import check_prompts, nearest_key_frame


class IdentityPropagator(Propagator):
    """Copies the nearest key frame's masks to every frame (no model; frames are not decoded)."""

    name: ClassVar[str] = "identity"

    def stream(
        self,
        video: Video,
        prompts: Mapping[int, np.ndarray],
        *,
        decoder: FrameDecoder | None = None,
    ) -> Iterator[tuple[int, np.ndarray]]:
        check_prompts(self.name, video, prompts)
        key_frames = sorted(prompts)
        for index in range(len(video)):
            yield index, prompts[nearest_key_frame(index, key_frames)].copy()
