"""The clip sampler: which frames of a :class:`~visa_core.Sample` a training example uses.

This is the one place that decides it (the original spreads it over ``RVOSDataset``,
``ChatUniviDataset`` and the image datasets):

* video segmentation samples: ``min_frames``..``max_frames`` reference frames (one random frame
  per equal segment, or distinct random frames), the target frame a random *annotated* frame
  among them, and with probability ``absent_target_prob`` the target replaced by a frame of
  another video with an empty mask (answer still "... [SEG].", without naming the target);
* image samples (``T = 1``): the image is the one reference frame and the target;
* conversation samples (no query, no masks): the reference frames as above, no target, no mask;
  language-only conversations (no video) show no frames at all.

The mask of a target is the union over the query's objects on the target frame (``bool[1, H, W]``,
one ``[SEG]``), as the original does. Several queries of one video can share a clip
(:meth:`ClipSampler.sample_group`, the original's ``num_classes_per_sample``): one conversation
each, the same frames.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from visa_core.config import ClipSamplerConfig
from visa_core.errors import DataFormatError
from visa_core.types import Sample, Turn

NegativeSource = Callable[[random.Random], Sample | None]
"""Draws a sample of *another* video for an absent-target negative (None when there is none)."""


@dataclass(frozen=True)
class Clip:
    """What one training example shows the model.

    ``reference_frames``: ``uint8[H, W, 3]`` each, in time order; ``target_frame`` ``uint8[H', W', 3]``
    or None for conversation data; ``masks`` ``bool[N, H', W']`` on the target frame or None.
    ``query_text`` is the question to template (segmentation) or None (``conversation`` is given);
    ``target_words`` names the target in the answer (``Query.answer``), None for negatives.
    ``reference_indices`` / ``target_index`` are frame indices in the source video(s), for tests
    and logging (``target_index`` is -1 for conversations); ``absent`` marks a negative.
    """

    reference_frames: tuple[np.ndarray, ...]
    target_frame: np.ndarray | None
    query_text: str | None
    conversation: tuple[Turn, ...]
    masks: np.ndarray | None
    reference_indices: tuple[int, ...]
    target_index: int
    absent: bool = False
    target_words: str | None = None


class ClipSampler:
    """Turns samples into training clips and encodes them with the model's processor.

    Args:
        config: the frame counts, the policy and the negative rate.
        processor: a ``VisaProcessor`` (``make_conversation``, ``encode_example``); only
            :meth:`encode` needs it, :meth:`sample` works without.
    """

    def __init__(self, config: ClipSamplerConfig, processor: Any = None) -> None:
        self.config = config
        self.processor = processor

    def reference_indices(self, num_frames: int, rng: random.Random) -> list[int]:
        """Sorted distinct frame indices in ``[0, num_frames)``: all of them when the video is short."""
        count = rng.randint(self.config.min_frames, self.config.max_frames)
        if num_frames <= count:
            return list(range(num_frames))
        if self.config.policy == "random":
            return sorted(rng.sample(range(num_frames), count))
        bounds = np.linspace(0, num_frames, count + 1)
        chosen = []
        for start, stop in itertools.pairwise(bounds):
            # each segment is longer than one frame, so it holds at least one index
            chosen.append(rng.randint(int(np.ceil(start)), int(np.ceil(stop)) - 1))
        return chosen

    def choose_target(
        self, references: list[int], annotated: np.ndarray, rng: random.Random
    ) -> tuple[list[int], int]:
        """A random annotated frame among ``references``; if none is annotated, a random annotated
        frame of the video replaces the nearest reference. Returns (references, target)."""
        candidates = [i for i in references if annotated[i]]
        if candidates:
            return references, rng.choice(candidates)
        annotated_frames = np.flatnonzero(annotated).tolist()
        target = rng.choice(annotated_frames)
        nearest = min(range(len(references)), key=lambda k: abs(references[k] - target))
        replaced = sorted({*references[:nearest], target, *references[nearest + 1 :]})
        return replaced, target

    def sample(self, sample: Sample, rng: random.Random, negatives: NegativeSource | None = None) -> Clip:
        """The clip of ``sample``; all randomness comes from ``rng``.

        Raises:
            DataFormatError: a query without masks, a sample with neither query nor conversation,
                or masks without any annotated frame.
        """
        video = sample.video
        if sample.query is None:
            if not sample.conversation:
                assert video is not None  # a Sample without a video always has a conversation
                raise DataFormatError(
                    f"video {video.video_id!r}: a training sample needs a query with masks or a conversation"
                )
            return self._conversation_clip(sample, rng)
        assert video is not None  # a Sample with a query always has a video
        label = f"video {video.video_id!r}"
        if sample.masks is None or sample.annotated is None:
            raise DataFormatError(
                f"{label}, query {sample.query.query_id!r}: no masks; training needs an annotated split"
            )
        if not sample.annotated.any():
            raise DataFormatError(f"{label}, query {sample.query.query_id!r}: no frame is annotated")
        references = self.reference_indices(len(video), rng)
        references, target = self.choose_target(references, sample.annotated, rng)
        target_frame = video.frames[target]
        masks = sample.masks[:, target].any(axis=0, keepdims=True)
        absent = False
        if len(video) > 1 and negatives is not None and rng.random() < self.config.absent_target_prob:
            other = negatives(rng)
            if other is not None:
                target = rng.randrange(len(other.video))
                target_frame = other.video.frames[target]
                masks = np.zeros((1, *target_frame.shape[:2]), dtype=bool)
                absent = True
        return Clip(
            reference_frames=tuple(video.frames[i] for i in references),
            target_frame=target_frame,
            query_text=sample.query.text,
            conversation=(),
            masks=masks,
            reference_indices=tuple(references),
            target_index=target,
            absent=absent,
            target_words=None if absent else sample.query.answer,
        )

    def _conversation_clip(self, sample: Sample, rng: random.Random) -> Clip:
        """Reference frames for a conversation; its ``<video>`` (or, with none, the start of its
        first turn) becomes ``(0)<image>, (1)<image>, ...``; ``k`` ``<image>`` placeholders take all
        ``k`` frames. A language-only conversation keeps its turns and shows no frame."""
        from visa_core.model.templates import IMAGE_TOKEN, VIDEO_PLACEHOLDER, place_frames

        video = sample.video
        if video is None:
            if any(IMAGE_TOKEN in t.text or VIDEO_PLACEHOLDER in t.text for t in sample.conversation):
                raise DataFormatError(
                    f"a language-only conversation (no video) has {IMAGE_TOKEN} or {VIDEO_PLACEHOLDER} "
                    f"placeholders: {sample.conversation[0].text[:80]!r}"
                )
            return Clip(
                reference_frames=(),
                target_frame=None,
                query_text=None,
                conversation=sample.conversation,
                masks=None,
                reference_indices=(),
                target_index=-1,
            )
        try:
            references, turns = place_frames(
                sample.conversation, len(video), lambda: self.reference_indices(len(video), rng)
            )
        except ValueError as error:
            raise DataFormatError(f"video {video.video_id!r}: {error}") from None
        return Clip(
            reference_frames=tuple(video.frames[i] for i in references),
            target_frame=None,
            query_text=None,
            conversation=tuple(turns),
            masks=None,
            reference_indices=tuple(references),
            target_index=-1,
        )

    def sample_group(
        self, samples: Sequence[Sample], rng: random.Random, negatives: NegativeSource | None = None
    ) -> list[Clip]:
        """Clips of several queries about one video that share the frames: the first sample's clip
        (:meth:`sample`), then each other query's masks on that same target frame (empty for a
        negative). A query whose masks leave that frame unannotated is left out.

        Raises:
            DataFormatError: a sample of another video, or one without masks.
        """
        first = self.sample(samples[0], rng, negatives)
        if first.query_text is None:
            return [first]
        clips = [first]
        first_video = samples[0].video
        assert first_video is not None  # its clip has a query
        for other in samples[1:]:
            if other.video is None or other.query is None or other.masks is None or other.annotated is None:
                raise DataFormatError(
                    f"video {first_video.video_id!r}: a grouped training sample needs a query with masks"
                )
            label = f"video {other.video.video_id!r}"
            if other.video.video_id != first_video.video_id:
                raise DataFormatError(f"{label}: grouped with queries of video {first_video.video_id!r}")
            if first.absent:
                masks, words = np.zeros_like(first.masks), None
            elif other.annotated[first.target_index]:
                masks = other.masks[:, first.target_index].any(axis=0, keepdims=True)
                words = other.query.answer
            else:
                continue
            clips.append(
                dataclasses.replace(first, query_text=other.query.text, masks=masks, target_words=words)
            )
        return clips

    def encode(self, sample: Sample, rng: random.Random, negatives: NegativeSource | None = None) -> Any:
        """``processor.encode_example`` of :meth:`sample`'s clip (one item for ``processor.collate``)."""
        clip = self.sample(sample, rng, negatives)
        return self._processor().encode_example(
            clip.reference_frames, clip.target_frame, self._conversation(clip, rng), clip.masks
        )

    def encode_group(
        self, samples: Sequence[Sample], rng: random.Random, negatives: NegativeSource | None = None
    ) -> list[Any]:
        """``processor.encode_examples`` of :meth:`sample_group`'s clips (one item, frames shared)."""
        clips = self.sample_group(samples, rng, negatives)
        conversations = [self._conversation(clip, rng) for clip in clips]
        return self._processor().encode_examples(
            clips[0].reference_frames, clips[0].target_frame, conversations, [clip.masks for clip in clips]
        )

    def _processor(self) -> Any:
        if self.processor is None:
            raise ValueError("ClipSampler.encode needs a processor")
        return self.processor

    def _conversation(self, clip: Clip, rng: random.Random) -> Sequence[Turn]:
        """The clip's conversation, or its query put into the processor's templates."""
        if clip.query_text is None:
            return clip.conversation
        return self._processor().make_conversation(
            clip.query_text,
            num_reference_frames=len(clip.reference_frames),
            rng=rng,
            target=clip.target_words,
        )
