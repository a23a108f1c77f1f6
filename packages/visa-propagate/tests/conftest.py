"""Shared fixtures: a tiny random SAM 2 video checkpoint."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from visa_propagate.testing import write_tiny_sam2_checkpoint

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def tiny_sam2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight ``Sam2VideoModel`` checkpoint folder (see ``write_tiny_sam2_checkpoint``)."""
    return write_tiny_sam2_checkpoint(tmp_path_factory.mktemp("tiny-sam2"))
