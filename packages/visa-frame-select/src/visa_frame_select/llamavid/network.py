"""The LLaMA-VID network for video inference: frames -> context + content tokens -> LLaMA.

Per frame (``llamavid_arch.py``, the video path that VISA's TFS server used):

1. EVA ViT-G features of the frame without its CLS token, ``X [N, 1408]`` (N = 256 at 224 px).
2. The Q-Former reads ``num_query`` learned queries plus the BERT-tokenised user message (left
   truncated to 256 tokens) and cross-attends to ``vlm_att_ln(X)``: ``Q [num_query, 768]``.
3. Context token: ``T = vlm_att_projector(Q)``, ``K = vlm_att_key_projector(X)``,
   ``A = softmax(T K^T / sqrt(1408))``, ``context = vlm_att_val_projector(mean_q(A X))``.
4. Content token(s): ``compress_type`` "mean" -> ``mm_projector(mean_n X)`` (one token),
   "grid:g" -> ``g x g`` average-pooled tokens, none -> all N tokens.
5. ``[context, content...]`` of every frame, in frame order, replace the ``<image>`` slots of the
   prompt (2 per frame for the published video models) in the LLaMA input embeddings.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from visa_core import CheckpointError
from visa_frame_select.llamavid.qformer import QFormer, QFormerConfig

LLAMA_FIELDS = (
    "vocab_size",
    "hidden_size",
    "intermediate_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "hidden_act",
    "max_position_embeddings",
    "rms_norm_eps",
    "rope_theta",
    "rope_scaling",
    "tie_word_embeddings",
    "bos_token_id",
    "eos_token_id",
    "pad_token_id",
)
"""``config.json`` fields that describe the LLaMA language model."""

QFORMER_MAX_TEXT_TOKENS = 256
"""The Q-Former sees at most this many BERT tokens of the user message (the end of it)."""


@dataclasses.dataclass(frozen=True)
class LlamaVidConfig:
    """The multimodal fields of a LLaMA-VID ``config.json`` and the LLaMA fields (``llama``)."""

    llama: dict[str, Any]
    mm_hidden_size: int = 1408
    mm_projector_type: str = "mlp2x_gelu"
    mm_vision_select_feature: str = "patch"
    bert_type: str = "qformer_pretrain"
    num_query: int = 32
    compress_type: str | None = "mean"
    mm_use_im_start_end: bool = False
    mm_vision_tower: str | None = None
    image_processor: str | None = None

    @classmethod
    def from_folder(cls, folder: Path) -> LlamaVidConfig:
        """Read ``folder/config.json`` (a ``model_type`` "llava" LLaMA-VID config)."""
        path = folder / "config.json"
        try:
            raw = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            raise CheckpointError(f"LLaMA-VID: cannot read {path}: {error}") from error
        missing = [
            name for name in ("hidden_size", "mm_hidden_size", "bert_type", "num_query") if name not in raw
        ]
        if missing:
            raise CheckpointError(f"LLaMA-VID: {path} lacks {', '.join(missing)}; is it a LLaMA-VID model?")
        names = {field.name for field in dataclasses.fields(cls)} - {"llama"}
        config = cls(
            llama={k: raw[k] for k in LLAMA_FIELDS if k in raw}, **{k: raw[k] for k in names if k in raw}
        )
        if "qformer" not in config.bert_type:
            raise CheckpointError(
                f"LLaMA-VID: bert_type {config.bert_type!r} in {path} is not supported (only Q-Former models)"
            )
        if config.mm_use_im_start_end:
            raise CheckpointError(f"LLaMA-VID: {path} sets mm_use_im_start_end, which is not supported")
        return config

    @property
    def hidden_size(self) -> int:
        return int(self.llama["hidden_size"])

    @property
    def qformer_layers(self) -> int | None:
        """Layers kept when ``bert_type`` ends in ``layer:N`` (all otherwise)."""
        match = re.search(r"layer:(\d+)", self.bert_type)
        return int(match.group(1)) if match else None

    def llama_config(self) -> Any:
        """A transformers ``LlamaConfig`` for the language model (sdpa attention)."""
        from transformers import LlamaConfig

        return LlamaConfig(**self.llama, attn_implementation="sdpa")


def build_projector(kind: str, in_width: int, out_width: int) -> nn.Module:
    """LLaVA's ``mm_projector``: "linear", "identity" or "mlp{n}x_gelu" (``Sequential`` indices 0, 2, ...)."""
    if kind == "linear":
        return nn.Linear(in_width, out_width)
    if kind == "identity":
        return nn.Identity()
    match = re.fullmatch(r"mlp(\d+)x_gelu", kind)
    if match is None:
        raise CheckpointError(f"LLaMA-VID: unknown mm_projector_type {kind!r}")
    layers: list[nn.Module] = [nn.Linear(in_width, out_width)]
    for _ in range(int(match.group(1)) - 1):
        layers += [nn.GELU(), nn.Linear(out_width, out_width)]
    return nn.Sequential(*layers)


