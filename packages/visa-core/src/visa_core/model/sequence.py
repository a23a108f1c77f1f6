"""Splice merged frame tokens into the text embeddings at every ``<image>`` placeholder.

Every position of the expanded sequence keeps its token id (image positions hold -1), so the
``[SEG]`` positions are read from the expanded sequence itself, never from fixed offsets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from visa_core.model.tokenization import IGNORE_INDEX

IMAGE_POSITION = -1


@dataclass
class ExpandedSequence:
    """``embeds`` ``[B, L', H]``; ``attention_mask``, ``token_ids``, ``labels`` ``long[B, L']``."""

    embeds: torch.Tensor
    attention_mask: torch.Tensor
    token_ids: torch.Tensor
    labels: torch.Tensor | None


def expand_images(
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor | None,
    labels: torch.Tensor | None,
    image_features: torch.Tensor,
    image_token_id: int,
    embed_tokens: Callable[[torch.Tensor], torch.Tensor],
) -> ExpandedSequence:
    """Replace each ``image_token_id`` in ``input_ids`` ``[B, L]`` by the next frame of
    ``image_features`` ``[I, T, H]`` (in order over the batch); padding is removed and re-added on
    the right.

    Raises:
        ValueError: the number of placeholders differs from ``I``.
    """
    num_placeholders = int((input_ids == image_token_id).sum())
    if num_placeholders != image_features.shape[0]:
        raise ValueError(
            f"the batch has {num_placeholders} <image> placeholders but {image_features.shape[0]} frames"
        )
    if attention_mask is None:
        attention_mask = torch.ones_like(input_ids)
    tokens_per_image = image_features.shape[1]
    is_image = input_ids == image_token_id
    text_embeds = embed_tokens(torch.where(is_image, torch.zeros_like(input_ids), input_ids))
    rows_embeds, rows_ids, rows_labels = [], [], []
    next_image = 0
    for row in range(input_ids.shape[0]):
        keep = attention_mask[row].bool()
        ids, embeds = input_ids[row][keep], text_embeds[row][keep]
        row_labels = labels[row][keep] if labels is not None else None
        pieces_e, pieces_i, pieces_l = [], [], []
        start = 0
        for position in torch.nonzero(ids == image_token_id).flatten().tolist():
            pieces_e += [embeds[start:position], image_features[next_image].to(embeds.dtype)]
            pieces_i += [ids[start:position], ids.new_full((tokens_per_image,), IMAGE_POSITION)]
            if row_labels is not None:
                pieces_l += [row_labels[start:position], ids.new_full((tokens_per_image,), IGNORE_INDEX)]
            next_image += 1
            start = position + 1
        pieces_e.append(embeds[start:])
        pieces_i.append(ids[start:])
        rows_embeds.append(torch.cat(pieces_e))
        rows_ids.append(torch.cat(pieces_i))
        if row_labels is not None:
            pieces_l.append(row_labels[start:])
            rows_labels.append(torch.cat(pieces_l))
    length = max(r.shape[0] for r in rows_ids)
    batch, hidden = len(rows_ids), text_embeds.shape[-1]
    out_embeds = text_embeds.new_zeros(batch, length, hidden)
    out_ids = input_ids.new_full((batch, length), IMAGE_POSITION - 1)
    out_mask = attention_mask.new_zeros(batch, length)
    out_labels = input_ids.new_full((batch, length), IGNORE_INDEX) if labels is not None else None
    for row in range(batch):
        n = rows_ids[row].shape[0]
        out_embeds[row, :n] = rows_embeds[row]
        out_ids[row, :n] = rows_ids[row]
        out_mask[row, :n] = 1
        if out_labels is not None:
            out_labels[row, :n] = rows_labels[row]
    return ExpandedSequence(out_embeds, out_mask, out_ids, out_labels)


def seg_state_positions(sequence: ExpandedSequence, seg_token_id: int) -> list[torch.Tensor]:
    """Per sample, the positions whose hidden state becomes a ``[SEG]`` prompt: the position right
    before each ``[SEG]`` (the state that predicts it), in order. With labels only supervised
    ``[SEG]`` tokens count (answers, not questions)."""
    is_seg = sequence.token_ids == seg_token_id
    if sequence.labels is not None:
        is_seg &= sequence.labels == seg_token_id
    return [torch.nonzero(row).flatten() - 1 for row in is_seg]
