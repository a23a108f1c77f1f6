"""The `visa` entry point of visa-frame-select: registers its built-in components."""

from __future__ import annotations

from visa_core import Registry, hookimpl


@hookimpl
def register_frame_selectors(registry: Registry) -> None:
    """``uniform``, ``clip`` and ``llamavid`` (their modules import torch only when used)."""
    from visa_frame_select.clip import ClipSelector
    from visa_frame_select.llamavid import LlamaVidSelector
    from visa_frame_select.uniform import UniformSelector

    registry.add(UniformSelector)
    registry.add(ClipSelector)
    registry.add(LlamaVidSelector)