class VideoTokenizer(nn.Module):
    """The ``model.mm_projector`` and ``model.vlm_att_*`` weights: frame features + question ->
    ``[context, content...]`` LLM tokens per frame."""

    def __init__(self, config: LlamaVidConfig, qformer: QFormerConfig) -> None:
        super().__init__()
        self.config = config
        width, hidden = config.mm_hidden_size, config.hidden_size
        self.mm_projector = build_projector(config.mm_projector_type, width, hidden)
        self.vlm_att_encoder = QFormer(qformer)
        self.vlm_att_query = nn.Parameter(torch.zeros(1, config.num_query, qformer.hidden_size))
        self.vlm_att_projector = nn.Linear(qformer.hidden_size, width)
        self.vlm_att_key_projector = nn.Linear(width, width)
        self.vlm_att_val_projector = nn.Linear(width, hidden)
        if "pretrain" in config.bert_type:
            self.vlm_att_ln = nn.LayerNorm(width)

    def text_queries(
        self, frames: torch.Tensor, input_ids: torch.Tensor, text_mask: torch.Tensor
    ) -> torch.Tensor:
        """Q-Former outputs projected to the feature width: ``[T, num_query, mm_hidden]``.

        ``frames``: ``[T, N, mm_hidden]``; ``input_ids``/``text_mask``: ``[1, L]`` (one message).
        """
        count = frames.shape[0]
        encoder_in = self.vlm_att_ln(frames) if hasattr(self, "vlm_att_ln") else frames
        queries = self.vlm_att_query.expand(count, -1, -1)
        out = self.vlm_att_encoder.bert(
            input_ids.expand(count, -1), text_mask.expand(count, -1), queries, encoder_in
        )
        return self.vlm_att_projector(out)

    def content(self, frames: torch.Tensor) -> torch.Tensor:
        """Content tokens before projection, ``[T, n, mm_hidden]`` under ``compress_type``."""
        kind = self.config.compress_type
        if kind is None:
            return frames
        if "grid" in kind:
            grid = int(kind.split("grid:")[-1])
            side = int(frames.shape[1] ** 0.5)
            square = frames.reshape(frames.shape[0], side, side, -1).permute(0, 3, 1, 2)
            pooled = F.avg_pool2d(square, kernel_size=side // grid, stride=side // grid)
            return pooled.permute(0, 2, 3, 1).flatten(1, 2)
        if "mean" in kind:
            return frames.mean(dim=1, keepdim=True)
        raise CheckpointError(f"LLaMA-VID: unknown compress_type {kind!r}")

    def forward(self, frames: torch.Tensor, input_ids: torch.Tensor, text_mask: torch.Tensor) -> torch.Tensor:
        """Frame features ``[T, N, mm_hidden]`` (CLS removed) -> LLM tokens ``[T * (1 + n), hidden]``."""
        text_q = self.text_queries(frames, input_ids, text_mask)
        keys = self.vlm_att_key_projector(frames)
        scores = (text_q @ keys.transpose(-1, -2)) / frames.shape[-1] ** 0.5
        context = (scores.softmax(-1) @ frames).mean(dim=1)
        context = self.vlm_att_val_projector(context[:, None])
        tokens = torch.cat([context, self.mm_projector(self.content(frames))], dim=1)
        return tokens.flatten(0, 1)

    def tokens_per_frame(self, num_features: int) -> int:
        """``1 + n``: LLM tokens per frame of ``num_features`` feature tokens under ``compress_type``."""
        kind = self.config.compress_type
        if kind is not None and "grid" in kind:
            return 1 + int(kind.split("grid:")[-1]) ** 2
        if kind is not None and "mean" in kind:
            return 2
        return 1 + num_features


class LlamaVid(nn.Module):
    """EVA tower + :class:`VideoTokenizer` + ``LlamaForCausalLM`` (``language_model``)."""

    def __init__(
        self, vision_tower: nn.Module, video_tokenizer: VideoTokenizer, language_model: nn.Module
    ) -> None:
        super().__init__()
        self.vision_tower = vision_tower
        self.video_tokenizer = video_tokenizer
        self.language_model = language_model

    def frame_features(self, pixels: torch.Tensor, batch_size: int = 48) -> torch.Tensor:
        """CLIP-normalised frames ``[T, 3, S, S]`` -> EVA features without CLS ``[T, N, width]``
        (``batch_size`` frames per pass; a progress bar from 4 passes on)."""
        from tqdm.auto import tqdm

        starts = range(0, len(pixels), batch_size)
        chunks = [
            self.vision_tower(pixels[i : i + batch_size])[:, 1:]
            for i in tqdm(starts, desc="EVA ViT frames", unit="batch", disable=len(starts) < 4)
        ]
        return torch.cat(chunks)

    def input_embeddings(
        self, prompt_ids: torch.Tensor, image_slots: torch.Tensor, video_tokens: torch.Tensor
    ) -> torch.Tensor:
        """LLaMA input embeddings ``[1, L, hidden]``: token embeddings of ``prompt_ids`` (``[L]``)
        with the ``image_slots`` positions (bool ``[L]``) replaced by ``video_tokens`` in order."""
        if int(image_slots.sum()) != len(video_tokens):
            raise ValueError(
                f"the prompt has {int(image_slots.sum())} <image> slots for {len(video_tokens)} video tokens"
            )
        embed = self.language_model.get_input_embeddings()
        embeds = embed(prompt_ids.masked_fill(image_slots, 0))
        embeds[image_slots] = video_tokens.to(embeds.dtype)
        return embeds[None]
