"""A :class:`VideoQABackend` that runs published LLaMA-VID checkpoints in-process."""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from visa_core import CheckpointError
from visa_frame_select.llamavid.conversation import tokenize_with_image_slots, user_message, vicuna_v1_prompt
from visa_frame_select.llamavid.eva_vit import (
    EVA_G_DEPTH,
    EvaVisionTransformer,
    EvaVitConfig,
    resize_pos_embed,
)
from visa_frame_select.llamavid.network import (
    QFORMER_MAX_TEXT_TOKENS,
    LlamaVid,
    LlamaVidConfig,
    VideoTokenizer,
)
from visa_frame_select.llamavid.qformer import QFormerConfig
from visa_frame_select.llamavid.weights import (
    load_exact,
    model_tensors,
    split_model_tensors,
    vision_tower_tensors,
)

STOP_STRING = "</s>"
"""``vicuna_v1``'s second separator: the end of an assistant turn."""


def _load_tokenizer(folder: Path, what: str, **options: Any) -> Any:
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(folder, **options)
    except (OSError, ValueError, ImportError) as error:
        raise CheckpointError(
            f"LLaMA-VID: cannot load the {what} tokenizer from {folder} (a folder with tokenizer.json, "
            f"or tokenizer.model with the sentencepiece package installed): {error}"
        ) from error


def _qformer_setup(folder: Path, config: LlamaVidConfig) -> tuple[QFormerConfig, Any]:
    """Q-Former geometry from the BERT folder's ``config.json`` and its tokenizer (left truncation,
    ``[DEC]`` added as BOS as LLaMA-VID's ``init_bert``)."""
    path = folder / "config.json"
    try:
        bert = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise CheckpointError(f"LLaMA-VID: cannot read the BERT config {path}: {error}") from error
    tokenizer = _load_tokenizer(folder, "BERT (Q-Former)", truncation_side="left")
    tokenizer.add_special_tokens({"bos_token": "[DEC]"})
    overrides: dict[str, Any] = {"vocab_size": len(tokenizer), "encoder_width": config.mm_hidden_size}
    if config.qformer_layers is not None:
        overrides["num_hidden_layers"] = config.qformer_layers
    return QFormerConfig.from_bert_config(bert, **overrides), tokenizer


def _image_processor(folder: Path | None, image_size: int) -> Any:
    """The CLIP processor in ``folder`` (``--image_processor``), else CLIP's at ``image_size``."""
    from transformers import CLIPImageProcessorPil

    if folder is None:
        return CLIPImageProcessorPil(
            size={"shortest_edge": image_size}, crop_size={"height": image_size, "width": image_size}
        )
    try:
        return CLIPImageProcessorPil.from_pretrained(folder)
    except (OSError, ValueError) as error:
        raise CheckpointError(
            f"LLaMA-VID: cannot load a CLIP image processor from {folder}: {error}"
        ) from error


