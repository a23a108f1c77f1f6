"""Typed containers that cross package boundaries.

Conventions: frames are ``uint8`` RGB ``[H, W, 3]`` at original resolution; masks are ``bool``;
``N`` is the number of target objects (the axis is always present), ``T`` the number of frames;
frame indices are ``int`` in ``[0, T)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import numpy as np

from visa_core.video import Video

QueryKind = Literal["referring", "reasoning", "none"]
"""``referring`` and ``reasoning`` queries have a target; ``none`` queries have no target object."""


@dataclass(frozen=True)
class Query:
    """A free-form question about a video.

    ``answer`` names the target in words (``"the red circle"``) when a dataset gives it; training
    answers then say it before ``[SEG]`` (``"Sure, it is the red circle [SEG]."``).
    """

    text: str
    query_id: str = "0"
    kind: QueryKind | None = None
    answer: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in (None, "referring", "reasoning", "none"):
            raise ValueError(f"query kind must be referring, reasoning or none, got {self.kind!r}")


@dataclass(frozen=True)
class Turn:
    """One turn of a conversation: ``human`` asks, ``gpt`` answers."""

    role: Literal["human", "gpt"]
    text: str


def _check_masks(masks: np.ndarray, name: str, ndim: int) -> None:
    if not isinstance(masks, np.ndarray) or masks.dtype != np.bool_ or masks.ndim != ndim:
        got = f"{masks.dtype}{list(masks.shape)}" if isinstance(masks, np.ndarray) else type(masks)
        raise ValueError(f"{name} must be a bool array with {ndim} dimensions, got {got}")


@dataclass(frozen=True)
class Sample:
    """What a dataset loader returns for one item.

    Attributes:
        video: the frames (``T = 1`` for image datasets), lazily decoded; None for a language-only
            conversation (text turns, no frames, no query, no masks).
        query: the question, or None for pure conversation data.
        masks: ``bool[N, T, H, W]`` ground truth, or None for splits without annotations or
            conversation data. Frames whose ``annotated`` flag is False hold all-False masks.
        annotated: ``bool[T]``, which frames have ground truth (None when ``masks`` is None).
        conversation: every turn of a conversation, for instruction data.
        meta: read-only dataset-specific extras (e.g. ReVOS's video foreground ``bool[T, H, W]``).
    """

    video: Video | None
    query: Query | None = None
    masks: np.ndarray | None = None
    annotated: np.ndarray | None = None
    conversation: tuple[Turn, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.video is None and (self.query is not None or self.masks is not None or not self.conversation):
            raise ValueError(
                "a Sample without a video is a language-only conversation: it needs conversation "
                "turns and can have neither a query nor masks"
            )
        if self.masks is not None:
            assert self.video is not None  # checked above
            _check_masks(self.masks, "Sample.masks", 4)
            num_frames, size = len(self.video), self.video.size
            if self.masks.shape[1] != num_frames or tuple(self.masks.shape[2:]) != tuple(size):
                raise ValueError(
                    f"Sample.masks of video {self.video.video_id!r} is {list(self.masks.shape)} but the "
                    f"video has {num_frames} frames of {size[0]}x{size[1]} (expected [N, T, H, W])"
                )
            annotated = self.annotated
            if annotated is None:
                annotated = np.ones(num_frames, dtype=bool)
                object.__setattr__(self, "annotated", annotated)
            if annotated.dtype != np.bool_ or annotated.shape != (num_frames,):
                raise ValueError(f"Sample.annotated must be bool[{num_frames}], got {annotated.shape}")
        object.__setattr__(self, "meta", MappingProxyType(dict(self.meta)))

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            Sample,
            (self.video, self.query, self.masks, self.annotated, self.conversation, dict(self.meta)),
        )


@dataclass(frozen=True)
class FrameSelection:
    """Which frames the model sees: the target frame it segments and the reference frames.

    ``references`` are sorted and unique; they may include ``target``.
    """

    target: int
    references: tuple[int, ...]
    scores: np.ndarray | None = None
    """Optional per-frame relevance ``float32[T]`` that the selector computed."""

    def __post_init__(self) -> None:
        references = tuple(int(i) for i in self.references)
        if list(references) != sorted(set(references)):
            raise ValueError(f"references must be sorted and unique, got {references}")
        object.__setattr__(self, "references", references)
        object.__setattr__(self, "target", int(self.target))

    def check(self, num_frames: int) -> FrameSelection:
        """Raise ValueError unless every index lies in ``[0, num_frames)``; return self."""
        bad = [i for i in (self.target, *self.references) if not 0 <= i < num_frames]
        if bad:
            raise ValueError(f"frame indices {bad} out of range for a video of {num_frames} frames")
        return self


@dataclass(frozen=True)
class PropagationResult:
    """Masks for every frame: ``masks`` is ``bool[N, T, H, W]``; ``scores`` ``float32[N, T]``."""

    masks: np.ndarray
    scores: np.ndarray | None = None

    def __post_init__(self) -> None:
        _check_masks(self.masks, "PropagationResult.masks", 4)
        if self.scores is not None and self.scores.shape != self.masks.shape[:2]:
            raise ValueError(f"scores {self.scores.shape} must be [N, T] = {self.masks.shape[:2]}")
