from __future__ import annotations

import numpy as np
import pytest
import torch

from visa_core import Turn
from visa_core.model import VisaConfig, VisaForSegmentation, preset_config
from visa_core.model.attention import default_attention_implementation
from visa_core.model.sequence import seg_state_positions


def _batch(processor, frames, masks, answer="It is [SEG], [SEG]."):
    turns = processor.make_conversation("the red square", 3, None, answer=answer)
    return processor.collate([processor.encode_example(frames[:3], frames[3], turns, masks)])


def test_forward_gives_losses_and_one_mask_per_seg(tiny_model, processor, frames, two_masks):
    out = tiny_model(**_batch(processor, frames, two_masks))
    assert out.pred_masks[0].shape == (2, 48, 64)
    assert out.seg_embeddings[0].shape == (2, tiny_model.config.out_dim)
    for loss in (out.lm_loss, out.mask_bce_loss, out.mask_dice_loss):
        assert loss.ndim == 0 and torch.isfinite(loss)
    tokens = tiny_model.config.tokens_per_image
    assert out.logits.shape[1] == _batch(processor, frames, two_masks)["input_ids"].shape[1] + 4 * (
        tokens - 1
    )


def test_seg_state_is_the_position_before_each_seg_in_the_expanded_sequence(
    tiny_model, processor, frames, two_masks
):
    batch = _batch(processor, frames, two_masks)
    sequence = tiny_model.expand(
        batch["input_ids"], batch["attention_mask"], batch["labels"], batch["clip_pixel_values"]
    )
    positions = seg_state_positions(sequence, tiny_model.config.seg_token_id)[0]
    assert (sequence.token_ids[0, positions + 1] == tiny_model.config.seg_token_id).all()
    assert len(positions) == 2 and positions.min() > 4 * tiny_model.config.tokens_per_image
    hidden = tiny_model.language_model.model(inputs_embeds=sequence.embeds).last_hidden_state
    expected = tiny_model.text_hidden_fcs(hidden[0, positions])
    assert torch.allclose(tiny_model(**batch).seg_embeddings[0], expected, atol=1e-5)


def test_seg_and_mask_count_mismatch_raises_with_both_counts(tiny_model, processor, frames, two_masks):
    batch = _batch(processor, frames, two_masks)
    batch["masks"] = [batch["masks"][0][:1]]
    with pytest.raises(ValueError, match="2 \\[SEG\\] tokens in the answer but 1 target masks"):
        tiny_model(**batch)


def test_round_trip_gives_identical_outputs(tiny_model, processor, frames, two_masks, tmp_path):
    batch = _batch(processor, frames, two_masks)
    tiny_model.save_pretrained(str(tmp_path))
    again = VisaForSegmentation.from_pretrained(str(tmp_path)).eval()
    a, b = tiny_model(**batch), again(**batch)
    assert torch.equal(a.logits, b.logits) and torch.equal(a.pred_masks[0], b.pred_masks[0])


def test_attention_choice_never_fails_on_cpu(tiny_model):
    expected = "flash_attention_2" if torch.cuda.is_available() else "sdpa"
    assert default_attention_implementation() in (expected, "sdpa")
    assert tiny_model.language_model.config._attn_implementation == default_attention_implementation()


@pytest.mark.parametrize(("name", "hidden", "layers"), [("visa-7b", 4096, 32), ("visa-13b", 5120, 40)])
def test_real_presets_have_the_published_shapes(name, hidden, layers):
    config = preset_config(name)
    assert (config.hidden_size, config.text_config.num_hidden_layers) == (hidden, layers)
    assert config.tokens_per_image == 112 and config.num_patches == 256 and config.mm_hidden_size == 1024
    assert config.sam_embedding_size == 64 and config.seg_token_id == 32000
    with torch.device("meta"):
        model = VisaForSegmentation(config)
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert shapes["text_hidden_fcs.2.weight"] == (256, hidden)
    assert shapes["mm_projector.weight"] == (hidden, 1024)
    assert shapes["language_model.model.embed_tokens.weight"] == (32001, hidden)
    assert shapes["sam.image_encoder.pos_embed"] == (1, 64, 64, 1280)


def test_config_rejects_inconsistent_shapes():
    with pytest.raises(ValueError, match="out_dim"):
        VisaConfig(out_dim=128)
    with pytest.raises(KeyError, match="known presets"):
        preset_config("visa-70b")


