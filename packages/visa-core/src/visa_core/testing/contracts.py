"""Contract test classes: every implementation of a component kind must pass its contract.

Each class is a pytest test class to subclass; it names the fixture the subclass provides.
"""

from __future__ import annotations

import pickle
from typing import Any, ClassVar

import numpy as np
import pytest

from visa_core.interfaces import DatasetLoader, FrameSelector, Metric, Propagator
from visa_core.plugins import get_plugins
from visa_core.testing.synthetic import moving_squares
from visa_core.types import Query, Sample
from visa_core.video import Video


class _RegisteredContract:
    kind: ClassVar[str]
    component_name: ClassVar[str]

    def test_registered_under_its_name(self) -> None:
        registry = get_plugins().registry(self.kind)
        assert self.component_name in registry.names()


class DatasetLoaderContract(_RegisteredContract):
    """Provide a fixture ``dataset``: a built loader over a tiny tree in the published format."""

    kind = "dataset"

    def test_is_a_dataset_loader(self, dataset: DatasetLoader) -> None:
        assert isinstance(dataset, DatasetLoader)
        assert dataset.name == self.component_name

    def test_has_samples(self, dataset: DatasetLoader) -> None:
        assert len(dataset) > 0

    def test_samples_have_the_documented_shapes(self, dataset: DatasetLoader) -> None:
        for index in range(min(len(dataset), 4)):
            sample = dataset[index]
            assert isinstance(sample, Sample)
            if sample.video is None:
                assert dataset.task == "conversation", "only conversation datasets have samples without video"
                assert sample.conversation, "a language-only sample must have its turns"
                continue
            num_frames = len(sample.video)
            assert num_frames >= 1
            assert len(sample.video.frame_ids) == num_frames
            assert len(set(sample.video.frame_ids)) == num_frames
            frame = sample.video.frames[0]
            assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
            assert tuple(frame.shape[:2]) == tuple(sample.video.size)
            if dataset.task != "conversation":
                assert sample.query is not None and sample.query.text.strip()
            if sample.masks is not None:
                assert sample.masks.dtype == np.bool_
                assert sample.masks.shape[1:] == (num_frames, *sample.video.size)
                assert sample.annotated is not None and sample.annotated.shape == (num_frames,)
                assert not sample.masks[:, ~sample.annotated].any()
            if dataset.task == "conversation":
                assert sample.conversation, "conversation datasets must return their turns"

    def test_same_index_gives_the_same_sample(self, dataset: DatasetLoader) -> None:
        first, second = dataset[0], dataset[0]
        assert first.query == second.query
        assert first.conversation == second.conversation
        assert (first.video is None) == (second.video is None)
        if first.video is not None and second.video is not None:
            assert list(first.video.frame_ids) == list(second.video.frame_ids)
        if first.masks is not None:
            assert second.masks is not None and np.array_equal(first.masks, second.masks)

    def test_queries_by_video_lists_every_query_in_sample_order(self, dataset: DatasetLoader) -> None:
        listed = [
            (video.video_id, tuple(video.frame_ids), query)
            for video, queries in dataset.queries_by_video()
            for query in queries
        ]
        from_samples = [
            (s.video.video_id, tuple(s.video.frame_ids), s.query) for s in dataset if s.query is not None
        ]
        assert listed == from_samples

    def test_same_video_samples_include_the_sample_and_share_its_video(self, dataset: DatasetLoader) -> None:
        for index in range(min(len(dataset), 4)):
            group = dataset.same_video_samples(index)
            assert index in group
            video = dataset[index].video
            if video is None:  # a language-only conversation shares no frames
                assert list(group) == [index]
                continue
            assert all(getattr(dataset[i].video, "video_id", None) == video.video_id for i in group)

    def test_picklable_for_dataloader_workers(self, dataset: DatasetLoader) -> None:
        clone = pickle.loads(pickle.dumps(dataset))
        assert len(clone) == len(dataset)
        assert clone[0].query == dataset[0].query and clone[0].conversation == dataset[0].conversation
        original, copied = dataset[0].video, clone[0].video
        assert (original is None) == (copied is None)
        if original is not None and copied is not None:
            assert np.array_equal(copied.frames[0], original.frames[0])


class FrameSelectorContract(_RegisteredContract):
    """Provide a fixture ``selector``: a built frame selector (tiny models only)."""

    kind = "frame_selector"
    query = Query(text="the square that moves right", query_id="q0", kind="referring")

    def test_selection_is_in_range_sorted_and_unique(self, selector: FrameSelector) -> None:
        video, _ = moving_squares(num_frames=13)
        selection = selector.select(video, self.query)
        selection.check(len(video))
        assert list(selection.references) == sorted(set(selection.references))

    def test_deterministic(self, selector: FrameSelector) -> None:
        video, _ = moving_squares(num_frames=9)
        first, second = selector.select(video, self.query), selector.select(video, self.query)
        assert (first.target, first.references) == (second.target, second.references)

    def test_one_frame_video(self, selector: FrameSelector) -> None:
        video, _ = moving_squares(num_frames=1)
        selection = selector.select(video, self.query)
        assert selection.target == 0
        assert set(selection.references) <= {0}


