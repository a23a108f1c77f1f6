"""Tiny random-weight models for the model-backed selectors, written in their published formats.

For tests and end-to-end checks elsewhere that need every selector without downloads:
:func:`write_tiny_clip` (``clip``), :func:`write_tiny_llava` (``llamavid`` with
``backend="transformers"``) and :func:`write_tiny_llamavid` (``llamavid`` with
``backend="llamavid"``: LLaMA-VID's published file layout and key names at toy widths).
Only the standard library is imported here; torch, transformers and tokenizers are imported
inside the functions.
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


def tiny_tokenizer(special: list[str] | None = None, *, add_eos: bool = True) -> Any:
    """A word-level fast tokenizer built offline (``<pad> <unk> <s> </s>`` + ``special`` + words).

    Encoding adds ``<s>`` ... ``</s>`` (only ``<s>`` without ``add_eos``, as LLaMA's tokenizer);
    ``special`` tokens are never split.
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
        single="<s> $A </s>" if add_eos else "<s> $A",
        special_tokens=[("<s>", vocab["<s>"]), ("</s>", vocab["</s>"])],
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


def tiny_llama_fields(tokenizer: Any) -> dict[str, Any]:
    """Config fields of the 2-layer, 32-wide Llama that the tiny Llava and LLaMA-VID share."""
    return {
        "vocab_size": len(tokenizer),
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "num_key_value_heads": 2,
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }


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
        text_config={"model_type": "llama", **tiny_llama_fields(tokenizer)},
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


TINY_EVA = {"image_size": 28, "patch_size": 14, "width": 88, "depth": 2, "mlp_hidden": 96}
"""The tiny EVA tower: one 88-wide head (EVA's head width), 2x2 patches of 14 px, 2 blocks."""


def _tiny_bert_folder(folder: Path) -> Path:
    """A 2-layer, 32-wide BERT folder (``config.json``, ``vocab.txt``, tokenizer files)."""
    import json

    from transformers import BertTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    words = [*TINY_WORDS, "below", "movie", "image", "<", ">", "now", "end", *"0123456789%.,'?:"]
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *dict.fromkeys(words)]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    BertTokenizerFast(vocab={token: i for i, token in enumerate(vocab)}).save_pretrained(folder)
    config = {
        "model_type": "bert",
        "architectures": ["BertForMaskedLM"],
        "vocab_size": len(vocab),
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 64,
        "max_position_embeddings": 512,
        "layer_norm_eps": 1e-12,
        "hidden_act": "gelu",
    }
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    return folder


def write_tiny_llamavid(folder: str | Path) -> dict[str, Path]:
    """Random LLaMA-VID weights in the published layout under ``folder``.

    Returns ``{"model": .../llama-vid-tiny-224-video-fps-1, "vision_tower": .../eva_vit_g.pth,
    "qformer": .../bert-base-uncased}``: the model folder holds a ``model_type`` "llava"
    ``config.json`` (bert_type "qformer_pretrain", compress_type "mean", mm_projector_type
    "mlp2x_gelu", 4 queries), a LLaMA-style tokenizer (BOS only) and two ``pytorch_model-*.bin``
    shards with ``pytorch_model.bin.index.json`` (LLaMA 32 wide, 2 layers; the transformers-4.31
    ``rotary_emb.inv_freq`` and BERT ``position_ids`` buffers included as published);
    ``eva_vit_g.pth`` is a flat EVA state dict (88 wide, 2 blocks, 28 px).
    """
    import json

    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from visa_frame_select.llamavid.eva_vit import EvaVisionTransformer, EvaVitConfig
    from visa_frame_select.llamavid.network import LlamaVidConfig, VideoTokenizer
    from visa_frame_select.llamavid.qformer import QFormerConfig

    root = Path(folder)
    model_dir = root / "llama-vid-tiny-224-video-fps-1"
    model_dir.mkdir(parents=True, exist_ok=True)
    bert_dir = _tiny_bert_folder(root / "bert-base-uncased")
    torch.manual_seed(0)

    def randomised(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        # zero-initialised biases, tokens and embeddings get values so that every weight matters
        return {k: v + 0.02 * torch.randn_like(v) if v.is_floating_point() else v for k, v in state.items()}

    eva = EvaVitConfig(**TINY_EVA, num_heads=1)
    torch.save(randomised(EvaVisionTransformer(eva).state_dict()), root / "eva_vit_g.pth")

    tokenizer = tiny_tokenizer(add_eos=False)
    tokenizer.save_pretrained(model_dir)
    llama = {
        **tiny_llama_fields(tokenizer),
        "hidden_act": "silu",
        "max_position_embeddings": 4096,
        "rms_norm_eps": 1e-5,
        "tie_word_embeddings": False,
    }
    multimodal = {
        "mm_hidden_size": eva.width,
        "mm_projector_type": "mlp2x_gelu",
        "mm_vision_select_feature": "patch",
        "mm_vision_select_layer": -2,
        "mm_vision_tower": "./model_zoo/LAVIS/eva_vit_g.pth",
        "image_processor": "./llamavid/processor/clip-patch14-224",
        "mm_use_im_start_end": False,
        "mm_use_im_patch_token": False,
        "bert_type": "qformer_pretrain",
        "num_query": 4,
        "compress_type": "mean",
    }
    config = {"architectures": ["LlavaLlamaAttForCausalLM"], "model_type": "llava", **llama, **multimodal}
    (model_dir / "config.json").write_text(json.dumps(config, indent=2))

    language = LlamaForCausalLM(LlamaConfig(**llama)).state_dict()
    head_dim = llama["hidden_size"] // llama["num_attention_heads"]
    inv_freq = 1.0 / 10000 ** (torch.arange(0, head_dim, 2).float() / head_dim)
    for layer in range(llama["num_hidden_layers"]):
        language[f"model.layers.{layer}.self_attn.rotary_emb.inv_freq"] = inv_freq
    bert_json = json.loads((bert_dir / "config.json").read_text())
    qformer = QFormerConfig.from_bert_config(
        bert_json, vocab_size=bert_json["vocab_size"] + 1, encoder_width=eva.width
    )
    video = VideoTokenizer(LlamaVidConfig.from_folder(model_dir), qformer).state_dict()
    video = {f"model.{k}": v for k, v in randomised(video).items()}
    video["model.vlm_att_encoder.bert.embeddings.position_ids"] = torch.arange(512)[None]
    shards = {"pytorch_model-00001-of-00002.bin": language, "pytorch_model-00002-of-00002.bin": video}
    weight_map = {}
    for name, state in shards.items():
        torch.save(state, model_dir / name)
        weight_map.update(dict.fromkeys(state, name))
    index = {"metadata": {"total_size": 0}, "weight_map": weight_map}
    (model_dir / "pytorch_model.bin.index.json").write_text(json.dumps(index, indent=2))
    return {"model": model_dir, "vision_tower": root / "eva_vit_g.pth", "qformer": bert_dir}
