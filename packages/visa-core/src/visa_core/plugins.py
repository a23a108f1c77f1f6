"""Discovery of plugins through the ``visa`` entry-point group, and the registries they fill.

Environment variables:
    VISA_DISABLE_PLUGINS: comma-separated entry-point names not to load (e.g. ``visa_propagate``).

A plugin that fails to import or to register its components is left out, recorded in
:attr:`VisaPlugins.failures` (named with its distribution) and logged; every other plugin and
command keeps working, and asking for one of its components says why it is missing.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pluggy

from visa_core import hookspecs
from visa_core.component import Component
from visa_core.errors import PluginConflictError, UnknownComponentError
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

logger = logging.getLogger(__name__)

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


@dataclass(frozen=True)
class PluginFailure:
    """An installed plugin left out: its entry-point name, distribution and what went wrong."""

    plugin: str
    distribution: str
    stage: str
    error: str

    def __str__(self) -> str:
        return (
            f"plugin {self.plugin!r} of distribution {self.distribution!r} failed to {self.stage} "
            f"({self.error}); its components are unavailable: reinstall or fix it, or set "
            f"VISA_DISABLE_PLUGINS={self.plugin} to skip it"
        )


class VisaPlugins:
    """A plugin manager and the registries its plugins filled.

    ``VisaPlugins.discover()`` loads every installed ``visa`` entry point; tests build isolated
    instances with ``VisaPlugins(plugins=[module, ...])``.
    """

    def __init__(self, plugins: Iterable[Any] = (), *, entry_points: bool = False) -> None:
        self.manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.manager.add_hookspecs(hookspecs)
        self.failures: list[PluginFailure] = []
        """Plugins left out because they failed to import or to register."""
        self._distributions: dict[int, str] = {}
        if entry_points:
            for name in _disabled_plugins():
                self.manager.set_blocked(name)
            self._load_entry_points()
        for plugin in plugins:
            self.manager.register(plugin)
        self.manager.check_pending()
        self._registries: dict[str, Registry[Any]] | None = None

    def _load_entry_points(self) -> None:
        """Register every ``visa`` entry point that imports; record the others as failures."""
        for dist in importlib.metadata.distributions():
            for entry_point in dist.entry_points:
                name = entry_point.name
                if entry_point.group != hookspecs.PROJECT_NAME or self.manager.has_plugin(name):
                    continue
                if self.manager.is_blocked(name):
                    continue
                try:
                    plugin = entry_point.load()
                except Exception as error:  # a broken third-party plugin must not break the rest
                    self._fail(name, dist.metadata["Name"], "import", error)
                    continue
                self.manager.register(plugin, name=name)
                self._distributions[id(plugin)] = dist.metadata["Name"]

    def _fail(self, plugin: str, distribution: str, stage: str, error: Exception) -> None:
        failure = PluginFailure(plugin, distribution, stage, f"{type(error).__name__}: {error}")
        self.failures.append(failure)
        logger.warning("%s", failure)

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
        """Build the component ``name`` of ``kind`` with ``options``; an unknown name also lists
        the plugins that failed to load."""
        registry = self.registry(kind)
        if name not in registry and self.failures:
            try:
                registry.get(name)
            except UnknownComponentError as error:
                failed = "; ".join(str(failure) for failure in self.failures)
                raise UnknownComponentError(
                    f"{error} (perhaps from a plugin that failed: {failed})"
                ) from None
        return registry.build(name, **options)

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
        registries: dict[str, Registry[Any]] = {}
        failed: set[str] = set()
        for kind, (hook_name, base) in KINDS.items():
            registry: Registry[Any] = Registry(kind, base)
            for impl in reversed(getattr(self.manager.hook, hook_name).get_hookimpls()):
                if impl.plugin_name in failed:
                    continue
                source = PluginSource(
                    plugin=impl.plugin_name,
                    distribution=self._distributions.get(id(impl.plugin), "<not installed>"),
                )
                with registry.registering_as(source):
                    try:
                        impl.function(registry=registry)
                    except PluginConflictError:
                        raise
                    except Exception as error:  # a broken plugin hook: leave that plugin out
                        if source.distribution == "<not installed>":
                            raise
                        failed.add(impl.plugin_name)
                        self._fail(impl.plugin_name, source.distribution, f"register its {kind}s", error)
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
