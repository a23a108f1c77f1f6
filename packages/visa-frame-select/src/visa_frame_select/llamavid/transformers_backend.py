"""A :class:`VideoQABackend` over any transformers image-text-to-text model in a local folder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from visa_core import CheckpointError
from visa_frame_select.llamavid.protocol import MOVIE_END, MOVIE_PREAMBLE


class TransformersVideoQA:
    """Loads ``AutoProcessor`` + ``AutoModelForImageTextToText`` (e.g. Llava) from ``folder``.

    The frames go in as one image each between the LLaMA-VID movie preamble and the question, in
    the processor's chat template; answers are sampled (temperature 0.6, top_p 0.9 as the
    original's server) with ``torch.manual_seed(seed)``, or decoded greedily.
    """

    def __init__(
        self,
        folder: str | Path,
        *,
        device: str = "cpu",
        dtype: Any = None,
        max_new_tokens: int = 64,
        greedy: bool = False,
        temperature: float = 0.6,
        top_p: float = 0.9,
    ) -> None:
        from transformers import AutoModelForImageTextToText, AutoProcessor

        folder = Path(folder)
        if not (folder / "config.json").is_file():
            raise CheckpointError(f"video LLM folder {folder} has no config.json")
        try:
            self.processor = AutoProcessor.from_pretrained(folder)
            model = AutoModelForImageTextToText.from_pretrained(folder, dtype=dtype)
        except (OSError, ValueError) as error:
            raise CheckpointError(
                f"cannot load an image-text-to-text model from {folder}: {error}"
            ) from error
        if getattr(self.processor, "chat_template", None) is None:
            raise CheckpointError(f"the processor in {folder} has no chat template (chat_template.jinja)")
        self.model = model.to(device).eval()
        self.device = device
        self.generation: dict[str, Any] = {"max_new_tokens": max_new_tokens, "do_sample": not greedy}
        if not greedy:
            self.generation.update(temperature=temperature, top_p=top_p)

    def prompt(self, num_frames: int, question: str) -> str:
        """The chat-formatted prompt text with one image slot per frame."""
        content = [
            {"type": "text", "text": MOVIE_PREAMBLE},
            *({"type": "image"} for _ in range(num_frames)),
            {"type": "text", "text": f"{MOVIE_END}\n{question}"},
        ]
        messages = [{"role": "user", "content": content}]
        return self.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)

    def answer(self, frames: Sequence[np.ndarray], question: str, seed: int) -> str:
        import torch

        inputs = self.processor(
            images=[np.asarray(frame) for frame in frames],
            text=self.prompt(len(frames), question),
            return_tensors="pt",
        ).to(self.device)
        if "pixel_values" in inputs:
            inputs["pixel_values"] = inputs["pixel_values"].to(self.model.dtype)
        torch.manual_seed(seed)
        with torch.inference_mode():
            output = self.model.generate(**inputs, **self.generation)
        new_tokens = output[0, inputs["input_ids"].shape[1] :]
        return self.processor.decode(new_tokens, skip_special_tokens=True)
