"""``VisaProcessor``: the one place that turns frames, queries and masks into model inputs."""

from __future__ import annotations

import json
import random
import re
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import AutoTokenizer, PreTrainedTokenizerBase

from visa_core.errors import CheckpointError
from visa_core.model import templates
from visa_core.model.image_processing import (
    CLIP_MEAN,
    CLIP_STD,
    SAM_MEAN,
    SAM_STD,
    clip_preprocess,
    sam_preprocess,
)
from visa_core.model.llama_sentencepiece import (
    LEGACY_KEY,
    SENTENCEPIECE_FILE,
    TOKENIZER_CONFIG_FILE,
    LlamaSentencePiece,
    read_tokenizer_config,
)
from visa_core.model.prompt_styles import prompt_style as get_prompt_style
from visa_core.model.templates import IMAGE_TOKEN, SEG_TOKEN
from visa_core.model.tokenization import IGNORE_INDEX, encode_pieces, prepare_tokenizer
from visa_core.types import Turn

PROCESSOR_FILE = "visa_processor.json"


@dataclass(frozen=True)
class ImageSettings:
    """Sizes and normalisation of the CLIP and SAM inputs."""

    clip_size: int = 224
    clip_mean: tuple[float, ...] = CLIP_MEAN
    clip_std: tuple[float, ...] = CLIP_STD
    sam_size: int = 1024
    sam_mean: tuple[float, ...] = SAM_MEAN
    sam_std: tuple[float, ...] = SAM_STD


