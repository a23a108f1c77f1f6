"""The reasoning-VOS pipeline: one VISA pass per query, then propagation to every frame.

    video + queries -> frame selector -> VISA (answer text, [SEG] masks on the target frame)
                    -> propagator (masks on every frame, both directions)

Queries whose target frames coincide are propagated together as the objects of one pass, so a
frame is decoded (and SAM-encoded, for ``seg_token``) once for all of them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from visa_core.interfaces import FrameSelector, Propagator
from visa_core.plugins import build
from visa_core.types import FrameSelection, Query
from visa_core.video import Video


@dataclass(frozen=True)
class QueryResult:
    """The model's answer to one query.

    Attributes:
        query: the query.
        answer: the generated text.
        selection: the target and reference frames the model saw.
        keyframe_logits: ``float32[N, H, W]`` mask logits on the target frame, one per ``[SEG]``
            in the answer (``N = 0`` when the answer has none).
        seg_embeddings: ``float[N, 256]`` projected ``[SEG]`` embeddings (torch), or None.
    """

    query: Query
    answer: str
    selection: FrameSelection
    keyframe_logits: np.ndarray
    seg_embeddings: Any

    @property
    def has_target(self) -> bool:
        """Whether the answer contained at least one ``[SEG]``."""
        return self.keyframe_logits.shape[0] > 0

    @property
    def keyframe_masks(self) -> np.ndarray:
        """``bool[N, H, W]`` on the target frame."""
        return self.keyframe_logits > 0


class VisaPipeline:
    """Segment the objects that free-form queries ask about, in every frame of a video."""

    def __init__(
        self,
        model: Any,
        processor: Any,
        selector: FrameSelector,
        propagator: Propagator,
        *,
        max_new_tokens: int = 64,
        forced_answer: str | None = None,
    ) -> None:
        self.model = model
        self.processor = processor
        self.selector = selector
        self.propagator = propagator
        self.max_new_tokens = max_new_tokens
        self.forced_answer = forced_answer
        """When set, every query's answer is teacher-forced to this text (as the original evaluation did)."""

    @classmethod
    def from_pretrained(
        cls,
        model_dir: str | Path,
        *,
        selector: str = "uniform",
        selector_options: dict[str, Any] | None = None,
        propagator: str = "seg_token",
        propagator_options: dict[str, Any] | None = None,
        device: str = "cpu",
        dtype: str = "float32",
        quantization: str | None = None,
        max_new_tokens: int = 64,
        forced_answer: str | None = None,
    ) -> VisaPipeline:
        """Load a VISA model folder and build the selector and propagator by registered name."""
        from visa_core.inference.loading import load_model

        model, processor = load_model(model_dir, device=device, dtype=dtype, quantization=quantization)
        return cls(
            model,
            processor,
            build("frame_selector", selector, **(selector_options or {})),
            build("propagator", propagator, **(propagator_options or {})),
            max_new_tokens=max_new_tokens,
            forced_answer=forced_answer,
        )

    def answer(self, video: Video, query: Query, answer: str | None = None) -> QueryResult:
        """Select frames and run the model once for ``query``.

        ``answer`` (or the pipeline's ``forced_answer``) teacher-forces the answer text.
        """
        import torch

        selection = self.selector.select(video, query).check(len(video))
        references = [video.frames[i] for i in selection.references] or [video.frames[selection.target]]
        with torch.inference_mode():
            output = self.model.segment(
                self.processor,
                references,
                video.frames[selection.target],
                query.text,
                max_new_tokens=self.max_new_tokens,
                answer=answer if answer is not None else self.forced_answer,
            )
        return QueryResult(
            query=query,
            answer=output.answer,
            selection=selection,
            keyframe_logits=np.asarray(output.mask_logits, dtype=np.float32),
            seg_embeddings=output.seg_embeddings if output.has_seg else None,
        )

    def track(self, video: Video, results: Sequence[QueryResult]) -> Iterator[tuple[int, int, np.ndarray]]:
        """Propagate every result with a target to all frames.

        Yields ``(result_index, frame_index, bool[N, H, W])`` once per frame for each result that
        has a target; results without ``[SEG]`` yield nothing (their answer says so).
        """
        import torch

        from visa_core.inference.seg_decoder import SegEmbeddingDecoder

        by_keyframe: dict[int, list[int]] = {}
        for index, result in enumerate(results):
            if result.has_target:
                by_keyframe.setdefault(result.selection.target, []).append(index)
        for keyframe, members in sorted(by_keyframe.items()):
            counts = [results[i].keyframe_logits.shape[0] for i in members]
            prompts = {keyframe: np.concatenate([results[i].keyframe_masks for i in members])}
            decoder = SegEmbeddingDecoder(
                self.model, self.processor, torch.cat([results[i].seg_embeddings for i in members])
            )
            bounds = np.cumsum([0, *counts])
            for frame_index, masks in self.propagator.stream(video, prompts, decoder=decoder):
                for slot, member in enumerate(members):
                    yield member, frame_index, masks[bounds[slot] : bounds[slot + 1]]

    def __call__(self, video: Video, query: Query | str) -> tuple[QueryResult, np.ndarray]:
        """Answer one query and collect its masks ``bool[N, T, H, W]`` (short videos; see :meth:`track`)."""
        if isinstance(query, str):
            query = Query(text=query)
        result = self.answer(video, query)
        masks = np.zeros((result.keyframe_logits.shape[0], len(video), *video.size), dtype=bool)
        for _, frame_index, frame_masks in self.track(video, [result]):
            masks[:, frame_index] = frame_masks
        return result, masks