class PropagatorContract(_RegisteredContract):
    """Provide a fixture ``propagator``; optionally override ``decoder`` (a FrameDecoder or None)."""

    kind = "propagator"

    @pytest.fixture
    def decoder(self) -> Any:
        return None

    def _run(self, propagator: Propagator, decoder: Any, video: Video, prompts: dict[int, np.ndarray]):
        return propagator.propagate(video, prompts, decoder=decoder)

    def test_every_frame_both_directions(self, propagator: Propagator, decoder: Any) -> None:
        video, masks = moving_squares(num_frames=6, height=32, width=48, num_objects=2)
        key = 3
        prompt = masks[:, key].copy()
        result = self._run(propagator, decoder, video, {key: prompt})
        assert result.masks.dtype == np.bool_
        assert result.masks.shape == (2, 6, 32, 48)
        assert result.masks[:, :key].any(axis=(2, 3)).all(), "frames before the key frame are empty"
        assert result.masks[:, key + 1 :].any(axis=(2, 3)).all(), "frames after the key frame are empty"

    def test_prompt_is_preserved_and_untouched(self, propagator: Propagator, decoder: Any) -> None:
        video, masks = moving_squares(num_frames=5, num_objects=1)
        prompt = masks[:, 2].copy()
        before = prompt.copy()
        result = self._run(propagator, decoder, video, {2: prompt})
        assert np.array_equal(prompt, before), "the propagator modified its input"
        iou = (result.masks[0, 2] & prompt[0]).sum() / max(1, (result.masks[0, 2] | prompt[0]).sum())
        assert iou > 0.9, f"key-frame mask not preserved (IoU {iou:.3f})"

    def test_stream_yields_each_frame_once(self, propagator: Propagator, decoder: Any) -> None:
        video, masks = moving_squares(num_frames=4, num_objects=1)
        indices = [index for index, _ in propagator.stream(video, {0: masks[:, 0]}, decoder=decoder)]
        assert sorted(indices) == list(range(4))


class MetricContract(_RegisteredContract):
    """Provide a fixture ``metric``; ``extras`` (default None) is passed to every update.

    ``perfect_keys`` lists the result keys that equal 1.0 for a perfect prediction.
    """

    kind = "metric"
    perfect_keys: ClassVar[tuple[str, ...]] = ()

    @pytest.fixture
    def extras(self) -> Any:
        return None

    def _pairs(self) -> list[tuple[np.ndarray, np.ndarray]]:
        _, masks = moving_squares(num_frames=4, height=24, width=30, num_objects=2)
        shifted = np.roll(masks, 2, axis=3)
        return [(masks[0], masks[0]), (shifted[1], masks[1]), (masks[0] | masks[1], masks[1])]

    def test_perfect_prediction(self, metric: Metric, extras: Any) -> None:
        pred, target = self._pairs()[0]
        metric.update(pred, target, key="perfect", extras=extras)
        result = metric.compute()
        for key in self.perfect_keys:
            assert result[key] == pytest.approx(1.0), key

    def test_results_are_finite_floats(self, metric: Metric, extras: Any) -> None:
        for i, (pred, target) in enumerate(self._pairs()):
            metric.update(pred, target, key=f"q{i}", extras=extras)
        result = metric.compute()
        assert result and all(isinstance(v, float) and np.isfinite(v) for v in result.values())

    def test_order_independent_and_mergeable(self, metric: Metric, extras: Any) -> None:
        pairs = self._pairs()
        for i, (pred, target) in enumerate(pairs):
            metric.update(pred, target, key=f"q{i}", extras=extras)
        expected = metric.compute()
        reverse = type(metric)(metric.config)
        for i in reversed(range(len(pairs))):
            reverse.update(*pairs[i], key=f"q{i}", extras=extras)
        assert reverse.compute() == pytest.approx(expected)
        first, second = type(metric)(metric.config), type(metric)(metric.config)
        first.update(*pairs[0], key="q0", extras=extras)
        for i in range(1, len(pairs)):
            second.update(*pairs[i], key=f"q{i}", extras=extras)
        first.merge(second)
        assert first.compute() == pytest.approx(expected)

    def test_reset_forgets(self, metric: Metric, extras: Any) -> None:
        pred, target = self._pairs()[1]
        metric.update(pred, target, key="q", extras=extras)
        metric.reset()
        perfect_pred, perfect_target = self._pairs()[0]
        metric.update(perfect_pred, perfect_target, key="p", extras=extras)
        for key in self.perfect_keys:
            assert metric.compute()[key] == pytest.approx(1.0)
