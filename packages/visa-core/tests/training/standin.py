"""A small stand-in for ``visa_core.model`` following its output contract, and a test dataset.

The loop, checkpointing and mixture tests run on it in a fraction of a second per step; the
end-to-end tests use the real tiny preset.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch
from torch import nn

from visa_core import DatasetLoader, Query, Sample, Turn, hookimpl
from visa_core.testing.synthetic import moving_squares

SIZE = 8


class SquaresDataset(DatasetLoader):
    """Moving-squares videos; query ``k`` of video ``v`` targets square ``k % 2``."""

    name = "test_squares"

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Config(DatasetLoader.Config):
        num_videos: int = 4
        num_frames: int = 14

    def __len__(self) -> int:
        return 2 * self.config.num_videos

    def __getitem__(self, index: int) -> Sample:
        video, masks = moving_squares(self.config.num_frames, video_id=f"video{index // 2}")
        obj = index % 2
        annotated = np.ones(len(video), dtype=bool)
        annotated[::3] = False
        masks = masks[obj : obj + 1] & annotated[None, :, None, None]
        query = Query(("the red square", "the green square")[obj], query_id=str(index), kind="referring")
        return Sample(video=video, query=query, masks=masks, annotated=annotated)

    def same_video_samples(self, index: int) -> Sequence[int]:
        first = index - index % 2
        return (first, first + 1)


@hookimpl
def register_datasets(registry: Any) -> None:
    registry.add(SquaresDataset)


def _pool(frame: np.ndarray) -> torch.Tensor:
    tensor = torch.from_numpy(frame).permute(2, 0, 1).float()[None] / 255.0
    return nn.functional.adaptive_avg_pool2d(tensor, SIZE)[0]


class StandInProcessor:
    """``make_conversation`` / ``encode_example`` / ``collate`` with the contract's signatures."""

    def make_conversation(
        self,
        query_text: str,
        num_reference_frames: int,
        rng: random.Random | None,
        answer: str | None = None,
        target: str | None = None,
    ) -> list[Turn]:
        return [
            Turn("human", f"{num_reference_frames} frames: what is {query_text}?"),
            Turn("gpt", answer or f"It is {target + ' ' if target else ''}[SEG]."),
        ]

    def encode_example(
        self,
        reference_frames: Sequence[np.ndarray],
        target_frame: np.ndarray | None,
        conversation: Sequence[Turn],
        masks: np.ndarray | None,
    ) -> dict[str, torch.Tensor]:
        mask = torch.from_numpy(masks[:1]).float()[None] if masks is not None else torch.zeros(1, 1, 1, 1)
        return {
            "video": torch.stack([_pool(f) for f in reference_frames]).mean(0),
            "target": _pool(target_frame),
            "mask": nn.functional.adaptive_max_pool2d(mask, SIZE)[0],
            "word": torch.tensor(1 if "red" in conversation[0].text else 2),
        }

    def collate(self, examples: Sequence[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        return {key: torch.stack([e[key] for e in examples]) for key in examples[0]}

    def save_pretrained(self, folder: Path) -> None:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / "processor.txt").write_text("stand-in\n")


class StandInModel(nn.Module):
    """Predicts a mask and a word from pooled frames; returns the contract's unweighted losses."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(6, 8, 3, padding=1), nn.ReLU(), nn.Dropout(0.1))
        self.mask_head = nn.Conv2d(8, 1, 1)
        self.word_head = nn.Linear(8, 4)

    def forward(
        self, video: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, word: torch.Tensor
    ) -> Any:
        features = self.encoder(torch.cat([video, target], dim=1))
        logits = self.mask_head(features)
        probabilities = logits.sigmoid().flatten(1)
        targets = mask.flatten(1)
        dice = 1 - (2 * (probabilities * targets).sum(1) + 1) / (probabilities.sum(1) + targets.sum(1) + 1)
        return SimpleNamespace(
            lm_loss=nn.functional.cross_entropy(self.word_head(features.mean((2, 3))), word),
            mask_bce_loss=nn.functional.binary_cross_entropy_with_logits(logits, mask),
            mask_dice_loss=dice.mean(),
            pred_masks=list(logits[:, 0:1]),
        )

    def save_pretrained(self, folder: Path) -> None:
        Path(folder).mkdir(parents=True, exist_ok=True)
        torch.save(self.state_dict(), Path(folder) / "standin.pt")
