"""The ``llamavid`` selector: VISA's text-guided frame sampler (TFS), run in-process."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from visa_core import ComponentOptionError, FrameSelection, FrameSelector, Query, Video
from visa_core.components.frame_sampling import DEFAULT_MAX_IMAGE_TOKEN, position_to_index, spread_references
from visa_frame_select.llamavid.backend import VideoQABackend
from visa_frame_select.llamavid.protocol import average_position, frame_question
from visa_frame_select.torch_options import check_dtype, torch_dtype

BACKENDS = ("transformers", "llamavid")


class LlamaVidSelector(FrameSelector):
    """Asks a video LLM N times which percentage mark shows the query; target = int(T * mean)."""

    name: ClassVar[str] = "llamavid"

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Config:
        """``backend``: "llamavid" (published LLaMA-VID weights: the folder ``model``, the EVA
        file ``vision_tower``, the BERT folder ``qformer``, optionally a CLIP ``image_processor``
        folder), "transformers" (an image-text-to-text model in the folder ``model``) or a ready
        object with ``answer(frames, question, seed) -> str``; ``repeats``: answers averaged (the
        original's 10); ``seed``: answer i is sampled with seed ``seed + i``; ``greedy``: greedy
        decoding instead of sampling (temperature 0.6, top_p 0.9); ``frames_shown``: frames given
        to the LLM, spread uniformly over the video (None: every frame, as the original)."""

        backend: Any = "transformers"
        model: Path | None = None
        vision_tower: Path | None = None
        qformer: Path | None = None
        image_processor: Path | None = None
        repeats: int = 10
        seed: int = 0
        greedy: bool = False
        frames_shown: int | None = 16
        max_new_tokens: int = 64
        device: str = "cpu"
        dtype: str = "float32"
        max_image_token: int = DEFAULT_MAX_IMAGE_TOKEN

        def __post_init__(self) -> None:
            check_dtype(self.dtype)
            if isinstance(self.backend, str):
                if self.backend not in BACKENDS:
                    raise ValueError(
                        f"backend must be one of {', '.join(BACKENDS)} or an object, got {self.backend!r}"
                    )
                needed = ["model"] + (["vision_tower", "qformer"] if self.backend == "llamavid" else [])
                absent = [name for name in needed if getattr(self, name) is None]
                if absent:
                    raise ValueError(
                        f"backend {self.backend!r} needs the option{'s' if len(absent) > 1 else ''} "
                        f"{', '.join(absent)} (local paths)"
                    )
            elif not isinstance(self.backend, VideoQABackend):
                raise ValueError(f"backend {self.backend!r} has no answer(frames, question, seed) method")
            if self.repeats < 1 or (self.frames_shown is not None and self.frames_shown < 1):
                raise ValueError("repeats and frames_shown must be at least 1")

    def __init__(self, config: Any = None, /, **options: Any) -> None:
        super().__init__(config, **options)
        self._backend: VideoQABackend | None = (
            None if isinstance(self.config.backend, str) else self.config.backend
        )

    @property
    def backend(self) -> VideoQABackend:
        """The video LLM (loaded on first use)."""
        if self._backend is None:
            self._backend = self._load_backend()
        return self._backend

    def _load_backend(self) -> VideoQABackend:
        config = self.config
        common = {
            "device": config.device,
            "dtype": torch_dtype(config.dtype),
            "max_new_tokens": config.max_new_tokens,
            "greedy": config.greedy,
        }
        if config.backend == "llamavid":
            from visa_frame_select.llamavid.llamavid_backend import LlamaVidVideoQA

            return LlamaVidVideoQA(
                config.model,
                config.vision_tower,
                config.qformer,
                image_processor=config.image_processor,
                **common,
            )
        from visa_frame_select.llamavid.transformers_backend import TransformersVideoQA

        return TransformersVideoQA(config.model, **common)

    def shown_frames(self, video: Video) -> list[int]:
        """Indices of the frames given to the LLM: ``frames_shown`` spread uniformly, in order."""
        if self.config.frames_shown is None:
            return list(range(len(video)))
        count = min(self.config.frames_shown, len(video))
        return sorted({int(i) for i in np.round(np.linspace(0, len(video) - 1, count))})

    def answers(self, video: Video, query: Query) -> list[str]:
        """The LLM's ``repeats`` answers to the original question about ``query``."""
        frames = [video.frames[i] for i in self.shown_frames(video)]
        question = frame_question(query.text)
        answers = []
        for repeat in range(self.config.repeats):
            answer = self.backend.answer(frames, question, self.config.seed + repeat)
            if not isinstance(answer, str):
                raise ComponentOptionError(
                    f"selector 'llamavid': the backend returned {type(answer).__name__}, not str"
                )
            answers.append(answer)
        return answers

    def select(self, video: Video, query: Query) -> FrameSelection:
        position = average_position(self.answers(video, query))
        target = position_to_index(position, len(video))
        references = spread_references(len(video), target, self.config.max_image_token)
        return FrameSelection(target=target, references=references)
