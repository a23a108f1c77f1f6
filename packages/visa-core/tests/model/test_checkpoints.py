from __future__ import annotations

import argparse
import json

import pytest
import torch

from visa_core.cli.model_commands import ConvertCheckpointCommand
from visa_core.errors import CheckpointError
from visa_core.model import LoraSettings, VisaForSegmentation, apply_lora, preset_config
from visa_core.model.checkpoints import convert_checkpoint
from visa_core.model.checkpoints.shapes import (
    clip_config_from_weights,
    sam_config_from_weights,
    text_config_from_weights,
)

from .published_layouts import (
    llm_config,
    published_state,
    write_clip_folder,
    write_merged_folder,
    write_sam_file,
)


def _source_model(processor):
    config = preset_config("tiny")
    config.text_config.vocab_size = len(processor.tokenizer)
    torch.manual_seed(1)
    return VisaForSegmentation(config).eval()


@pytest.fixture()
def source_model(processor):
    return _source_model(processor)


def _batch(processor, frames, masks):
    turns = processor.make_conversation("the red square", 3, None, answer="It is [SEG], [SEG].")
    return processor.collate([processor.encode_example(frames[:3], frames[3], turns, masks)])


def _same_outputs(a, b, batch):
    out_a, out_b = a(**batch), b(**batch)
    assert torch.allclose(out_a.logits, out_b.logits, atol=1e-5)
    assert torch.allclose(out_a.pred_masks[0], out_b.pred_masks[0], atol=1e-5)


def test_merged_visa_folder_with_separate_clip(source_model, processor, frames, two_masks, tmp_path, capsys):
    src = write_merged_folder(source_model, processor, tmp_path / "visa")
    clip = write_clip_folder(source_model, tmp_path / "clip")
    result = convert_checkpoint("visa", src, tmp_path / "out", clip=clip)
    actions = {(a.action, a.reason) for a in result.accounts}
    assert ("ignored", "rotary buffer, recomputed from the config") in actions
    assert ("ignored", "CLIP text tower, unused by VISA") in actions
    used = {a.target for a in result.accounts if a.action == "used"}
    assert used == set(source_model.state_dict())
    assert (tmp_path / "out" / "conversion_account.json").is_file()
    converted = VisaForSegmentation.from_pretrained(str(tmp_path / "out")).eval()
    parser = argparse.ArgumentParser()
    ConvertCheckpointCommand.configure(parser)
    args = parser.parse_args(
        ["--format", "visa", "--clip", str(clip), "--list-keys", str(src), str(tmp_path / "o2")]
    )
    assert ConvertCheckpointCommand().run(args) == 0
    printed = capsys.readouterr().out
    assert "ignored  visa:model.layers.0.self_attn.rotary_emb.inv_freq -> rotary buffer" in printed
    assert "used     visa:model.text_hidden_fcs.0.2.weight -> text_hidden_fcs.2.weight" in printed
    assert converted.config.cluster_sizes == source_model.config.cluster_sizes
    _same_outputs(source_model, converted, _batch(processor, frames, two_masks))


def test_missing_clip_and_unexpected_keys_are_listed(source_model, processor, tmp_path):
    src = write_merged_folder(source_model, processor, tmp_path / "visa")
    with pytest.raises(CheckpointError, match="missing keys.*vision_tower.*pass its folder"):
        convert_checkpoint("visa", src, tmp_path / "out")
    state = published_state(source_model)
    state["model.some_new_head.weight"] = torch.zeros(2)
    torch.save(state, src / "pytorch_model.bin")
    (src / "pytorch_model.bin.index.json").unlink()
    for shard in src.glob("pytorch_model-*.bin"):
        shard.unlink()
    with pytest.raises(CheckpointError, match="unexpected source keys.*some_new_head"):
        convert_checkpoint(
            "lisa", src, tmp_path / "out2", clip=write_clip_folder(source_model, tmp_path / "c")
        )


def _training_checkpoint(source_model, folder):
    """``zero_to_fp32`` output of a LoRA run: ``base_model.model.*`` keys, the CLIP tower included."""
    state = {"base_model.model." + k: v for k, v in published_state(source_model, with_clip=True).items()}
    folder.mkdir()
    torch.save(state, folder / "pytorch_model.bin")
    return state


def test_training_checkpoint_with_peft_prefix_and_old_lora_keys(processor, frames, two_masks, tmp_path):
    source_model = _source_model(processor)
    apply_lora(source_model, LoraSettings(r=4, alpha=16))
    with torch.no_grad():
        for name, parameter in source_model.named_parameters():
            if "lora_B" in name:
                parameter.normal_(0, 0.3)
    folder = tmp_path / "ckpt"
    state = _training_checkpoint(source_model, folder)
    assert any(k.endswith("q_proj.lora_A.default.weight") for k in state)
    (folder / "config.json").write_text(json.dumps(llm_config(source_model)))
    processor.tokenizer.save_pretrained(str(folder))
    result = convert_checkpoint("visa", folder / "pytorch_model.bin", tmp_path / "out", lora_alpha=16)
    assert sum(a.action == "merged" for a in result.accounts) == 2 * 2 * 2
    converted = VisaForSegmentation.from_pretrained(str(tmp_path / "out")).eval()
    source_model.eval()
    _same_outputs(source_model, converted, _batch(processor, frames, two_masks))


