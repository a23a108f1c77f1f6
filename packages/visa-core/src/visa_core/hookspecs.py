"""The hook specifications of the ``visa`` plugin system.

A plugin is a module listed under the ``visa`` entry-point group. It implements any of these hooks
with ``@visa_core.hookimpl``; each hook receives a :class:`~visa_core.registry.Registry` and adds
component classes to it with ``registry.add(ComponentClass)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from visa_core.registry import Registry

PROJECT_NAME = "visa"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def register_datasets(registry: Registry) -> None:
    """Add dataset loaders (subclasses of :class:`visa_core.DatasetLoader`) to ``registry``."""


@hookspec
def register_frame_selectors(registry: Registry) -> None:
    """Add keyframe selectors (subclasses of :class:`visa_core.FrameSelector`) to ``registry``."""


@hookspec
def register_propagators(registry: Registry) -> None:
    """Add mask propagators (subclasses of :class:`visa_core.Propagator`) to ``registry``."""


@hookspec
def register_metrics(registry: Registry) -> None:
    """Add metrics (subclasses of :class:`visa_core.Metric`) to ``registry``."""


@hookspec
def register_commands(registry: Registry) -> None:
    """Add ``visa`` sub-commands (subclasses of :class:`visa_core.Command`) to ``registry``."""
