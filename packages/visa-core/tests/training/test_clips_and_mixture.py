"""The clip sampler (frames, target, negatives, images, conversations) and the weighted mixture."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest
import torch

from visa_core import DataFormatError, Query, Sample, Turn, Video
from visa_core.config import ClipSamplerConfig
from visa_core.model.tokenization import IGNORE_INDEX
from visa_core.testing.synthetic import moving_squares
from visa_core.training import ClipSampler, MixtureDataset


def _sample(num_frames=40, video_id="a", annotated=None):
    video, masks = moving_squares(num_frames, video_id=video_id)
    annotated = np.ones(num_frames, bool) if annotated is None else annotated
    masks = masks & annotated[None, :, None, None]
    return Sample(video=video, query=Query("the red square"), masks=masks, annotated=annotated)


def test_uniform_segments_one_frame_each():
    sampler = ClipSampler(ClipSamplerConfig(min_frames=8, max_frames=12))
    for seed in range(50):
        rng = random.Random(seed)
        indices = sampler.reference_indices(40, rng)
        assert 8 <= len(indices) <= 12 and indices == sorted(set(indices))
        bounds = np.linspace(0, 40, len(indices) + 1)
        assert all(lo <= i < hi for i, lo, hi in zip(indices, bounds[:-1], bounds[1:], strict=True))
    assert sampler.reference_indices(5, random.Random(0)) == [0, 1, 2, 3, 4]


def test_target_is_an_annotated_reference_with_its_union_mask():
    annotated = np.zeros(40, bool)
    annotated[[7, 30]] = True
    sample = _sample(annotated=annotated)
    sampler = ClipSampler(ClipSamplerConfig(absent_target_prob=0.0))
    for seed in range(30):
        clip = sampler.sample(sample, random.Random(seed))
        assert clip.target_index in (7, 30) and clip.target_index in clip.reference_indices
        np.testing.assert_array_equal(clip.masks, sample.masks[:, clip.target_index].any(0, keepdims=True))
        assert clip.masks.any() and clip.query_text == "the red square" and not clip.absent


def test_absent_target_negatives_come_from_another_video():
    sample, other = _sample(video_id="a"), _sample(video_id="b", num_frames=9)
    sampler = ClipSampler(ClipSamplerConfig(absent_target_prob=0.05))
    clips = [sampler.sample(sample, random.Random(seed), lambda rng: other) for seed in range(600)]
    negatives = [clip for clip in clips if clip.absent]
    assert 10 <= len(negatives) <= 55  # 5% of 600 = 30
    for clip in negatives:
        assert not clip.masks.any() and 0 <= clip.target_index < 9
        assert clip.target_words is None  # the answer must not name what is not there
        np.testing.assert_array_equal(clip.target_frame, other.video.frames[clip.target_index])


@pytest.fixture(scope="module")
def processor(tiny_visa_model_dir):
    from visa_core.model import VisaProcessor

    return VisaProcessor.from_pretrained(tiny_visa_model_dir)


def test_a_named_target_goes_into_the_answer(processor):
    video, masks = moving_squares(12)
    sample = Sample(video=video, query=Query("the square", answer="the red square"), masks=masks)
    clip = ClipSampler(ClipSamplerConfig(absent_target_prob=0.0)).sample(sample, random.Random(0))
    assert clip.target_words == "the red square"
    encoded = ClipSampler(ClipSamplerConfig(absent_target_prob=0.0), processor).encode(
        sample, random.Random(0)
    )
    ids = encoded["input_ids"][encoded["labels"] != IGNORE_INDEX]
    assert processor.decode_answer(ids).endswith("the red square [SEG].")


def test_images_and_conversations():
    sampler = ClipSampler(ClipSamplerConfig())
    image = _sample(num_frames=1)
    clip = sampler.sample(image, random.Random(0), lambda rng: image)
    assert clip.reference_indices == (0,) and clip.target_index == 0 and not clip.absent
    chat_video, _ = moving_squares(30, video_id="chat")
    chat = Sample(video=chat_video, conversation=(Turn("human", "<video>\nWhat moves?"), Turn("gpt", "Two.")))
    clip = sampler.sample(chat, random.Random(0))
    assert clip.target_frame is None and clip.masks is None and 8 <= len(clip.reference_frames) <= 12
    assert clip.conversation[0].text.count("<image>") == len(clip.reference_frames)
    assert (
        clip.conversation[0].text.startswith("(0)<image>, (1)<image>") and clip.conversation[1].text == "Two."
    )
    plain = Sample(video=chat_video, conversation=(Turn("human", "What moves?"), Turn("gpt", "Two.")))
    assert sampler.sample(plain, random.Random(0)).conversation[0].text.endswith("\nWhat moves?")
    pair = Sample(video=chat_video, conversation=(Turn("human", "<image><image> Same?"), Turn("gpt", "No.")))
    with pytest.raises(DataFormatError, match="2 <image> placeholders but 30 frames"):
        sampler.sample(pair, random.Random(0))


def test_language_only_conversations_show_no_frames(processor):
    turns = (Turn("human", "List some shapes."), Turn("gpt", "the red circle, the blue square."))
    clip = ClipSampler(ClipSamplerConfig()).sample(Sample(video=None, conversation=turns), random.Random(0))
    assert clip.reference_frames == () and clip.target_frame is None and clip.masks is None
    assert clip.conversation == turns and clip.target_index == -1
    encoded = ClipSampler(ClipSamplerConfig(), processor).encode(
        Sample(video=None, conversation=turns), random.Random(0)
    )
    assert encoded["clip_pixel_values"].shape[0] == 0
    assert processor.decode_answer(encoded["input_ids"][encoded["labels"] != IGNORE_INDEX]).startswith(
        "the red circle"
    )
    with pytest.raises(DataFormatError, match="language-only conversation .* placeholders"):
        ClipSampler(ClipSamplerConfig()).sample(
            Sample(video=None, conversation=(Turn("human", "<video>\nWhat moves?"), Turn("gpt", "Two."))),
            random.Random(0),
        )
    with pytest.raises(ValueError, match="without a video is a language-only conversation"):
        Sample(video=None, query=Query("the red circle"), conversation=turns)
    with pytest.raises(ValueError, match="without a video is a language-only conversation"):
        Sample(video=None)


def test_samples_without_masks_or_annotations_are_errors():
    video, _ = moving_squares(4)
    sampler = ClipSampler(ClipSamplerConfig())
    with pytest.raises(DataFormatError, match="no masks"):
        sampler.sample(Sample(video=video, query=Query("x", query_id="q7")), random.Random(0))
    with pytest.raises(DataFormatError, match="no frame is annotated"):
        sampler.sample(_sample(annotated=np.zeros(40, bool)), random.Random(0))
    with pytest.raises(DataFormatError, match="needs a query"):
        sampler.sample(
            Sample(video=Video.from_array("e", np.zeros((2, 4, 4, 3), np.uint8))), random.Random(0)
        )


class _Recorder:
    """A clip sampler recording which sample each item drew."""

    config = ClipSamplerConfig()

    def encode(self, sample, rng, negatives):
        return sample.video.video_id


def test_mixture_is_weighted_deterministic_and_independent_of_sharding(standin, tmp_path):
    small = standin.SquaresDataset(root=tmp_path, num_videos=2)
    large = standin.SquaresDataset(root=tmp_path, num_videos=5)
    mixture = MixtureDataset([small, large], [1.0, 3.0], _Recorder(), length=4000, seed=3)
    picks = Counter(mixture.locate(i)[0] for i in range(4000))
    assert 0.22 < picks[0] / 4000 < 0.28
    again = MixtureDataset([small, large], [1.0, 3.0], _Recorder(), length=4000, seed=3)
    assert [mixture[i] for i in range(50)] == [again[i] for i in range(50)]
    other_seed = MixtureDataset([small, large], [1.0, 3.0], _Recorder(), length=4000, seed=4)
    assert [mixture.locate(i) for i in range(50)] != [other_seed.locate(i) for i in range(50)]
    # two ranks reading alternate batches see exactly the single-process stream, disjointly
    stream = [mixture.locate(i) for i in range(40)]
    rank0 = [mixture.locate(i) for i in range(0, 40, 2)]
    rank1 = [mixture.locate(i) for i in range(1, 40, 2)]
    assert [x for pair in zip(rank0, rank1, strict=True) for x in pair] == stream


def test_empty_dataset_is_named(standin, tmp_path):
    empty = standin.SquaresDataset(root=tmp_path, num_videos=0)
    with pytest.raises(DataFormatError, match="test_squares"):
        MixtureDataset([empty], [1.0], _Recorder(), length=1, seed=0)


def test_grouped_queries_share_the_frames_and_keep_their_own_masks():
    video, masks = moving_squares(20, num_objects=2)
    annotated = np.ones(20, bool)
    samples = [
        Sample(video=video, query=Query(text, answer=text), masks=masks[n : n + 1], annotated=annotated)
        for n, text in enumerate(("the red square", "the green square"))
    ]
    unannotated = np.zeros(20, bool)
    unannotated[0] = True  # annotated on frame 0 only: left out unless the target is frame 0
    left_out = Sample(video=video, query=Query("the red square"), masks=masks[:1], annotated=unannotated)
    sampler = ClipSampler(ClipSamplerConfig(absent_target_prob=0.0))
    for seed in range(20):
        clips = sampler.sample_group([*samples, left_out], random.Random(seed))
        target = clips[0].target_index
        assert len(clips) == (3 if target == 0 else 2)
        assert [c.query_text for c in clips[:2]] == ["the red square", "the green square"]
        for n, clip in enumerate(clips[:2]):
            assert (
                clip.target_frame is clips[0].target_frame
                and clip.reference_indices == clips[0].reference_indices
            )
            np.testing.assert_array_equal(clip.masks[0], masks[n, target])
            assert clip.target_words == samples[n].query.answer
    other = Sample(
        video=moving_squares(20, video_id="other")[0], query=Query("x"), masks=masks[:1], annotated=annotated
    )
    with pytest.raises(DataFormatError, match="grouped with queries of video"):
        sampler.sample_group([samples[0], other], random.Random(0))
    negatives = ClipSampler(ClipSamplerConfig(absent_target_prob=1.0))
    clips = negatives.sample_group(samples, random.Random(0), lambda rng: other)
    assert len(clips) == 2 and all(c.absent and not c.masks.any() and c.target_words is None for c in clips)


def test_mixture_items_ask_up_to_queries_per_sample_questions_about_one_clip(standin, processor, tmp_path):
    dataset = standin.SquaresDataset(root=tmp_path, num_videos=3)
    single = ClipSampler(ClipSamplerConfig(min_frames=2, max_frames=3, absent_target_prob=0.0), processor)
    grouped = ClipSampler(
        ClipSamplerConfig(min_frames=2, max_frames=3, absent_target_prob=0.0, queries_per_sample=3), processor
    )
    assert isinstance(MixtureDataset([dataset], [1.0], single, length=4, seed=0)[0], dict)
    mixture = MixtureDataset([dataset], [1.0], grouped, length=8, seed=0)
    for index in range(8):
        item = mixture[index]
        assert len(item) == 2  # a video has two queries; both are asked
        assert item[1]["clip_pixel_values"] is item[0]["clip_pixel_values"]
        prompts = [processor.tokenizer.decode(row["input_ids"]) for row in item]
        asked = sorted(q for q in ("the red square", "the green square") for prompt in prompts if q in prompt)
        assert asked == ["the green square", "the red square"]
        assert not torch.equal(item[0]["masks"], item[1]["masks"])
    batch = processor.collate([mixture[0], mixture[1]])
    assert batch["input_ids"].shape[0] == 4 and batch["target_index"].tolist() == [0, 0, 1, 1]
