"""Shared fixtures: one tiny model folder per session, its model and processor, small frames."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture()
def tiny_model(tiny_visa_model_dir):
    from visa_core.model import VisaForSegmentation

    return VisaForSegmentation.from_pretrained(str(tiny_visa_model_dir)).eval()


@pytest.fixture(scope="session")
def processor(tiny_visa_model_dir):
    from visa_core.model import VisaProcessor

    return VisaProcessor.from_pretrained(tiny_visa_model_dir)


@pytest.fixture(scope="session")
def frames():
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (48, 64, 3), dtype=np.uint8) for _ in range(4)]


@pytest.fixture(scope="session")
def two_masks():
    masks = np.zeros((2, 48, 64), dtype=bool)
    masks[0, 10:20, 10:30] = True
    masks[1, 30:40, 5:15] = True
    return masks
