"""Turning the ``device`` / ``dtype`` option strings of model-backed selectors into torch objects."""

from __future__ import annotations

from typing import Any

DTYPES = ("float32", "float16", "bfloat16")


def check_dtype(dtype: str) -> None:
    """Raise ValueError unless ``dtype`` is one of :data:`DTYPES`."""
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")


def torch_dtype(dtype: str) -> Any:
    """``"bfloat16"`` -> ``torch.bfloat16`` (imports torch)."""
    import torch

    check_dtype(dtype)
    return getattr(torch, dtype)
