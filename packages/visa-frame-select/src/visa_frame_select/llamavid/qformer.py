"""The text-conditioned Q-Former of LLaMA-VID (BLIP-2 / InstructBLIP layout), in plain torch.

A BERT encoder whose input is ``num_query`` learned query embeddings followed by the embedded
question tokens. Every layer runs self-attention over queries + text; layers ``0, f, 2f, ...``
(``f = cross_attention_freq``, 2) then let the *queries* cross-attend to the frame features, and
the queries and the text go through separate feed-forward weights (``intermediate_query`` /
``output_query`` vs ``intermediate`` / ``output``). Names follow the published state dict under
``model.vlm_att_encoder.bert.`` (``embeddings.word_embeddings``, ``encoder.layer.N.attention.self.query``,
``encoder.layer.N.crossattention.self.key`` with input width ``encoder_width``, ...).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

MASKED = -10000.0
"""Additive attention score of a masked key, as BERT's extended attention mask."""


@dataclasses.dataclass(frozen=True)
class QFormerConfig:
    """BERT geometry (bert-base-uncased: 768 wide, 12 layers, 12 heads, FFN 3072, 512 positions)
    plus ``encoder_width`` (frame feature width, 1408 for EVA ViT-G) and ``cross_attention_freq``."""

    vocab_size: int = 30523
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    max_position_embeddings: int = 512
    layer_norm_eps: float = 1e-12
    encoder_width: int = 1408
    cross_attention_freq: int = 2

    @classmethod
    def from_bert_config(cls, bert: Mapping[str, Any], **overrides: Any) -> QFormerConfig:
        """Fields read from a BERT ``config.json`` mapping, then ``overrides``."""
        names = {field.name for field in dataclasses.fields(cls)}
        return cls(**{**{k: v for k, v in bert.items() if k in names}, **overrides})


class Embeddings(nn.Module):
    """Word + absolute position embeddings of the text, the queries prepended, then LayerNorm."""

    def __init__(self, config: QFormerConfig) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, input_ids: torch.Tensor, query_embeds: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        text = self.word_embeddings(input_ids) + self.position_embeddings(positions)[None]
        return self.LayerNorm(torch.cat([query_embeds, text], dim=1))


class SelfAttention(nn.Module):
    """BERT attention projections (``query``, ``key``, ``value``); keys/values come from
    ``key_width``-wide states (the frame features for cross-attention)."""

    def __init__(self, config: QFormerConfig, key_width: int) -> None:
        super().__init__()
        self.num_heads = config.num_attention_heads
        self.query = nn.Linear(config.hidden_size, config.hidden_size)
        self.key = nn.Linear(key_width, config.hidden_size)
        self.value = nn.Linear(key_width, config.hidden_size)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(*x.shape[:2], self.num_heads, -1).transpose(1, 2)

    def forward(self, hidden: torch.Tensor, context: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """``bias``: additive scores ``[B, 1, 1, K]`` (0 or :data:`MASKED`)."""
        q, k, v = (
            self._heads(self.query(hidden)),
            self._heads(self.key(context)),
            self._heads(self.value(context)),
        )
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias.to(q.dtype))
        return out.transpose(1, 2).flatten(2)


class ResidualOutput(nn.Module):
    """``LayerNorm(dense(x) + residual)`` (BERT's ``*.output`` modules)."""

    def __init__(self, in_width: int, config: QFormerConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(in_width, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dense(x) + residual)


class Attention(nn.Module):
    """``self`` attention followed by its residual ``output``."""

    def __init__(self, config: QFormerConfig, key_width: int) -> None:
        super().__init__()
        self.self = SelfAttention(config, key_width)
        self.output = ResidualOutput(config.hidden_size, config)

    def forward(self, hidden: torch.Tensor, context: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        return self.output(self.self(hidden, context, bias), hidden)


class Intermediate(nn.Module):
    """``dense`` then exact GELU."""

    def __init__(self, config: QFormerConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.dense(x))


class Layer(nn.Module):
    """One Q-Former layer; ``crossattention`` exists only on every ``cross_attention_freq``-th layer."""

    def __init__(self, config: QFormerConfig, index: int) -> None:
        super().__init__()
        self.attention = Attention(config, config.hidden_size)
        if index % config.cross_attention_freq == 0:
            self.crossattention = Attention(config, config.encoder_width)
        self.intermediate = Intermediate(config)
        self.output = ResidualOutput(config.intermediate_size, config)
        self.intermediate_query = Intermediate(config)
        self.output_query = ResidualOutput(config.intermediate_size, config)

    def forward(
        self,
        hidden: torch.Tensor,
        bias: torch.Tensor,
        frames: torch.Tensor,
        frame_bias: torch.Tensor,
        num_queries: int,
    ) -> torch.Tensor:
        hidden = self.attention(hidden, hidden, bias)
        queries, text = hidden[:, :num_queries], hidden[:, num_queries:]
        if hasattr(self, "crossattention"):
            queries = self.crossattention(queries, frames, frame_bias)
        queries = self.output_query(self.intermediate_query(queries), queries)
        text = self.output(self.intermediate(text), text)
        return torch.cat([queries, text], dim=1)


class Encoder(nn.Module):
    """The stack of :class:`Layer` (``layer.N``)."""

    def __init__(self, config: QFormerConfig) -> None:
        super().__init__()
        self.layer = nn.ModuleList(Layer(config, i) for i in range(config.num_hidden_layers))


class QFormerBert(nn.Module):
    """``embeddings`` + ``encoder`` (no pooler, as BLIP-2's ``BertModel(add_pooling_layer=False)``)."""

    def __init__(self, config: QFormerConfig) -> None:
        super().__init__()
        self.embeddings = Embeddings(config)
        self.encoder = Encoder(config)

    def forward(
        self,
        input_ids: torch.Tensor,
        text_mask: torch.Tensor,
        query_embeds: torch.Tensor,
        frames: torch.Tensor,
    ) -> torch.Tensor:
        """Query outputs ``[B, num_queries, hidden]``.

        Args:
            input_ids: question tokens ``int64[B, L]``; text_mask: ``int[B, L]`` (1 = real token).
            query_embeds: ``[B, Q, hidden]``; frames: frame features ``[B, N, encoder_width]``
                (every frame position attended).
        """
        num_queries = query_embeds.shape[1]
        mask = torch.cat([text_mask.new_ones(text_mask.shape[0], num_queries), text_mask], dim=1)
        bias = ((1.0 - mask.float()) * MASKED)[:, None, None, :]
        frame_bias = frames.new_zeros(frames.shape[0], 1, 1, frames.shape[1])
        hidden = self.embeddings(input_ids, query_embeds)
        for layer in self.encoder.layer:
            hidden = layer(hidden, bias, frames, frame_bias, num_queries)
        return hidden[:, :num_queries]


class QFormer(nn.Module):
    """LLaMA-VID's ``vlm_att_encoder`` (a BLIP-2 ``BertLMHeadModel`` whose ``cls`` head was dropped)."""

    def __init__(self, config: QFormerConfig) -> None:
        super().__init__()
        self.config = config
        self.bert = QFormerBert(config)