def test_rows_sharing_frames_match_the_same_rows_with_their_own_copies(tiny_model, processor, frames):
    """``encode_examples`` (frames once, ``image_index`` / ``target_index``) gives the outputs of
    separate examples carrying their own copies of the frames, next to a sample without target."""
    square, circle = np.zeros((2, 1, 48, 64), dtype=bool)
    square[0, 10:20, 10:30] = circle[0, 30:40, 5:15] = True
    questions = [("the red square", square), ("the blue circle", circle)]
    turns = [processor.make_conversation(q, 3, None, answer="It is [SEG].") for q, _ in questions]
    chat = [Turn("human", "(0)<image>, (1)<image>\nHow many squares?"), Turn("gpt", "Two.")]
    chat_example = processor.encode_example(frames[:2], None, chat, None)
    shared = processor.collate(
        [chat_example, processor.encode_examples(frames[:3], frames[3], turns, [m for _, m in questions])]
    )
    copies = processor.collate(
        [
            chat_example,
            *(
                processor.encode_example(frames[:3], frames[3], t, m)
                for t, (_, m) in zip(turns, questions, strict=True)
            ),
        ]
    )
    assert shared["clip_pixel_values"].shape[0] == 2 + 4 and copies["clip_pixel_values"].shape[0] == 2 + 8
    assert shared["image_index"].tolist() == [0, 1, 2, 3, 4, 5, 2, 3, 4, 5]
    assert shared["target_index"].tolist() == [-1, 0, 0] and copies["target_index"].tolist() == [-1, 0, 1]
    with torch.no_grad():
        a, b = tiny_model(**shared), tiny_model(**copies)
    for name in ("lm_loss", "mask_bce_loss", "mask_dice_loss"):
        torch.testing.assert_close(getattr(a, name), getattr(b, name))
    for mask_a, mask_b in zip(a.pred_masks, b.pred_masks, strict=True):
        torch.testing.assert_close(mask_a, mask_b)
    assert not torch.equal(a.pred_masks[1], a.pred_masks[2])  # two questions, two masks


def test_one_decoder_pass_over_many_frames_equals_sam_single_mask_output_per_frame(tiny_model):
    """``SamParts.decode`` with prompts on several frames gives, for each prompt, what SAM's own
    ``MaskDecoder`` gives for that prompt alone on its frame (``multimask_output=False``)."""
    sam = tiny_model.sam
    generator = torch.Generator().manual_seed(0)
    channels, side = sam.mask_decoder.transformer_dim, sam.prompt_encoder.image_embedding_size[0]
    embeddings = torch.randn(3, channels, side, side, generator=generator)
    prompts = torch.randn(5, channels, generator=generator)
    frame_of_prompt = torch.tensor([2, 0, 2, 1, 0])
    with torch.no_grad():
        batched = sam.decode(embeddings, prompts, frame_of_prompt)
        for prompt, frame, logits in zip(prompts, frame_of_prompt, batched, strict=True):
            alone, _ = sam.mask_decoder(
                image_embeddings=embeddings[frame, None],
                image_pe=sam.prompt_encoder.get_dense_pe(),
                sparse_prompt_embeddings=prompt[None, None],
                dense_prompt_embeddings=sam.prompt_encoder.no_mask_embed.weight.reshape(1, -1, 1, 1),
                multimask_output=False,
            )
            torch.testing.assert_close(logits, alone[0, 0])
    assert batched.shape == (5, 4 * side, 4 * side)


def test_language_only_rows_are_plain_language_modelling(tiny_model, processor, frames, two_masks):
    """A conversation without frames trains the LLM alone: its loss is the language model's own
    loss on the answer tokens, and it can share a batch with segmentation rows."""
    chat = [
        Turn("human", "List some shapes, then list them again."),
        Turn("gpt", "the red circle. Again: the red circle."),
    ]
    text_only = processor.collate([processor.encode_example([], None, chat, None)])
    assert text_only["clip_pixel_values"].shape[0] == 0 and text_only["sam_pixel_values"] is None
    with torch.no_grad():
        out = tiny_model(**text_only)
        direct = tiny_model.language_model(input_ids=text_only["input_ids"], labels=text_only["labels"]).loss
    torch.testing.assert_close(out.lm_loss, direct)
    assert out.mask_bce_loss == 0 and out.mask_dice_loss == 0 and out.pred_masks[0].shape[0] == 0

    segmentation = processor.encode_example(
        frames[:3],
        frames[3],
        processor.make_conversation("the red square", 3, None, answer="It is [SEG], [SEG]."),
        two_masks,
    )
    mixed = tiny_model(**processor.collate([processor.encode_example([], None, chat, None), segmentation]))
    assert torch.isfinite(mixed.lm_loss) and mixed.mask_bce_loss > 0 and mixed.pred_masks[1].shape[0] == 2


def test_frame_token_positions_give_the_frame_tokens_and_where_they_lie(tiny_model):
    pixels = torch.randn(2, 3, 56, 56, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        tokens, positions = tiny_model.frame_token_positions(pixels)
        assert torch.equal(tokens, tiny_model.encode_frames(pixels))
    assert positions.shape == (2, tiny_model.config.tokens_per_image, 2)
    assert ((positions > 0) & (positions < 1)).all()


def test_unmerged_frame_tokens_lie_at_their_patch_centres():
    config = preset_config("tiny")
    config.cluster_sizes, config.cluster_knn = (), ()
    model = VisaForSegmentation(config).eval()
    with torch.no_grad():
        _, positions = model.frame_token_positions(torch.zeros(1, 3, 56, 56))
    grid = config.vision_config.image_size // config.vision_config.patch_size
    assert positions.shape == (1, grid * grid, 2)
    second = positions[0, 1]  # row 0, column 1: x = 1.5 patches, y = 0.5 patches
    torch.testing.assert_close(second, torch.tensor([1.5 / grid, 0.5 / grid]))
