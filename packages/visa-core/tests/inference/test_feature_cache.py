"""The per-video feature cache: identical outputs, each distinct frame encoded once, bounded size."""

from __future__ import annotations

from collections import Counter
from typing import ClassVar

import numpy as np
import pytest
import torch

from visa_core.inference import VisaPipeline
from visa_core.inference.feature_cache import FrameFeatureCache
from visa_core.interfaces import FrameSelector, Propagator
from visa_core.types import FrameSelection, Query
from visa_core.video import Video

SELECTIONS = {  # query id -> (target, references): overlapping frames, two distinct targets
    "a": (3, (0, 2, 3, 5)),
    "b": (3, (1, 3, 5, 7)),
    "c": (6, (0, 3, 6)),
}
QUERIES = [Query("the red square", "a"), Query("which one moves fastest?", "b"), Query("the dog", "c")]


class ScriptedSelector(FrameSelector):
    """The selection of ``SELECTIONS`` for each query id."""

    name: ClassVar[str] = "scripted"

    def select(self, video: Video, query: Query) -> FrameSelection:
        target, references = SELECTIONS[query.query_id]
        return FrameSelection(target=target, references=references)


class DecodeEveryFrame(Propagator):
    """Key frames keep their prompts; every other frame is the decoder's logits > 0 (as seg_token)."""

    name: ClassVar[str] = "decode_every_frame"

    def stream(self, video, prompts, *, decoder=None):
        for index in range(len(video)):
            yield index, prompts[index].copy() if index in prompts else decoder(video.frames[index]) > 0


class EncoderCalls:
    """Counts, per frame content, the CLIP tower's and SAM image encoder's forward passes."""

    def __init__(self, model) -> None:
        self.clip: Counter[int] = Counter()
        self.sam: Counter[int] = Counter()
        self._handles = [
            model.vision_tower.register_forward_hook(
                self._count(self.clip, "pixel_values"), with_kwargs=True
            ),
            model.sam.image_encoder.register_forward_hook(self._count(self.sam, None), with_kwargs=True),
        ]

    @staticmethod
    def _count(counter: Counter, keyword: str | None):
        def hook(_module, args, kwargs, _output):
            pixels = kwargs[keyword] if keyword else args[0]
            for image in pixels:  # a frame is known by its preprocessed pixels
                counter[image.float().cpu().numpy().tobytes()] += 1

        return hook

    def __enter__(self) -> EncoderCalls:
        return self

    def __exit__(self, *_: object) -> None:
        for handle in self._handles:
            handle.remove()


def _pipeline(model, processor, cached_frames: int) -> VisaPipeline:
    return VisaPipeline(
        model,
        processor,
        ScriptedSelector(),
        DecodeEveryFrame(),
        forced_answer="Sure, [SEG].",
        cached_frames=cached_frames,
    )


def _run(pipeline: VisaPipeline, video: Video):
    results = [pipeline.answer(video, query) for query in QUERIES]
    tracked = list(pipeline.track(video, results))
    return results, tracked


def test_outputs_are_identical_with_and_without_the_cache(model_and_processor, video):
    model, processor = model_and_processor
    plain_results, plain_tracked = _run(_pipeline(model, processor, 0), video)
    cached_results, cached_tracked = _run(_pipeline(model, processor, 16), video)
    for plain, cached in zip(plain_results, cached_results, strict=True):
        assert plain.answer == cached.answer and plain.selection == cached.selection
        assert np.array_equal(plain.keyframe_logits, cached.keyframe_logits)
        assert torch.equal(plain.seg_embeddings, cached.seg_embeddings)
    assert [(r, f) for r, f, _ in plain_tracked] == [(r, f) for r, f, _ in cached_tracked]
    for (_, _, plain), (_, _, cached) in zip(plain_tracked, cached_tracked, strict=True):
        assert np.array_equal(plain, cached)


def test_three_queries_encode_each_distinct_frame_once(model_and_processor, video):
    model, processor = model_and_processor
    shown = {i for target, references in SELECTIONS.values() for i in (*references, target)}
    targets = {target for target, _ in SELECTIONS.values()}
    with EncoderCalls(model) as uncached:
        _run(_pipeline(model, processor, 0), video)
    pipeline = _pipeline(model, processor, 16)
    with EncoderCalls(model) as cached:
        results = [pipeline.answer(video, query) for query in QUERIES]
        assert len(cached.clip) == len(shown) and set(cached.clip.values()) == {1}
        assert len(cached.sam) == len(targets) and set(cached.sam.values()) == {1}
        list(pipeline.track(video, results))
    # CLIP: 14 frames shown over 3 queries (5 + 5 + 4, the target after the references) -> 7 distinct
    assert sum(uncached.clip.values()) == 14 and sum(cached.clip.values()) == len(shown) == 7
    # SAM: every frame once (targets in answer, the rest while tracking), never again
    assert len(cached.sam) == len(video) and set(cached.sam.values()) == {1}
    assert sum(uncached.sam.values()) > len(video)
    assert pipeline.features.stats.clip_frames == 7 and pipeline.features.stats.sam_frames == len(video)


def test_the_cache_is_bounded_and_a_new_video_empties_it(model_and_processor, video):
    model, processor = model_and_processor
    cache = FrameFeatureCache(model, processor, max_frames=3)
    with torch.inference_mode():
        tokens = cache.frame_tokens(video, [0, 1, 2, 3, 4])
        assert tokens.shape == (5, model.config.tokens_per_image, model.config.hidden_size)
        assert len(cache) == 3
        cache.frame_tokens(video, [4])
        assert cache.stats.clip_frames == 5 and cache.stats.hits == 1
        cache.frame_tokens(video, [0])  # evicted: encoded again
        assert cache.stats.clip_frames == 6
        same = Video.from_array("clip", np.stack([video.frames[i] for i in range(8)]))
        cache.frame_tokens(same, [0])  # equal content in a new object: still cached
        assert cache.stats.clip_frames == 6
        other = Video.from_array("clip", np.flip(np.stack([video.frames[i] for i in range(8)]), 0).copy())
        cache.frame_tokens(other, [0])  # another video with the same id: emptied, encoded
        assert len(cache) == 1 and cache.stats.clip_frames == 7
    with pytest.raises(ValueError, match="at least 1"):
        FrameFeatureCache(model, processor, max_frames=0)


def test_segment_with_precomputed_features_matches_and_checks_the_count(model_and_processor, video):
    model, processor = model_and_processor
    frames = [video.frames[i] for i in range(4)]
    with torch.inference_mode():
        plain = model.segment(processor, frames[:3], frames[3], "the dog", answer="It is [SEG].")
        tokens = model.frame_tokens(processor, frames)
        embedding = model.sam_image_embeddings(processor, frames[3])
        reused = model.segment(
            processor,
            frames[:3],
            frames[3],
            "the dog",
            answer="It is [SEG].",
            frame_tokens=tokens,
            target_embedding=lambda: embedding,
        )
        assert np.array_equal(plain.mask_logits, reused.mask_logits)
        with pytest.raises(ValueError, match="frame_tokens holds 3 frames but the prompt shows 4"):
            model.segment(
                processor, frames[:3], frames[3], "the dog", answer="It is [SEG].", frame_tokens=tokens[:3]
            )
