"""The `visa` entry point of visa-propagate: registers its built-in components."""

from __future__ import annotations

from visa_core import Registry, hookimpl


@hookimpl
def register_propagators(registry: Registry) -> None:
    """``identity``, ``sam2`` and ``xmem`` (their modules import torch only when used);
    ``seg_token`` ships with visa-core."""
    from visa_propagate.identity import IdentityPropagator
    from visa_propagate.sam2.propagator import Sam2Propagator
    from visa_propagate.xmem import XMemPropagator

    registry.add(IdentityPropagator)
    registry.add(Sam2Propagator)
    registry.add(XMemPropagator)
