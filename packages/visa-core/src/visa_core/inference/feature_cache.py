"""Per-video cache of what the VISA model computes from a frame alone, reused across queries.

Two features of a frame do not depend on the query: its LLM tokens (CLIP tower, token merging,
projector: ``[tokens_per_image, H]``) and its SAM image embedding (``[1, C, h, w]``). The cache
keeps both for the most recently used ``max_frames`` frames of one video, by frame index, on the
model's device; memory is therefore bounded whatever the video's length. Binding another video
empties it.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from visa_core.video import Video

DEFAULT_MAX_FRAMES = 64
"""Frames kept by default: about 320 MB on the GPU for the real 7B model in float32
(SAM ViT-H 256x64x64 + 112x4096 LLM tokens per frame), 5 MB for the tiny one."""


@dataclass
class _Entry:
    tokens: Any = None
    sam: Any = None


@dataclass
class CacheStats:
    """Encoder calls: frames sent through CLIP (+ merging + projector) and through SAM's encoder,
    and how many frame look-ups were answered from the cache."""

    clip_frames: int = 0
    sam_frames: int = 0
    hits: int = 0


def _video_key(video: Video) -> tuple:
    """Identity of a video's content: id, length, size and a digest of its first frame."""
    digest = hashlib.blake2b(np.ascontiguousarray(video.frames[0]).tobytes(), digest_size=16).hexdigest()
    return video.video_id, len(video), tuple(video.size), digest


class FrameFeatureCache:
    """LLM frame tokens and SAM embeddings of one video's frames, least recently used evicted first.

    Args:
        model: a ``VisaForSegmentation`` (``frame_tokens`` / ``sam_image_embeddings``).
        processor: its ``VisaProcessor``.
        max_frames: frames kept (>= 1).
    """

    def __init__(self, model: Any, processor: Any, max_frames: int = DEFAULT_MAX_FRAMES) -> None:
        if max_frames < 1:
            raise ValueError(f"max_frames must be at least 1, got {max_frames}")
        self.model = model
        self.processor = processor
        self.max_frames = max_frames
        self.stats = CacheStats()
        self._entries: OrderedDict[int, _Entry] = OrderedDict()
        self._video: Video | None = None
        self._video_key: tuple | None = None
        self._recent_reads: deque[tuple[np.ndarray, int]] = deque(maxlen=4)

    def __len__(self) -> int:
        return len(self._entries)

    def bind(self, video: Video) -> None:
        """Use the cache for ``video``; a video with other content empties it first."""
        if video is self._video:
            return
        key = _video_key(video)
        if key != self._video_key:
            self.clear()
        self._video, self._video_key = video, key

    def clear(self) -> None:
        """Forget every frame."""
        self._entries.clear()
        self._recent_reads.clear()
        self._video = self._video_key = None

    def _entry(self, index: int) -> _Entry:
        entry = self._entries.get(index)
        if entry is None:
            entry = self._entries[index] = _Entry()
        self._entries.move_to_end(index)
        while len(self._entries) > self.max_frames:
            self._entries.popitem(last=False)
        return entry

    def frame_tokens(self, video: Video, indices: Sequence[int]) -> Any:
        """LLM tokens ``[len(indices), tokens_per_image, H]`` of frames ``indices`` (in that order);
        frames not cached are decoded and encoded together in one batch (each kept as its own
        copy, so an evicted frame frees its memory)."""
        import torch

        self.bind(video)
        found = {i: self._entries[i].tokens for i in set(indices) if i in self._entries}
        found = {i: t for i, t in found.items() if t is not None}
        missing = sorted(set(indices) - set(found))
        self.stats.hits += len(indices) - len(missing)
        if missing:
            encoded = self.model.frame_tokens(self.processor, [video.frames[i] for i in missing])
            self.stats.clip_frames += len(missing)
            found.update((i, tokens.clone()) for i, tokens in zip(missing, encoded, strict=True))
        for index in indices:
            self._entry(index).tokens = found[index]
        return torch.stack([found[i] for i in indices])

    def sam_embedding(self, video: Video, index: int, frame: np.ndarray | None = None) -> Any:
        """SAM embedding ``[1, C, h, w]`` of frame ``index`` (``frame`` saves decoding it again)."""
        self.bind(video)
        entry = self._entries.get(index)
        if entry is not None and entry.sam is not None:
            self.stats.hits += 1
            self._entries.move_to_end(index)
            return entry.sam
        image = video.frames[index] if frame is None else frame
        embedding = self.model.sam_image_embeddings(self.processor, image)
        self.stats.sam_frames += 1
        self._entry(index).sam = embedding
        return embedding

    def lazy_sam_embedding(self, video: Video, index: int) -> Callable[[], Any]:
        """A function computing (or fetching) :meth:`sam_embedding` when first called."""
        return lambda: self.sam_embedding(video, index)

    # ------------------------------------------------------------------ propagation
    def tracking(self, video: Video) -> Video:
        """``video`` whose frame reads are remembered, so that :meth:`sam_embedding_of` can tell
        which frame index an array handed to a ``FrameDecoder`` came from."""
        self.bind(video)
        return Video(video.video_id, _RecordedFrames(video.frames, self._recent_reads), fps=video.fps)

    def sam_embedding_of(self, frame: np.ndarray) -> Any:
        """SAM embedding of ``frame``: cached when it was just read from a :meth:`tracking` video,
        else computed without caching."""
        for recent, index in reversed(self._recent_reads):
            if recent is frame and self._video is not None:
                return self.sam_embedding(self._video, index, frame)
        self.stats.sam_frames += 1
        return self.model.sam_image_embeddings(self.processor, frame)


@dataclass
class _RecordedFrames:
    """A frame source that remembers its last reads as ``(array, index)`` pairs."""

    source: Any
    reads: deque = field(repr=False)

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, index: int) -> np.ndarray:
        frame = self.source[index]
        self.reads.append((frame, int(index) % len(self.source)))
        return frame

    @property
    def size(self) -> tuple[int, int]:
        return self.source.size

    @property
    def ids(self) -> Sequence[str]:
        return self.source.ids
