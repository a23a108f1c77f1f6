"""A tiny model folder, its model and processor, and an 8-frame video for the inference tests."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="session")
def model_and_processor(tiny_visa_model_dir):
    from visa_core.model import VisaForSegmentation, VisaProcessor

    model = VisaForSegmentation.from_pretrained(str(tiny_visa_model_dir)).eval()
    return model, VisaProcessor.from_pretrained(tiny_visa_model_dir)


@pytest.fixture(scope="session")
def video():
    from visa_core.video import Video

    rng = np.random.default_rng(0)
    return Video.from_array("clip", rng.integers(0, 256, (8, 48, 64, 3), dtype=np.uint8))
