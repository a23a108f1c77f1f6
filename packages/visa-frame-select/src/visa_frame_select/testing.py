"""Tiny random-weight models for the model-backed selectors, written in their published formats.

For tests and end-to-end checks elsewhere that need every selector without downloads:
:func:`write_tiny_clip` (``clip``) and :func:`write_tiny_llava` (``llamavid`` with
``backend="transformers"``). Only the standard library is imported here; torch, transformers
and tokenizers are imported inside the functions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

TINY_WORDS = (
    "the",
    "a",
    "square",
    "that",
    "moves",
    "right",
    "left",
    "red",
    "green",
    "blue",
    "car",
    "dog",
    "person",
    "man",
    "woman",
    "who",
    "is",
    "find",
)
"""Words the tiny tokenizers know besides digits and punctuation (everything else is ``<unk>``)."""


def tiny_tokenizer(special: list[str] | None = None) -> Any:
    """A word-level fast tokenizer built offline (``<pad> <unk> <s> </s>`` + ``special`` + words).

    Encoding adds ``<s>`` ... ``</s>``; ``special`` tokens are never split.
    """
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    special = list(special or [])
    vocab = {token: i for i, token in enumerate(["<pad>", "<unk>", "<s>", "</s>", *special])}
    for word in [*TINY_WORDS, *"0123456789%.,'?:"]:
        vocab.setdefault(word, len(vocab))
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()]
    )
    core.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", vocab["<s>"]), ("</s>", vocab["</s>"])]
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core, bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>"
    )
    if special:
        tokenizer.add_tokens(special, special_tokens=True)
    return tokenizer


def write_tiny_clip(folder: str | Path) -> Path:
    """A random ``CLIPModel`` (hidden 32, 2 layers, 32x32 images, patch 8) with a word-level
    tokenizer, saved with ``save_pretrained`` into ``folder`` (created); returns the folder."""
    import torch
    from transformers import CLIPConfig, CLIPModel

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = tiny_tokenizer()
    config = CLIPConfig(
        text_config={
            "vocab_size": len(tokenizer),
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "max_position_embeddings": 32,
            "eos_token_id": tokenizer.eos_token_id,
            "bos_token_id": tokenizer.bos_token_id,
            "pad_token_id": tokenizer.pad_token_id,
        },
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "image_size": 32,
            "patch_size": 8,
        },
        projection_dim=16,
    )
    torch.manual_seed(0)
    CLIPModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


LLAVA_CHAT_TEMPLATE = (
    "{% for message in messages %}USER: {% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<image>{% else %}{{ part['text'] }} {% endif %}"
    "{% endfor %}{% endfor %}{% if add_generation_prompt %}ASSISTANT:{% endif %}"
)
"""The tiny Llava's chat template: ``USER: <text> <image>... ASSISTANT:``."""


def write_tiny_llava(folder: str | Path) -> Path:
    """A random ``LlavaForConditionalGeneration`` (CLIP 32x32 patch 16 + 2-layer Llama, hidden 32)
    with a ``LlavaProcessor`` and :data:`LLAVA_CHAT_TEMPLATE`, saved into ``folder``; returns it."""
    import torch
    from transformers import CLIPImageProcessorPil, LlavaConfig, LlavaForConditionalGeneration, LlavaProcessor

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = tiny_tokenizer(["<image>"])
    config = LlavaConfig(
        vision_config={
            "model_type": "clip_vision_model",
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "image_size": 32,
            "patch_size": 16,
        },
        text_config={
            "model_type": "llama",
            "vocab_size": len(tokenizer),
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "num_key_value_heads": 2,
            "bos_token_id": tokenizer.bos_token_id,
            "eos_token_id": tokenizer.eos_token_id,
            "pad_token_id": tokenizer.pad_token_id,
        },
        image_token_id=tokenizer.convert_tokens_to_ids("<image>"),
        vision_feature_layer=-2,
        vision_feature_select_strategy="default",
    )
    torch.manual_seed(0)
    LlavaForConditionalGeneration(config).save_pretrained(folder)
    processor = LlavaProcessor(
        image_processor=CLIPImageProcessorPil(
            size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
        ),
        tokenizer=tokenizer,
        patch_size=16,
        num_additional_image_tokens=1,  # CLIP's CLS token, dropped by the "default" strategy
        vision_feature_select_strategy="default",
        chat_template=LLAVA_CHAT_TEMPLATE,
    )
    processor.save_pretrained(folder)
    return folder
