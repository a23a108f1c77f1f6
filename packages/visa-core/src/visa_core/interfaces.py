"""The interfaces of the five pluggable component kinds.

Each is a small abstract class with one job. Implementations set ``name`` (the registered name),
declare their options in a nested frozen ``Config`` dataclass, and keep heavy imports (torch,
transformers, decoders) inside methods so that registering them stays cheap.
"""

from __future__ import annotations

import argparse
import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol

import numpy as np

from visa_core.component import Component
from visa_core.types import FrameSelection, PropagationResult, Query, Sample
from visa_core.video import Video

DatasetTask = Literal["video_segmentation", "image_segmentation", "conversation"]


class DatasetLoader(Component, ABC):
    """A dataset on disk in its published layout, read as :class:`~visa_core.Sample` items.

    Loaders return raw frames (lazily decoded), masks, queries and conversations: no resizing,
    normalisation, tokenisation or prompt templates. They never write into the dataset folder and
    must be picklable (DataLoader workers).
    """

    kind: ClassVar[str] = "dataset"
    task: ClassVar[DatasetTask] = "video_segmentation"

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Config:
        """``root``: the dataset folder; ``split``: which split to read."""

        root: Path
        split: str = "train"

    @abstractmethod
    def __len__(self) -> int:
        """Number of samples (one per expression for video datasets)."""

    @abstractmethod
    def __getitem__(self, index: int) -> Sample:
        """The ``index``-th sample; the same index always gives the same sample."""

    def __iter__(self) -> Iterator[Sample]:
        return (self[i] for i in range(len(self)))

    def same_video_samples(self, index: int) -> Sequence[int]:
        """Indices of the samples that show the same video as sample ``index`` (itself included),
        for training examples that ask several questions about one clip. This default knows only
        ``index``; loaders with several queries per video override it."""
        return (index,)

    def queries_by_video(self) -> Iterator[tuple[Video, list[Query]]]:
        """Each video with the queries of its consecutive samples, for inference (masks unused).

        This default reads every sample; a loader that can list its queries without decoding
        masks should override it.
        """
        video: Video | None = None
        queries: list[Query] = []
        for sample in self:
            if sample.query is None:
                continue
            if video is not None and sample.video.video_id != video.video_id:
                yield video, queries
                queries = []
            video = sample.video
            queries.append(sample.query)
        if video is not None:
            yield video, queries


class FrameSelector(Component, ABC):
    """Chooses the target frame and the reference frames for a query. Never sees masks."""

    kind: ClassVar[str] = "frame_selector"

    @abstractmethod
    def select(self, video: Video, query: Query) -> FrameSelection:
        """A selection whose indices lie in ``[0, len(video))``; deterministic for a given seed."""


class FrameDecoder(Protocol):
    """Segments one frame with prompts fixed in advance (e.g. VISA's projected ``[SEG]`` tokens)."""

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        """``uint8[H, W, 3]`` -> mask logits ``float32[N, H, W]`` at the frame's resolution."""
        ...


class Propagator(Component, ABC):
    """Carries key-frame masks to every frame of a video, forward and backward."""

    kind: ClassVar[str] = "propagator"

    @abstractmethod
    def stream(
        self,
        video: Video,
        prompts: Mapping[int, np.ndarray],
        *,
        decoder: FrameDecoder | None = None,
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(frame_index, bool[N, H, W])`` once for every frame of ``video``, in any order.

        Each of the ``N`` objects is propagated as if it were alone (its masks do not depend on the
        other objects'), so callers may batch unrelated queries; a propagator may offer joint
        propagation only as an explicit, documented option (``xmem``'s ``objects="joint"``).

        Args:
            video: the frames, read one at a time (memory must not grow with the video's length).
            prompts: key frame index -> ``bool[N, H, W]`` masks; every entry has the same ``N``
                objects in the same order. Not modified.
            decoder: optional per-frame decoder for propagators that re-segment every frame.
        """

    def propagate(
        self,
        video: Video,
        prompts: Mapping[int, np.ndarray],
        *,
        decoder: FrameDecoder | None = None,
    ) -> PropagationResult:
        """Collect :meth:`stream` into ``bool[N, T, H, W]`` (for short videos and tests)."""
        if not prompts:
            raise ValueError(f"{self.name}: at least one key frame prompt is needed")
        num_objects = next(iter(prompts.values())).shape[0]
        height, width = video.size
        masks = np.zeros((num_objects, len(video), height, width), dtype=bool)
        seen = np.zeros(len(video), dtype=bool)
        for index, frame_masks in self.stream(video, prompts, decoder=decoder):
            if seen[index]:
                raise RuntimeError(f"propagator {self.name!r} produced frame {index} twice")
            masks[:, index] = frame_masks
            seen[index] = True
        if not seen.all():
            missing = np.flatnonzero(~seen).tolist()
            raise RuntimeError(f"propagator {self.name!r} produced no masks for frames {missing[:10]}")
        return PropagationResult(masks=masks)


class Metric(Component, ABC):
    """Accumulates per-query scores (torchmetrics style): ``update`` ... ``compute``."""

    kind: ClassVar[str] = "metric"

    @abstractmethod
    def update(
        self,
        pred: np.ndarray,
        target: np.ndarray,
        *,
        key: str = "",
        extras: Mapping[str, Any] | None = None,
    ) -> None:
        """Score one query: ``pred`` and ``target`` are ``bool[T, H, W]`` (union over objects)."""

    @abstractmethod
    def compute(self) -> dict[str, float]:
        """The aggregate over every update so far."""

    @abstractmethod
    def reset(self) -> None:
        """Forget every update."""

    @abstractmethod
    def merge(self, other: Metric) -> None:
        """Add the updates of ``other`` (e.g. from another process); order does not matter."""


class Command(Component, ABC):
    """A sub-command of the ``visa`` command line."""

    kind: ClassVar[str] = "command"
    help: ClassVar[str] = ""

    @classmethod
    @abstractmethod
    def configure(cls, parser: argparse.ArgumentParser) -> None:
        """Add this command's arguments to ``parser``."""

    @abstractmethod
    def run(self, args: argparse.Namespace) -> int:
        """Run the command; return the process exit status."""
