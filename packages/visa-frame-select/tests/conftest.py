"""Tiny random-weight models written by :mod:`visa_frame_select.testing` (no downloads)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from visa_frame_select.testing import write_tiny_clip, write_tiny_llamavid, write_tiny_llava

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def tiny_clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random CLIPModel (hidden 32, 2 layers, 32x32 images) with a word-level tokenizer."""
    return write_tiny_clip(tmp_path_factory.mktemp("tiny-clip"))


@pytest.fixture(scope="session")
def tiny_llava_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random Llava (CLIP 32x32 + 2-layer Llama) with a processor and a chat template."""
    return write_tiny_llava(tmp_path_factory.mktemp("tiny-llava"))


@pytest.fixture(scope="session")
def tiny_llamavid(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Random LLaMA-VID weights in the published layout: ``model``, ``vision_tower``, ``qformer`` paths."""
    return write_tiny_llamavid(tmp_path_factory.mktemp("tiny-llamavid"))
