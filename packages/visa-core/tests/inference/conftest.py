"""A tiny model folder, its model and processor, and an 8-frame video for the inference tests."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory):
    from visa_core.model.folders import init_model_folder

    path = tmp_path_factory.mktemp("tiny-model")
    init_model_folder("tiny", path, seed=0)
    return path


@pytest.fixture(scope="session")
def model_and_processor(tiny_dir):
    from visa_core.model import VisaForSegmentation, VisaProcessor

    model = VisaForSegmentation.from_pretrained(str(tiny_dir)).eval()
    return model, VisaProcessor.from_pretrained(tiny_dir)


@pytest.fixture(scope="session")
def video():
    from visa_core.video import Video

    rng = np.random.default_rng(0)
    return Video.from_array("clip", rng.integers(0, 256, (8, 48, 64, 3), dtype=np.uint8))