def test_chat_univi_base_with_sam_file_and_clip(source_model, processor, frames, two_masks, tmp_path):
    src = tmp_path / "chat-univi"
    src.mkdir()
    state = {
        k: v
        for k, v in published_state(source_model).items()
        if not k.startswith(("model.visual_model", "model.text_hidden"))
    }
    for key in ("model.embed_tokens.weight", "lm_head.weight"):
        state[key] = state[key][: processor.seg_token_id]  # base vocabulary without [SEG]
    torch.save(state, src / "pytorch_model.bin")
    (src / "config.json").write_text(json.dumps(llm_config(source_model)))
    processor.tokenizer.save_pretrained(str(src))
    sam = write_sam_file(source_model, tmp_path / "sam_vit_h_4b8939.pth")
    clip = write_clip_folder(source_model, tmp_path / "clip")
    result = convert_checkpoint("chat-univi", src, tmp_path / "out", clip=clip, sam=sam)
    assert any("newly initialised" in note for note in result.notes)
    assert any("rows for [SEG]" in note for note in result.notes)
    converted = VisaForSegmentation.from_pretrained(str(tmp_path / "out")).eval()
    assert converted.config.sam_config == source_model.config.sam_config
    embeddings = converted.sam_image_embeddings(processor, frames[3])
    assert torch.allclose(embeddings, source_model.sam_image_embeddings(processor, frames[3]), atol=1e-5)
    assert converted.config.text_config.vocab_size == processor.seg_token_id + 1


def test_unpublished_widths_without_their_head_counts_are_refused(source_model, processor, tmp_path):
    folder = tmp_path / "ckpt"
    _training_checkpoint(source_model, folder)
    processor.tokenizer.save_pretrained(str(folder))
    checkpoint = folder / "pytorch_model.bin"
    # without config.json the 64-wide language model once gave ZeroDivisionError (heads = 64 // 128)
    with pytest.raises(CheckpointError, match=r"config\.json is missing.*num_attention_heads.*64 wide"):
        convert_checkpoint("visa", checkpoint, tmp_path / "out")
    config = llm_config(source_model, head_counts=False)
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match=r"has no sam_config\.decoder_num_heads.*decoder is 32 wide"):
        convert_checkpoint("visa", checkpoint, tmp_path / "out")
    config["sam_config"] = {"decoder_num_heads": 3}
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match=r"decoder_num_heads = 3 does not divide"):
        convert_checkpoint("visa", checkpoint, tmp_path / "out")
    config["sam_config"] = {"decoder_num_heads": 2}
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match=r"has no vision_config\.num_attention_heads.*CLIP tower is 32"):
        convert_checkpoint("visa", checkpoint, tmp_path / "out")
    config["vision_config"] = {"num_attention_heads": 2}
    (folder / "config.json").write_text(json.dumps(config))
    converted = convert_checkpoint("visa", checkpoint, tmp_path / "out").config
    assert converted.vision_config.num_attention_heads == 2
    assert converted.sam_config["decoder_num_heads"] == 2


def _meta(*shape: int) -> torch.Tensor:
    return torch.empty(*shape, device="meta")


@pytest.mark.parametrize(("hidden", "heads"), [(4096, 32), (5120, 40)])
def test_published_llm_widths_need_no_config(hidden: int, heads: int, tmp_path) -> None:
    state = {
        "language_model.model.embed_tokens.weight": _meta(32001, hidden),
        "language_model.model.layers.0.mlp.gate_proj.weight": _meta(4 * hidden, hidden),
        "language_model.model.layers.0.self_attn.k_proj.weight": _meta(hidden, hidden),
    }
    text = text_config_from_weights(state, {}, tmp_path / "config.json")
    assert (text["num_attention_heads"], text["num_key_value_heads"]) == (heads, heads)
    given = text_config_from_weights(state, {"num_attention_heads": 64}, tmp_path / "config.json")
    assert (given["num_attention_heads"], given["num_key_value_heads"]) == (64, 64)  # config.json wins


def test_published_clip_and_sam_widths_need_no_config(tmp_path) -> None:
    clip = {
        "vision_tower.embeddings.patch_embedding.weight": _meta(1024, 3, 14, 14),
        "vision_tower.embeddings.position_embedding.weight": _meta(257, 1024),
        "vision_tower.encoder.layers.0.mlp.fc1.weight": _meta(4096, 1024),
    }
    assert clip_config_from_weights(clip, {}, tmp_path / "config.json")["num_attention_heads"] == 16
    sam = {
        "sam.image_encoder.patch_embed.proj.weight": _meta(1280, 3, 16, 16),
        "sam.image_encoder.pos_embed": _meta(1, 64, 64, 1280),
        "sam.image_encoder.blocks.0.attn.rel_pos_h": _meta(27, 80),
        "sam.image_encoder.blocks.1.attn.rel_pos_h": _meta(127, 80),
        "sam.prompt_encoder.no_mask_embed.weight": _meta(1, 256),
        "sam.prompt_encoder.mask_downscaling.3.weight": _meta(16, 4, 2, 2),
        "sam.mask_decoder.transformer.layers.0.mlp.lin1.weight": _meta(2048, 256),
        "sam.mask_decoder.iou_prediction_head.layers.0.weight": _meta(256, 256),
    }
    shapes = sam_config_from_weights(sam, {}, tmp_path / "config.json")
    assert (shapes["decoder_num_heads"], shapes["encoder_num_heads"], shapes["window_size"]) == (8, 16, 14)
    assert shapes["encoder_global_attn_indexes"] == [1]
