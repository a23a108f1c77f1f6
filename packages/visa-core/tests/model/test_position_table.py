"""A random-weight CLIP tower starts from a sine-cosine position table; loaded weights replace it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from visa_core.model import VisaForSegmentation, preset_config
from visa_core.model.position_table import POSITION_TABLE_SCALE, init_clip_positions, sincos_position_table


def test_table_encodes_row_and_column_linearly() -> None:
    table = sincos_position_table(8, 32).numpy()
    assert table.shape == (64, 32)
    rows, cols = np.meshgrid(np.arange(8), np.arange(8), indexing="ij")
    target = np.stack([rows.ravel(), cols.ravel()], axis=1).astype(np.float64)
    design = np.c_[table, np.ones(len(table))]
    weights, *_ = np.linalg.lstsq(design, target, rcond=None)
    np.testing.assert_allclose(design @ weights, target, atol=1e-6)
    # the row half does not depend on the column and vice versa
    assert np.allclose(table[0, :16], table[7, :16]) and not np.allclose(table[0, 16:], table[7, 16:])


def test_random_tower_starts_from_the_table() -> None:
    config = preset_config("tiny")
    model = VisaForSegmentation(config)
    weight = model.vision_tower.embeddings.position_embedding.weight.detach()
    grid = config.vision_config.image_size // config.vision_config.patch_size
    assert torch.equal(weight[0], torch.zeros_like(weight[0]))
    expected = POSITION_TABLE_SCALE * sincos_position_table(grid, weight.shape[1])
    torch.testing.assert_close(weight[1:], expected)


def test_loaded_weights_replace_the_table(tmp_path) -> None:
    model = VisaForSegmentation(preset_config("tiny"))
    saved = torch.randn_like(model.vision_tower.embeddings.position_embedding.weight)
    with torch.no_grad():
        model.vision_tower.embeddings.position_embedding.weight.copy_(saved)
    model.save_pretrained(tmp_path)
    loaded = VisaForSegmentation.from_pretrained(tmp_path)
    torch.testing.assert_close(loaded.vision_tower.embeddings.position_embedding.weight.detach(), saved)


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="divisible by 4"):
        sincos_position_table(8, 30)
    with pytest.raises(ValueError, match="65 positions for a 7 x 7 patch grid"):
        init_clip_positions(torch.nn.Embedding(65, 32), 7)
