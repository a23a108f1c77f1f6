"""The ``clip`` selector: the target is the frame most similar to the query under CLIP."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from visa_core import CheckpointError, FrameSelection, FrameSelector, Query, Video
from visa_core.components.frame_sampling import DEFAULT_MAX_IMAGE_TOKEN, spread_references
from visa_frame_select.torch_options import check_dtype, torch_dtype

PROGRESS_MIN_FRAMES = 256
"""Videos at least this long show a progress bar while their frames are embedded."""


@dataclasses.dataclass(frozen=True)
class _VideoKey:
    """Identifies a video for the embedding cache (same id, length and frame source object)."""

    video_id: str
    num_frames: int
    source_id: int


class ClipSelector(FrameSelector):
    """Target = frame with the highest CLIP text-frame cosine similarity; references spread around it."""

    name: ClassVar[str] = "clip"

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Config:
        """``model``: a local folder holding a transformers ``CLIPModel`` with its tokenizer (and
        optionally ``preprocessor_config.json``); ``frame_stride``: embed every n-th frame only
        (the others take the score of the embedded frame before them); ``batch_size``: frames per
        forward pass."""

        model: Path
        device: str = "cpu"
        dtype: str = "float32"
        batch_size: int = 32
        frame_stride: int = 1
        max_image_token: int = DEFAULT_MAX_IMAGE_TOKEN

        def __post_init__(self) -> None:
            check_dtype(self.dtype)
            if self.batch_size < 1 or self.frame_stride < 1:
                raise ValueError("batch_size and frame_stride must be at least 1")

    def __init__(self, config: Any = None, /, **options: Any) -> None:
        super().__init__(config, **options)
        folder = Path(self.config.model)
        if not (folder / "config.json").is_file():
            raise CheckpointError(f"selector 'clip': {folder} is not a CLIPModel folder (no config.json)")
        self._model: Any = None
        self._tokenizer: Any = None
        self._image_processor: Any = None
        self._cached_key: _VideoKey | None = None
        self._cached_embeddings: Any = None

    def _load(self) -> None:
        if self._model is not None:
            return
        from transformers import AutoTokenizer, CLIPImageProcessorPil, CLIPModel

        folder = Path(self.config.model)
        try:
            model = CLIPModel.from_pretrained(folder, dtype=torch_dtype(self.config.dtype))
            self._tokenizer = AutoTokenizer.from_pretrained(folder)
        except (OSError, ValueError) as error:
            raise CheckpointError(
                f"selector 'clip': cannot load a CLIPModel from {folder}: {error}"
            ) from error
        size = model.config.vision_config.image_size
        if (folder / "preprocessor_config.json").is_file():
            self._image_processor = CLIPImageProcessorPil.from_pretrained(folder)
        else:
            self._image_processor = CLIPImageProcessorPil(
                size={"shortest_edge": size}, crop_size={"height": size, "width": size}
            )
        self._model = model.to(self.config.device).eval()

    def frame_embeddings(self, video: Video) -> Any:
        """Unit-norm image embeddings ``float32[ceil(T / frame_stride), D]`` (cached for the last video)."""
        import torch
        from tqdm.auto import tqdm

        self._load()
        key = _VideoKey(video.video_id, len(video), id(video.frames))
        if key == self._cached_key:
            return self._cached_embeddings
        indices = range(0, len(video), self.config.frame_stride)
        batches = [
            indices[i : i + self.config.batch_size] for i in range(0, len(indices), self.config.batch_size)
        ]
        chunks = []
        progress = tqdm(
            batches,
            desc=f"CLIP frames of {video.video_id}",
            unit="batch",
            disable=len(video) < PROGRESS_MIN_FRAMES,
        )
        with torch.inference_mode():
            for batch in progress:
                pixels = self._image_processor(images=[video.frames[i] for i in batch], return_tensors="pt")
                pixel_values = pixels["pixel_values"].to(self.config.device, self._model.dtype)
                features = self._model.get_image_features(pixel_values=pixel_values).pooler_output
                chunks.append(torch.nn.functional.normalize(features.float(), dim=-1).cpu())
        self._cached_key, self._cached_embeddings = key, torch.cat(chunks)
        return self._cached_embeddings

    def text_embedding(self, text: str) -> Any:
        """Unit-norm text embedding ``float32[D]`` of ``text`` (truncated to CLIP's context length)."""
        import torch

        self._load()
        max_length = self._model.config.text_config.max_position_embeddings
        tokens = self._tokenizer([text], truncation=True, max_length=max_length, return_tensors="pt")
        with torch.inference_mode():
            features = self._model.get_text_features(
                input_ids=tokens["input_ids"].to(self.config.device),
                attention_mask=tokens["attention_mask"].to(self.config.device),
            ).pooler_output
        return torch.nn.functional.normalize(features.float(), dim=-1).cpu()[0]

    def scores(self, video: Video, query: Query) -> np.ndarray:
        """Cosine similarity of every frame to the query, ``float32[T]``."""
        similarity = (self.frame_embeddings(video) @ self.text_embedding(query.text)).numpy()
        return np.repeat(similarity, self.config.frame_stride)[: len(video)].astype(np.float32)

    def select(self, video: Video, query: Query) -> FrameSelection:
        scores = self.scores(video, query)
        target = int(np.argmax(scores))
        references = spread_references(len(video), target, self.config.max_image_token)
        return FrameSelection(target=target, references=references, scores=scores)