class LlamaVidVideoQA:
    """LLaMA-VID from local files, asked as VISA's TFS server asked it.

    Args:
        model: the LLaMA-VID folder (``config.json``, tokenizer, ``pytorch_model*.bin`` shards).
        vision_tower: ``eva_vit_g.pth``.
        qformer: a ``bert-base-uncased`` folder (``config.json`` + tokenizer files).
        image_processor: a CLIP processor folder (``clip-vit-large-patch14``); default: CLIP
            preprocessing at the tower's native size (224 for ``eva_vit_g.pth``).
        greedy: greedy decoding instead of the server's sampling (temperature 0.6, top_p 0.9).
        vision_batch_size: frames per EVA forward pass (the server's ``--clip_infer_batch 48``).
    """

    def __init__(
        self,
        model: str | Path,
        vision_tower: str | Path,
        qformer: str | Path,
        *,
        image_processor: str | Path | None = None,
        device: str = "cpu",
        dtype: torch.dtype = torch.float32,
        max_new_tokens: int = 64,
        greedy: bool = False,
        temperature: float = 0.6,
        top_p: float = 0.9,
        vision_batch_size: int = 48,
    ) -> None:
        model, vision_tower, qformer = Path(model), Path(vision_tower), Path(qformer)
        self.config = LlamaVidConfig.from_folder(model)
        self.tokenizer = _load_tokenizer(model, "LLaMA")
        qformer_config, self.qformer_tokenizer = _qformer_setup(qformer, self.config)
        tower_state, dropped = vision_tower_tensors(vision_tower, EVA_G_DEPTH)
        if dropped:
            warnings.warn(
                f"LLaMA-VID: {len(dropped)} keys of blocks past {EVA_G_DEPTH} in {vision_tower} are not used "
                "(LLaMA-VID builds 39 blocks)",
                stacklevel=2,
            )
        native = (
            int((tower_state["pos_embed"].shape[1] - 1) ** 0.5)
            * tower_state["patch_embed.proj.weight"].shape[-1]
        )
        self.image_processor = _image_processor(
            None if image_processor is None else Path(image_processor), native
        )
        image_size = int(self.image_processor.crop_size["height"])
        vision_config = EvaVitConfig.from_state_dict(tower_state, image_size=image_size)
        if vision_config.width != self.config.mm_hidden_size:
            raise CheckpointError(
                f"LLaMA-VID: {vision_tower} gives {vision_config.width}-wide features but {model} expects "
                f"mm_hidden_size {self.config.mm_hidden_size}"
            )
        tower_state["pos_embed"] = resize_pos_embed(tower_state["pos_embed"], vision_config.grid)
        self.network = self._build(
            model, vision_tower, tower_state, vision_config, qformer_config, device, dtype
        )
        self.device = device
        self.vision_batch_size = vision_batch_size
        self.generation: dict[str, Any] = {"max_new_tokens": max_new_tokens, "do_sample": not greedy}
        if not greedy:
            self.generation.update(
                temperature=temperature, top_p=top_p, top_k=50
            )  # 50: the generate() default then
        self._cached_frames: list[np.ndarray] = []
        self._cached_features: torch.Tensor | None = None

    def _build(
        self,
        folder: Path,
        tower_path: Path,
        tower_state: dict[str, torch.Tensor],
        vision_config: EvaVitConfig,
        qformer_config: QFormerConfig,
        device: str,
        dtype: torch.dtype,
    ) -> LlamaVid:
        from transformers import LlamaForCausalLM

        llama_config = self.config.llama_config()
        with torch.device("meta"):
            tower = EvaVisionTransformer(vision_config)
            video_tokenizer = VideoTokenizer(self.config, qformer_config)
            language_model = LlamaForCausalLM(llama_config)
        language, video = split_model_tensors(model_tensors(folder), folder)
        load_exact(tower, tower_state, str(tower_path), dtype=dtype, device=device)
        load_exact(
            video_tokenizer,
            video,
            f"{folder} (model.mm_projector / model.vlm_att_*)",
            dtype=dtype,
            device=device,
        )
        load_exact(language_model, language, f"{folder} (LLaMA)", dtype=dtype, device=device)
        rotary = language_model.model.rotary_emb
        language_model.model.rotary_emb = type(rotary)(llama_config).to(device)
        network = LlamaVid(tower, video_tokenizer, language_model).eval()
        left_on_meta = [name for name, tensor in network.state_dict(keep_vars=True).items() if tensor.is_meta]
        left_on_meta += [name for name, tensor in network.named_buffers() if tensor.is_meta]
        if left_on_meta:
            raise CheckpointError(
                f"LLaMA-VID: tensors left without values: {', '.join(sorted(set(left_on_meta)))}"
            )
        return network

    def frame_features(self, frames: Sequence[np.ndarray]) -> torch.Tensor:
        """EVA features without CLS ``[T, N, 1408]`` of ``frames`` (the last frames' are reused)."""
        same = len(frames) == len(self._cached_frames) and all(
            a is b or (a.shape == b.shape and np.array_equal(a, b))
            for a, b in zip(frames, self._cached_frames, strict=True)
        )
        if not same or self._cached_features is None:
            pixels = self.image_processor(images=[np.asarray(f) for f in frames], return_tensors="pt")[
                "pixel_values"
            ]
            pixels = pixels.to(self.device, self.network.vision_tower.cls_token.dtype)
            with torch.inference_mode():
                self._cached_features = self.network.frame_features(pixels, self.vision_batch_size)
            self._cached_frames = list(frames)
        return self._cached_features

    def prompt(self, num_frames: int, question: str) -> tuple[str, str]:
        """``(user message, vicuna_v1 prompt)`` for ``num_frames`` frames."""
        per_frame = self.network.video_tokenizer.tokens_per_frame(self.network.vision_tower.config.grid**2)
        message = user_message(num_frames, question, per_frame)
        return message, vicuna_v1_prompt(message)

    def input_embeddings(self, frames: Sequence[np.ndarray], question: str) -> torch.Tensor:
        """LLaMA input embeddings ``[1, L, hidden]`` of the prompt with the frames' tokens in place."""
        features = self.frame_features(frames)
        message, prompt = self.prompt(len(frames), question)
        text = self.qformer_tokenizer(
            [message],
            padding="longest",
            truncation=True,
            max_length=QFORMER_MAX_TEXT_TOKENS,
            return_tensors="pt",
        ).to(self.device)
        ids, slots = tokenize_with_image_slots(prompt, self.tokenizer)
        with torch.inference_mode():
            tokens = self.network.video_tokenizer(features, text["input_ids"], text["attention_mask"])
            return self.network.input_embeddings(
                torch.tensor(ids, device=self.device), torch.tensor(slots, device=self.device), tokens
            )

    def answer(self, frames: Sequence[np.ndarray], question: str, seed: int) -> str:
        embeds = self.input_embeddings(frames, question)
        torch.manual_seed(seed)
        with torch.inference_mode():
            output = self.network.language_model.generate(
                inputs_embeds=embeds,
                attention_mask=torch.ones(embeds.shape[:2], dtype=torch.long, device=self.device),
                eos_token_id=self.tokenizer.eos_token_id,
                pad_token_id=(
                    self.tokenizer.eos_token_id
                    if self.tokenizer.pad_token_id is None
                    else self.tokenizer.pad_token_id
                ),
                **self.generation,
            )
        text = self.tokenizer.decode(output[0], skip_special_tokens=True).strip()
        return text.removesuffix(STOP_STRING).strip()
