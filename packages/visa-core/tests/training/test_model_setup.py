"""`model.frozen_encoders` decides which of the CLIP tower, the projector and the SAM encoders learn."""

from __future__ import annotations

import numpy as np
import pytest

from visa_core.config import ENCODERS, ConfigError, LoraConfig, ModelConfig
from visa_core.training.model_setup import build_model
from visa_core.types import Turn


def _gradients(frozen_encoders: tuple[str, ...]) -> dict[str, bool]:
    """Which parts receive a non-zero gradient from one training example."""
    model, processor = build_model(
        ModelConfig(preset="tiny", frozen_encoders=frozen_encoders), LoraConfig(enabled=False)
    )
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (40, 48, 3), dtype=np.uint8) for _ in range(3)]
    masks = np.zeros((1, 40, 48), dtype=bool)
    masks[0, 10:20, 12:30] = True
    turns = processor.make_conversation("the red circle", num_reference_frames=2, rng=None)
    assert any("[SEG]" in turn.text for turn in turns if isinstance(turn, Turn))
    batch = processor.collate([processor.encode_example(frames[:2], frames[2], turns, masks)])
    out = model(**batch)
    (out.lm_loss + out.mask_bce_loss + out.mask_dice_loss).backward()

    def moved(module) -> bool:
        return any(p.grad is not None and p.grad.abs().sum() > 0 for p in module.parameters())

    return {
        "vision_tower": moved(model.vision_tower),
        "mm_projector": moved(model.mm_projector),
        "sam.image_encoder": moved(model.sam.image_encoder),
        "mask_decoder": moved(model.sam.mask_decoder),
        "text_hidden_fcs": moved(model.text_hidden_fcs),
    }


@pytest.mark.parametrize("frozen", [ENCODERS, (), ("vision_tower",)])
def test_frozen_encoders(frozen: tuple[str, ...]) -> None:
    grads = _gradients(frozen)
    assert grads["mask_decoder"] and grads["text_hidden_fcs"]
    for name in ("vision_tower", "mm_projector", "sam.image_encoder"):
        assert grads[name] is (name not in frozen), name


def test_unknown_frozen_encoder_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"model.frozen_encoders: unknown \['clip'\]"):
        ModelConfig(preset="tiny", frozen_encoders=("clip",))
