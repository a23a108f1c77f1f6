"""VisaPipeline.track with XMem: every query and [SEG] object on its own, as VISA ran XMem per expression."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest
import torch

from visa_core.inference import VisaPipeline
from visa_core.inference.pipeline import QueryResult
from visa_core.interfaces import FrameSelector
from visa_core.types import FrameSelection, Query
from visa_core.video import Video

xmem = pytest.importorskip("visa_propagate.xmem")

TARGET, OTHER_TARGET = 3, 5


class NoSelector(FrameSelector):
    """Never asked: the tests build the query results themselves."""

    name: ClassVar[str] = "unused"

    def select(self, video: Video, query: Query) -> FrameSelection:
        raise AssertionError("track() does not select frames")


def rectangle(size: tuple[int, int], top: int, left: int, bottom: int, right: int) -> np.ndarray:
    mask = np.zeros(size, dtype=bool)
    mask[top:bottom, left:right] = True
    return mask


def result(query_id: str, target: int, masks: np.ndarray) -> QueryResult:
    """A result whose key-frame masks are ``masks`` (``bool[N, H, W]``)."""
    return QueryResult(
        query=Query(f"query {query_id}", query_id),
        answer=" ".join(["[SEG]"] * len(masks)),
        selection=FrameSelection(target=target, references=(target,)),
        keyframe_logits=np.where(masks, 1.0, -1.0).astype(np.float32),
        seg_embeddings=torch.zeros(len(masks), 256),
    )


def nested_and_overlapping(video: Video) -> list[QueryResult]:
    """Query ``a`` (a big box) and ``b`` (a box nested in it) share the target frame; ``c`` has two
    ``[SEG]`` objects that overlap each other and ``a``'s box, on another target frame."""
    size = video.size
    big = rectangle(size, 8, 10, 40, 50)
    nested = rectangle(size, 16, 20, 30, 36)
    left, right = rectangle(size, 4, 4, 28, 30), rectangle(size, 10, 22, 36, 58)
    return [
        result("a", TARGET, big[None]),
        result("b", TARGET, nested[None]),
        result("c", OTHER_TARGET, np.stack([left, right])),
    ]


def tracked_masks(pipeline: VisaPipeline, video: Video, results: list[QueryResult]) -> list[np.ndarray]:
    """``bool[N, T, H, W]`` per result from :meth:`VisaPipeline.track`."""
    masks = [np.zeros((r.keyframe_logits.shape[0], len(video), *video.size), dtype=bool) for r in results]
    for index, frame, frame_masks in pipeline.track(video, results):
        masks[index][:, frame] = frame_masks
    return masks


def propagator(**options) -> xmem.XMemPropagator:
    return xmem.XMemPropagator(network="tiny", size=-1, device="cpu", **options)


def test_every_object_is_tracked_as_if_alone_and_keeps_shared_pixels(model_and_processor, video) -> None:
    model, processor = model_and_processor
    results = nested_and_overlapping(video)
    pipeline = VisaPipeline(model, processor, NoSelector(), propagator())
    tracked = tracked_masks(pipeline, video, results)
    for r, masks in zip(results, tracked, strict=True):
        for obj, prompt in enumerate(r.keyframe_masks):
            alone = propagator().propagate(video, {r.selection.target: prompt[None]}).masks[0]
            assert np.array_equal(masks[obj], alone), f"query {r.query.query_id} object {obj}"
    a, b, c = tracked
    assert (a[0] & b[0]).any(axis=(1, 2)).all(), "the nested query lost its shared pixels"
    assert (c[0] & c[1]).any(), "the two [SEG] objects of one query lost their shared pixels"


def test_joint_option_makes_the_queries_of_a_target_frame_exclusive(model_and_processor, video) -> None:
    model, processor = model_and_processor
    results = nested_and_overlapping(video)
    pipeline = VisaPipeline(model, processor, NoSelector(), propagator(objects="joint"))
    a, b, c = tracked_masks(pipeline, video, results)
    assert not (a[0] & b[0]).any()
    assert not (c[0] & c[1]).any()
