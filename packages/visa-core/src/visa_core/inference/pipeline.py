"""The reasoning-VOS pipeline: one VISA pass per query, then propagation to every frame.

    video + queries -> frame selector -> VISA (answer text, [SEG] masks on the target frame)
                    -> propagator (masks on every frame, both directions)

Queries whose target frames coincide are given to the propagator as the objects of one call, so a
frame is decoded (and SAM-encoded, for ``seg_token``; key-encoded, for ``xmem``) once for all of
them. Every object (each query, and each ``[SEG]`` of a query) is still propagated on its own, as
VISA ran XMem once per expression: its masks equal those of a run with that object alone, and
overlapping or nested answers keep their shared pixels. ``xmem``'s ``objects="joint"`` option
(``propagator_options={"objects": "joint"}``) instead runs the queries sharing a target frame as
one multi-object XMem run, as XMem does on a multi-object VOS benchmark: its soft aggregation
gives every pixel to at most one of them, so their masks become mutually exclusive. A
:class:`~visa_core.inference.feature_cache.FrameFeatureCache` keeps the frame tokens (CLIP +
merging + projector) and SAM embeddings of the video's recently used frames, so queries on the
same video encode each frame once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from visa_core.inference.feature_cache import DEFAULT_MAX_FRAMES, FrameFeatureCache
from visa_core.inference.queries import check_query
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
        cached_frames: int = DEFAULT_MAX_FRAMES,
    ) -> None:
        self.model = model
        self.processor = processor
        self.selector = selector
        self.propagator = propagator
        self.max_new_tokens = max_new_tokens
        self.forced_answer = forced_answer
        """When set, every query's answer is teacher-forced to this text (as the original evaluation did)."""
        self.features = FrameFeatureCache(model, processor, cached_frames) if cached_frames > 0 else None
        """Frame tokens and SAM embeddings of the current video's last ``cached_frames`` frames,
        shared by every query on it (None when ``cached_frames`` is 0)."""

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
        cached_frames: int = DEFAULT_MAX_FRAMES,
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
            cached_frames=cached_frames,
        )

    def answer(self, video: Video, query: Query, answer: str | None = None) -> QueryResult:
        """Select frames and run the model once for ``query``.

        ``answer`` (or the pipeline's ``forced_answer``) teacher-forces the answer text. With the
        feature cache, frames already encoded for an earlier query on ``video`` are not encoded again.
        """
        import torch

        check_query(
            query.text, self.model, self.processor, max_new_tokens=self.max_new_tokens,
            label=f"query {query.query_id!r}",
        )  # fmt: skip
        selection = self.selector.select(video, query).check(len(video))
        reference_indices = list(selection.references) or [selection.target]
        target = video.frames[selection.target]
        cached: dict[str, Any] = {}
        with torch.inference_mode():
            if self.features is not None:
                shown = [*(reference_indices if self.processor.shows_references else []), selection.target]
                cached = {
                    "frame_tokens": self.features.frame_tokens(video, shown),
                    "target_embedding": self.features.lazy_sam_embedding(video, selection.target),
                }
                references: Sequence[np.ndarray] = _LazyFrames(video, reference_indices)
            else:
                references = [video.frames[i] for i in reference_indices]
            output = self.model.segment(
                self.processor,
                references,
                target,
                query.text,
                max_new_tokens=self.max_new_tokens,
                answer=answer if answer is not None else self.forced_answer,
                **cached,
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
        has a target; results without ``[SEG]`` yield nothing (their answer says so). Results with
        the same target frame share one propagator call; each of their objects is propagated
        independently unless the propagator was built with a joint option (see the module doc).
        """
        import torch

        from visa_core.inference.seg_decoder import SegEmbeddingDecoder

        tracked = self.features.tracking(video) if self.features is not None else video
        by_keyframe: dict[int, list[int]] = {}
        for index, result in enumerate(results):
            if result.has_target:
                by_keyframe.setdefault(result.selection.target, []).append(index)
        for keyframe, members in sorted(by_keyframe.items()):
            counts = [results[i].keyframe_logits.shape[0] for i in members]
            prompts = {keyframe: np.concatenate([results[i].keyframe_masks for i in members])}
            decoder = SegEmbeddingDecoder(
                self.model,
                self.processor,
                torch.cat([results[i].seg_embeddings for i in members]),
                features=self.features,
            )
            bounds = np.cumsum([0, *counts])
            for frame_index, masks in self.propagator.stream(tracked, prompts, decoder=decoder):
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


class _LazyFrames(Sequence[np.ndarray]):
    """Frames ``indices`` of ``video``, decoded only when read (the model just counts them when
    their tokens come from the feature cache)."""

    def __init__(self, video: Video, indices: Sequence[int]) -> None:
        self.video, self.indices = video, list(indices)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, position):  # type: ignore[override]
        if isinstance(position, slice):
            return [self.video.frames[i] for i in self.indices[position]]
        return self.video.frames[self.indices[position]]
