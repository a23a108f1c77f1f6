"""Discovery of plugins through the ``visa`` entry-point group, and the registries they fill.

Environment variables:
    VISA_DISABLE_PLUGINS: comma-separated entry-point names not to load (e.g. ``visa_propagate``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pluggy

from visa_core import hookspecs
from visa_core.component import Component
from visa_core.interfaces import Command, DatasetLoader, FrameSelector, Metric, Propagator
from visa_core.registry import ComponentEntry, PluginSource, Registry

KINDS: dict[str, tuple[str, type[Component]]] = {
    "dataset": ("register_datasets", DatasetLoader),
    "frame_selector": ("register_frame_selectors", FrameSelector),
    "propagator": ("register_propagators", Propagator),
    "metric": ("register_metrics", Metric),
    "command": ("register_commands", Command),
}
"""Component kind -> (hook that fills its registry, interface its classes subclass)."""

PUBLIC_KINDS = ("dataset", "frame_selector", "propagator", "metric")
"""The kinds that ``visa plugins`` lists (commands are listed by ``visa --help``)."""


@dataclass(frozen=True)
class ComponentListing:
    """One row of ``visa plugins``."""

    kind: str
    name: str
    distribution: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "distribution": self.distribution}


class VisaPlugins:
    """A plugin manager and the registries its plugins filled.

    ``VisaPlugins.discover()`` loads every installed ``visa`` entry point; tests build isolated
    instances with ``VisaPlugins(plugins=[module, ...])``.
    """

    def __init__(self, plugins: Iterable[Any] = (), *, entry_points: bool = False) -> None:
        self.manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.manager.add_hookspecs(hookspecs)
        if entry_points:
            for name in _disabled_plugins():
                self.manager.set_blocked(name)
            self.manager.load_setuptools_entrypoints(hookspecs.PROJECT_NAME)
        for plugin in plugins:
            self.manager.register(plugin)
        self.manager.check_pending()
        self._registries: dict[str, Registry[Any]] | None = None

    @classmethod
    def discover(cls) -> VisaPlugins:
        """Load every plugin installed under the ``visa`` entry-point group."""
        return cls(entry_points=True)

    def register(self, plugin: Any, name: str | None = None) -> None:
        """Add a plugin object or module at run time (notebooks, scripts, tests)."""
        self.manager.register(plugin, name=name)
        self.manager.check_pending()
        self._registries = None

    def registry(self, kind: str) -> Registry[Any]:
        """The registry of ``kind``: one of :data:`KINDS`."""
        if kind not in KINDS:
            raise ValueError(f"unknown component kind {kind!r}; kinds are {', '.join(KINDS)}")
        if self._registries is None:
            self._registries = self._collect()
        return self._registries[kind]

    def build(self, kind: str, name: str, /, **options: Any) -> Any:
        """Build the component ``name`` of ``kind`` with ``options``."""
        return self.registry(kind).build(name, **options)

    def listing(self, kinds: Iterable[str] = PUBLIC_KINDS) -> list[ComponentListing]:
        """Every registered component of ``kinds``, as ``visa plugins`` prints them."""
        rows = []
        for kind in kinds:
            for entry in self.registry(kind).entries():
                rows.append(ComponentListing(kind, entry.name, entry.source.distribution))
        return rows

    def entries(self, kind: str) -> list[ComponentEntry]:
        """Registered entries of ``kind`` with their classes and sources."""
        return self.registry(kind).entries()

    def _collect(self) -> dict[str, Registry[Any]]:
        distributions = {
            id(plugin): dist.project_name for plugin, dist in self.manager.list_plugin_distinfo()
        }
        registries: dict[str, Registry[Any]] = {}
        for kind, (hook_name, base) in KINDS.items():
            registry: Registry[Any] = Registry(kind, base)
            for impl in reversed(getattr(self.manager.hook, hook_name).get_hookimpls()):
                source = PluginSource(
                    plugin=impl.plugin_name,
                    distribution=distributions.get(id(impl.plugin), "<not installed>"),
                )
                with registry.registering_as(source):
                    impl.function(registry=registry)
            registries[kind] = registry
        return registries


def _disabled_plugins() -> list[str]:
    raw = os.environ.get("VISA_DISABLE_PLUGINS", "")
    return [name.strip() for name in raw.split(",") if name.strip()]


_default: VisaPlugins | None = None


def get_plugins() -> VisaPlugins:
    """The process-wide plugin manager, discovered from entry points on first use."""
    global _default
    if _default is None:
        _default = VisaPlugins.discover()
    return _default


def reset_plugins() -> None:
    """Forget the process-wide plugin manager (the next use discovers plugins again)."""
    global _default
    _default = None


def build(kind: str, name: str, /, **options: Any) -> Any:
    """Build a registered component by kind and name: ``build("propagator", "sam2", checkpoint=...)``.

    Raises:
        UnknownComponentError: no plugin registered ``name``; the message lists the known names.
        ComponentOptionError: an option the component does not have.
    """
    return get_plugins().build(kind, name, **options)


def get_registry(kind: str) -> Registry[Any]:
    """The process-wide registry of ``kind``."""
    return get_plugins().registry(kind)
