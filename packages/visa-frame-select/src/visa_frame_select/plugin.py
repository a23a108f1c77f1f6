"""The `visa` entry point of visa-frame-select: registers its built-in components."""

from __future__ import annotations

from visa_core import Registry, hookimpl


@hookimpl
def register_frame_selectors(registry: Registry) -> None:
    """``clip`` and ``llamavid`` (their modules import torch only when used); ``uniform`` ships
    with visa-core."""
    from visa_frame_select.clip import ClipSelector
    from visa_frame_select.llamavid import LlamaVidSelector

    registry.add(ClipSelector)
    registry.add(LlamaVidSelector)