class VisaProcessor:
    """Tokenizer (with ``<image>`` and ``[SEG]``) plus CLIP / SAM preprocessing and prompt templates.

    ``sentencepiece``: the Llama ``tokenizer.model`` behind ``tokenizer`` with its 4.31 ``legacy``
    mode; prompts are then encoded exactly as the original encoded them (``tokenizer`` gives the
    added tokens' ids and decodes). Without it ``tokenizer`` encodes (the tiny byte-level one).
    """

    def __init__(
        self,
        tokenizer: PreTrainedTokenizerBase,
        images: ImageSettings | None = None,
        prompt_style: str = "visa",
        sentencepiece: LlamaSentencePiece | None = None,
    ) -> None:
        self.style = get_prompt_style(prompt_style)
        self.tokenizer = prepare_tokenizer(tokenizer, self.style.special_tokens)
        self.images = images or ImageSettings()
        self.seg_token_id = int(self.tokenizer.convert_tokens_to_ids(SEG_TOKEN))
        self.image_token_id = int(self.tokenizer.convert_tokens_to_ids(IMAGE_TOKEN))
        if sentencepiece is not None:
            _check_same_pieces(self.tokenizer, sentencepiece)
        self.sentencepiece = sentencepiece

    # ----------------------------------------------------------------- persistence
    @property
    def prompt_style(self) -> str:
        """``visa`` (reference video + target image) or ``lisa`` (one image, LISA's prompts)."""
        return self.style.name

    @property
    def shows_references(self) -> bool:
        """Whether prompts show reference frames (VISA) or only the target frame (LISA)."""
        return self.style.shows_references

    @property
    def embedding_rows(self) -> int:
        """Rows the LLM's embedding table needs: one past the largest token id but ``<image>``'s
        (``<image>`` is replaced by frame tokens and never embedded)."""
        ids = set(self.tokenizer.get_vocab().values()) - {self.image_token_id}
        return max(ids) + 1

    @classmethod
    def from_pretrained(
        cls, path: str | Path, prompt_style: str | None = None, **tokenizer_kwargs: Any
    ) -> VisaProcessor:
        """Load the tokenizer of a model folder, its image settings and prompt style
        (``visa_processor.json``; image sizes else derived from a VISA ``config.json``, else the
        real models' defaults; style else ``visa``). ``prompt_style`` overrides the saved style."""
        path = Path(path)
        if not path.is_dir():
            raise CheckpointError(f"{path}: not a model folder")
        tokenizer = AutoTokenizer.from_pretrained(str(path), **tokenizer_kwargs)
        sentencepiece = LlamaSentencePiece.from_folder(path)
        settings_file = path / PROCESSOR_FILE
        saved_style = "visa"
        if settings_file.is_file():
            raw = json.loads(settings_file.read_text())
            saved_style = raw.pop("prompt_style", "visa")
            images = ImageSettings(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()})
        elif (path / "config.json").is_file() and json.loads((path / "config.json").read_text()).get(
            "model_type"
        ) == "visa":
            config = json.loads((path / "config.json").read_text())
            images = ImageSettings(
                clip_size=config["vision_config"]["image_size"], sam_size=config["sam_config"]["image_size"]
            )
        else:
            images = ImageSettings()
        try:
            return cls(tokenizer, images, prompt_style or saved_style, sentencepiece)
        except ValueError as error:
            raise CheckpointError(f"{settings_file}: {error}") from error

    def save_pretrained(self, path: str | Path) -> None:
        """Write the tokenizer files and ``visa_processor.json`` (image settings, prompt style);
        with a sentencepiece model also ``tokenizer.model`` and its ``legacy`` mode (in
        ``tokenizer_config.json``, where transformers 4.31 reads it too)."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.tokenizer.save_pretrained(str(path))
        if self.sentencepiece is not None:
            model_file = path / SENTENCEPIECE_FILE
            if not model_file.exists() or not model_file.samefile(self.sentencepiece.model_file):
                shutil.copyfile(self.sentencepiece.model_file, model_file)
            config = {**read_tokenizer_config(path), LEGACY_KEY: self.sentencepiece.legacy}
            (path / TOKENIZER_CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
        settings = {**asdict(self.images), "prompt_style": self.prompt_style}
        (path / PROCESSOR_FILE).write_text(json.dumps(settings, indent=2) + "\n")

    # ----------------------------------------------------------------- prompts
    def make_conversation(
        self,
        query_text: str,
        num_reference_frames: int,
        rng: random.Random | None,
        answer: str | None = None,
        target: str | None = None,
    ) -> list[Turn]:
        """The original's two-turn conversation in this processor's prompt style: question
        template, then an answer with ``[SEG]`` (``rng`` None: the evaluation prompt and answer).
        ``answer`` replaces the answer entirely; ``target`` (the target named in words) goes into
        the answer template before ``[SEG]``.

        Raises:
            ValueError: reference frames for the ``lisa`` style (its prompt shows one image).
        """
        return [
            Turn("human", self.style.question(query_text, num_reference_frames, rng)),
            Turn("gpt", answer if answer is not None else self.style.answer(rng, target=target)),
        ]

    # ----------------------------------------------------------------- images
    def clip_pixels(self, frames: Sequence[np.ndarray]) -> torch.Tensor:
        """Frames ``uint8[H, W, 3]`` -> ``float32[len(frames), 3, s, s]`` CLIP inputs."""
        size, mean, std = self.images.clip_size, self.images.clip_mean, self.images.clip_std
        if not frames:
            return torch.zeros(0, 3, size, size)
        return torch.stack([clip_preprocess(frame, size, mean, std) for frame in frames])

    def sam_input(self, frame: np.ndarray):
        """One frame -> :class:`~visa_core.model.image_processing.SamInput`."""
        return sam_preprocess(frame, self.images.sam_size, self.images.sam_mean, self.images.sam_std)

    # ----------------------------------------------------------------- encoding
    def prompt_text(self, conversation: Sequence[Turn], add_generation_prompt: bool = False) -> str:
        """The prompt of a conversation as text (``llava_v1``), before tokenisation."""
        return "".join(
            text for text, _ in templates.conversation_segments(conversation, add_generation_prompt)
        )

    def encode_prompt(
        self, conversation: Sequence[Turn], add_generation_prompt: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(input_ids long[L], labels long[L])`` of a conversation in the ``llava_v1`` format."""
        pieces = templates.conversation_segments(conversation, add_generation_prompt)
        return encode_pieces(self.tokenizer, pieces, self.image_token_id, self.sentencepiece)

    def encode_example(
        self,
        reference_frames: Sequence[np.ndarray],
        target_frame: np.ndarray | None,
        conversation: Sequence[Turn],
        masks: np.ndarray | None,
    ) -> dict[str, Any]:
        """One training example: token ids and labels, CLIP pixels of every ``<image>`` (references
        then target), the SAM input of the target frame, and its masks ``bool[N, H, W]``.

        Raises:
            ValueError: image placeholders and frames disagree, ``[SEG]`` count and masks disagree,
                or masks do not match the target frame.
        """
        frames = [*reference_frames, *([] if target_frame is None else [target_frame])]
        self.check_placeholders(conversation, len(reference_frames), target_frame is not None)
        input_ids, labels = self.encode_prompt(conversation)
        example: dict[str, Any] = {
            "input_ids": input_ids,
            "labels": labels,
            "clip_pixel_values": self.clip_pixels(frames),
            "sam_pixel_values": None,
            "resized_size": None,
            "original_size": None,
            "masks": None,
        }
        if target_frame is not None:
            sam = self.sam_input(target_frame)
            example.update(
                sam_pixel_values=sam.pixel_values,
                resized_size=sam.resized_size,
                original_size=sam.original_size,
            )
        if masks is not None:
            self._check_masks(conversation, masks, target_frame)
            example["masks"] = torch.from_numpy(masks.copy())
        return example

    @staticmethod
    def check_placeholders(conversation: Sequence[Turn], num_references: int, has_target: bool) -> None:
        """Raise ValueError unless the conversation has one ``<image>`` per frame."""
        num_placeholders = sum(turn.text.count(IMAGE_TOKEN) for turn in conversation)
        if num_placeholders != num_references + has_target:
            raise ValueError(
                f"the conversation has {num_placeholders} {IMAGE_TOKEN} placeholders but "
                f"{num_references + has_target} frames were given ({num_references} references"
                f"{' + target' if has_target else ''})"
            )

    @staticmethod
    def _check_masks(
        conversation: Sequence[Turn], masks: np.ndarray, target_frame: np.ndarray | None
    ) -> None:
        """Raise ValueError unless ``masks`` is ``bool[N, H, W]`` on the target frame, one per ``[SEG]``."""
        if target_frame is None:
            raise ValueError("masks were given without a target frame")
        num_seg = sum(turn.text.count(SEG_TOKEN) for turn in conversation if turn.role == "gpt")
        if masks.dtype != np.bool_ or masks.ndim != 3 or masks.shape[1:] != target_frame.shape[:2]:
            raise ValueError(
                f"masks must be bool[N, {target_frame.shape[0]}, {target_frame.shape[1]}] on the target "
                f"frame, got {masks.dtype}{list(masks.shape)}"
            )
        if num_seg != masks.shape[0]:
            raise ValueError(
                f"the answers contain {num_seg} [SEG] tokens but {masks.shape[0]} masks were given"
            )

    def encode_examples(
        self,
        reference_frames: Sequence[np.ndarray],
        target_frame: np.ndarray | None,
        conversations: Sequence[Sequence[Turn]],
        masks: Sequence[np.ndarray | None],
    ) -> list[dict[str, Any]]:
        """Several conversations about the same frames (the original's up to
        ``num_classes_per_sample`` questions per sample): one :meth:`encode_example` each, sharing
        the frames' CLIP pixels and SAM input, which :meth:`collate` then encodes once."""
        if not conversations or len(conversations) != len(masks):
            raise ValueError(
                f"need one mask array per conversation, got {len(conversations)} and {len(masks)}"
            )
        first = self.encode_example(reference_frames, target_frame, conversations[0], masks[0])
        shared = {
            key: first[key]
            for key in ("clip_pixel_values", "sam_pixel_values", "resized_size", "original_size")
        }
        rows = [first]
        for conversation, row_masks in zip(conversations[1:], masks[1:], strict=True):
            self.check_placeholders(conversation, len(reference_frames), target_frame is not None)
            input_ids, labels = self.encode_prompt(conversation)
            row = {**shared, "input_ids": input_ids, "labels": labels, "masks": None}
            if row_masks is not None:
                self._check_masks(conversation, row_masks, target_frame)
                row["masks"] = torch.from_numpy(row_masks.copy())
            rows.append(row)
        return rows

    def collate(self, examples: Sequence[dict[str, Any] | list[dict[str, Any]]]) -> dict[str, Any]:
        """One row per conversation: right-padded ids / labels; sizes and masks stay per-row lists.

        An item is one example or a list of examples about the same frames (:meth:`encode_examples`);
        CLIP pixels and SAM inputs are kept once per item, and ``image_index`` (``long[placeholders]``,
        in row order) and ``target_index`` (``long[rows]``, -1 without a target frame) say which
        frames and which SAM input each row uses (``has_target``: ``target_index >= 0``).
        """
        if not examples:
            raise ValueError("cannot collate an empty list of examples")
        items = [item if isinstance(item, list) else [item] for item in examples]
        rows = [row for item in items for row in item]
        length = max(int(e["input_ids"].shape[0]) for e in rows)
        pad_id = self.tokenizer.pad_token_id
        input_ids = torch.full((len(rows), length), pad_id, dtype=torch.long)
        labels = torch.full((len(rows), length), IGNORE_INDEX, dtype=torch.long)
        attention_mask = torch.zeros((len(rows), length), dtype=torch.long)
        for row, example in enumerate(rows):
            n = example["input_ids"].shape[0]
            input_ids[row, :n] = example["input_ids"]
            labels[row, :n] = example["labels"]
            attention_mask[row, :n] = 1
        frames, sam, image_index, target_index = [], [], [], []
        num_frames = 0
        for item in items:
            pixels = item[0]["clip_pixel_values"]
            frames.append(pixels)
            target = -1
            if item[0]["sam_pixel_values"] is not None:
                target = len(sam)
                sam.append(item[0]["sam_pixel_values"])
            for _ in item:
                image_index.extend(range(num_frames, num_frames + pixels.shape[0]))
                target_index.append(target)
            num_frames += pixels.shape[0]
        target_index_tensor = torch.tensor(target_index, dtype=torch.long)
        return {
            "input_ids": input_ids,
            "attention_mask": attention_mask,
            "labels": labels,
            "clip_pixel_values": torch.cat(frames),
            "image_index": torch.tensor(image_index, dtype=torch.long),
            "sam_pixel_values": torch.stack(sam) if sam else None,
            "target_index": target_index_tensor,
            "has_target": target_index_tensor >= 0,
            "resized_sizes": [e["resized_size"] for e in rows],
            "original_sizes": [e["original_size"] for e in rows],
            "masks": [e["masks"] for e in rows],
        }

    def decode_answer(self, token_ids: Sequence[int]) -> str:
        """Answer text of generated ids, ``[SEG]`` kept, special tokens dropped; ``[SEG]`` gets back
        the spaces its tokenisation strips (``"It is [SEG]."``, ``"[SEG] and [SEG]"``)."""
        text = self.tokenizer.decode(list(token_ids), skip_special_tokens=True)
        text = re.sub(rf"\s*{re.escape(SEG_TOKEN)}", " " + SEG_TOKEN, text)
        text = re.sub(rf"{re.escape(SEG_TOKEN)}(?=\w)", SEG_TOKEN + " ", text)
        text = re.sub(rf"{re.escape(SEG_TOKEN)}\s+(?=[.,;:!?])", SEG_TOKEN, text)  # legacy's "[SEG] ▁ ."
        return text.strip()


def _check_same_pieces(tokenizer: PreTrainedTokenizerBase, sentencepiece: LlamaSentencePiece) -> None:
    """Raise CheckpointError unless ``tokenizer`` holds the sentencepiece model's pieces under their ids."""
    pieces = sentencepiece.pieces()
    if tokenizer.convert_ids_to_tokens(list(range(len(pieces)))) != pieces:
        raise CheckpointError(
            f"{sentencepiece.model_file}: its {len(pieces)} pieces are not the first tokens of the "
            "tokenizer beside it (tokenizer.json / tokenizer_config.json belong to another vocabulary)"
        )
