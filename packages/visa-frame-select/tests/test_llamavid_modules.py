"""The LLaMA-VID building blocks: published key names and shapes, and the computations."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from visa_frame_select.llamavid.conversation import (
    tokenize_with_image_slots,
    user_message,
    vicuna_v1_prompt,
)
from visa_frame_select.llamavid.eva_vit import EvaVisionTransformer, EvaVitConfig, resize_pos_embed
from visa_frame_select.llamavid.network import LlamaVidConfig, VideoTokenizer
from visa_frame_select.llamavid.qformer import QFormer, QFormerConfig
from visa_frame_select.testing import tiny_tokenizer


def test_eva_vit_g_keys_and_shapes() -> None:
    with torch.device("meta"):
        state = EvaVisionTransformer(EvaVitConfig()).state_dict()
    assert len([k for k in state if k.endswith(".attn.qkv.weight")]) == 39
    block = {k.removeprefix("blocks.0.") for k in state if k.startswith("blocks.0.")}
    assert block == {
        "norm1.weight", "norm1.bias", "attn.q_bias", "attn.v_bias", "attn.qkv.weight", "attn.proj.weight",
        "attn.proj.bias", "norm2.weight", "norm2.bias", "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight",
        "mlp.fc2.bias",
    }  # fmt: skip
    assert {k for k in state if not k.startswith("blocks.")} == {
        "cls_token", "pos_embed", "patch_embed.proj.weight", "patch_embed.proj.bias"
    }  # fmt: skip
    assert state["pos_embed"].shape == (1, 257, 1408)
    assert state["patch_embed.proj.weight"].shape == (1408, 3, 14, 14)
    assert state["blocks.0.attn.qkv.weight"].shape == (3 * 1408, 1408)
    assert state["blocks.0.mlp.fc1.weight"].shape == (6144, 1408)
    assert EvaVitConfig.from_state_dict(state) == EvaVitConfig()


def test_eva_attention_has_no_key_bias() -> None:
    torch.manual_seed(0)
    config = EvaVitConfig(image_size=28, width=176, depth=1, num_heads=2, mlp_hidden=64)
    attention = EvaVisionTransformer(config).blocks[0].attn
    for parameter in (attention.q_bias, attention.v_bias):
        parameter.data.normal_()
    x = torch.randn(2, 5, 176)
    w_q, w_k, w_v = attention.qkv.weight.chunk(3)
    q = (x @ w_q.T + attention.q_bias).reshape(2, 5, 2, 88).transpose(1, 2)
    k = (x @ w_k.T).reshape(2, 5, 2, 88).transpose(1, 2)
    v = (x @ w_v.T + attention.v_bias).reshape(2, 5, 2, 88).transpose(1, 2)
    weights = (q @ k.transpose(-1, -2) * 88**-0.5).softmax(-1)
    expected = attention.proj((weights @ v).transpose(1, 2).reshape(2, 5, 176))
    torch.testing.assert_close(attention(x), expected, atol=1e-5, rtol=1e-5)


def test_eva_output_keeps_cls_and_every_patch() -> None:
    tower = EvaVisionTransformer(EvaVitConfig(image_size=42, width=88, depth=2, num_heads=1, mlp_hidden=32))
    assert tower(torch.randn(3, 3, 42, 42)).shape == (3, 1 + 9, 88)


def test_pos_embed_resize_keeps_cls() -> None:
    pos = torch.randn(1, 1 + 16, 8)
    assert resize_pos_embed(pos, 4) is pos
    resized = resize_pos_embed(pos, 2)
    assert resized.shape == (1, 5, 8)
    assert torch.equal(resized[:, 0], pos[:, 0])


def test_qformer_keys_follow_blip2_layout() -> None:
    with torch.device("meta"):
        state = QFormer(QFormerConfig()).state_dict()
    layer0 = {k.removeprefix("bert.encoder.layer.0.") for k in state if k.startswith("bert.encoder.layer.0.")}
    assert "crossattention.self.key.weight" in layer0 and "intermediate_query.dense.weight" in layer0
    assert "output_query.LayerNorm.weight" in layer0 and "attention.output.LayerNorm.bias" in layer0
    assert state["bert.encoder.layer.0.crossattention.self.key.weight"].shape == (768, 1408)
    assert not any(k.startswith("bert.encoder.layer.1.crossattention") for k in state)
    assert any(k.startswith("bert.encoder.layer.10.crossattention") for k in state)
    assert state["bert.embeddings.word_embeddings.weight"].shape == (30523, 768)
    assert not any(k.startswith(("cls.", "bert.pooler")) for k in state)


def _tiny_qformer() -> QFormer:
    torch.manual_seed(0)
    config = QFormerConfig(
        vocab_size=20, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
        encoder_width=12,
    )  # fmt: skip
    return QFormer(config).eval()


def test_qformer_ignores_padding_and_reads_text_and_frames() -> None:
    bert = _tiny_qformer().bert
    queries, frames = torch.randn(1, 3, 16), torch.randn(1, 7, 12)
    ids = torch.tensor([[2, 5, 6, 3]])
    out = bert(ids, torch.ones_like(ids), queries, frames)
    assert out.shape == (1, 3, 16)
    padded = torch.tensor([[2, 5, 6, 3, 0, 0]])
    mask = torch.tensor([[1, 1, 1, 1, 0, 0]])
    torch.testing.assert_close(bert(padded, mask, queries, frames), out, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(bert(torch.tensor([[2, 7, 8, 3]]), torch.ones_like(ids), queries, frames), out)
    assert not torch.allclose(bert(ids, torch.ones_like(ids), queries, frames.flip(1) * 2), out)


def _video_tokenizer(compress_type: str | None = "mean") -> VideoTokenizer:
    config = LlamaVidConfig(
        llama={"hidden_size": 10}, mm_hidden_size=12, num_query=3, compress_type=compress_type
    )
    tokenizer = VideoTokenizer(config, _tiny_qformer().config).eval()
    for parameter in tokenizer.parameters():
        parameter.data.normal_(std=0.5)
    return tokenizer


def test_context_and_content_tokens_follow_the_paper() -> None:
    torch.manual_seed(1)
    tokenizer = _video_tokenizer()
    frames = torch.randn(2, 16, 12)
    ids = torch.tensor([[2, 5, 6, 3]])
    with torch.no_grad():
        tokens = tokenizer(frames, ids, torch.ones_like(ids))
        text_q = tokenizer.text_queries(frames, ids, torch.ones_like(ids))
        keys = tokenizer.vlm_att_key_projector(frames)
        attention = F.softmax(text_q @ keys.transpose(1, 2) / 12**0.5, dim=-1)
        context = tokenizer.vlm_att_val_projector((attention @ frames).mean(1))
        content = tokenizer.mm_projector(frames.mean(1))
    assert tokens.shape == (4, 10) and tokenizer.tokens_per_frame(16) == 2
    expected = torch.stack([context[0], content[0], context[1], content[1]])
    torch.testing.assert_close(tokens, expected, atol=1e-5, rtol=1e-5)
    # the Q-Former reads layer-normed features (bert_type "qformer_pretrain")
    assert hasattr(tokenizer, "vlm_att_ln")


@pytest.mark.parametrize(("compress_type", "per_frame"), [("grid:2", 5), (None, 17)])
def test_other_compressions(compress_type: str | None, per_frame: int) -> None:
    tokenizer = _video_tokenizer(compress_type)
    ids = torch.tensor([[2, 5, 3]])
    with torch.no_grad():
        tokens = tokenizer(torch.randn(3, 16, 12), ids, torch.ones_like(ids))
    assert tokens.shape == (3 * per_frame, 10)
    assert tokenizer.tokens_per_frame(16) == per_frame


def test_projector_keys() -> None:
    state = _video_tokenizer().state_dict()
    assert {k for k in state if k.startswith("mm_projector")} == {
        "mm_projector.0.weight", "mm_projector.0.bias", "mm_projector.2.weight", "mm_projector.2.bias"
    }  # fmt: skip
    assert state["vlm_att_query"].shape == (1, 3, 16)
    assert state["vlm_att_projector.weight"].shape == (12, 16)
    assert state["vlm_att_val_projector.weight"].shape == (10, 12)


def test_vicuna_v1_prompt_of_the_server() -> None:
    message = user_message(2, "Where?")
    assert message == (
        "Below is a movie. Memorize the content and answer my question after watching this movie."
        "<image><image><image><image>Now the movie end.\nWhere?"
    )
    assert vicuna_v1_prompt("Hi") == (
        "A chat between a curious user and an artificial intelligence assistant. The assistant gives "
        "helpful, detailed, and polite answers to the user's questions. USER: Hi ASSISTANT:"
    )


def test_image_slots_split_the_prompt() -> None:
    tokenizer = tiny_tokenizer(add_eos=False)
    ids, slots = tokenize_with_image_slots("the red<image><image>square", tokenizer)
    word = tokenizer.convert_tokens_to_ids
    assert ids == [tokenizer.bos_token_id, word("the"), word("red"), 0, 0, word("square")]
    assert slots == [False, False, False, True, True, False]
