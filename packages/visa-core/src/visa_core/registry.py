"""Registries: the name -> component-class tables that plugins fill through the hooks."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from visa_core.component import NAME_PATTERN, Component
from visa_core.errors import PluginConflictError, UnknownComponentError
from visa_core.providers import install_hint

C = TypeVar("C", bound=Component)


@dataclass(frozen=True)
class PluginSource:
    """Where a registration came from: the pluggy plugin name and its distribution."""

    plugin: str
    distribution: str

    def __str__(self) -> str:
        return f"{self.distribution} ({self.plugin})"


UNKNOWN_SOURCE = PluginSource(plugin="<direct>", distribution="<not installed>")


@dataclass(frozen=True)
class ComponentEntry:
    """One registered component class and the plugin that registered it."""

    kind: str
    name: str
    cls: type[Component]
    source: PluginSource


class Registry(Generic[C]):
    """The components of one kind (``dataset``, ``frame_selector``, ``propagator``, ...).

    Plugins call :meth:`add`; users call :meth:`build` or :func:`visa_core.build`.
    """

    def __init__(self, kind: str, base: type[C]) -> None:
        self.kind = kind
        self.base = base
        self._entries: dict[str, ComponentEntry] = {}
        self._source = UNKNOWN_SOURCE

    def add(self, component_class: type[C]) -> type[C]:
        """Register ``component_class`` under its ``name`` class attribute.

        Raises:
            TypeError: not a subclass of this kind's interface, or no valid ``name``.
            PluginConflictError: the name is taken; the message names both plugins.
        """
        if not (isinstance(component_class, type) and issubclass(component_class, self.base)):
            raise TypeError(
                f"{self._source}: {component_class!r} registered as a {self.kind} must subclass "
                f"{self.base.__module__}.{self.base.__qualname__}"
            )
        name = getattr(component_class, "name", None)
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            raise TypeError(
                f"{self._source}: {component_class.__qualname__} needs a class attribute `name`, a "
                f"lowercase short string such as 'revos' (got {name!r})"
            )
        previous = self._entries.get(name)
        if previous is not None:
            raise PluginConflictError(
                f"{self.kind} {name!r} is registered twice: by {previous.source} as "
                f"{_qualified(previous.cls)} and by {self._source} as {_qualified(component_class)}"
            )
        self._entries[name] = ComponentEntry(self.kind, name, component_class, self._source)
        return component_class

    def get(self, name: str) -> type[C]:
        """The class registered as ``name``; an unknown name lists the known ones."""
        entry = self._entries.get(name)
        if entry is None:
            provider = install_hint(self.kind, name)
            if provider is not None:
                raise UnknownComponentError(f"{provider} (installed: {self._listing()})")
            known = sorted(self._entries)
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise UnknownComponentError(f"unknown {self.kind} {name!r}{hint} (known: {self._listing()})")
        return entry.cls  # type: ignore[return-value]

    def build(self, name: str, /, **options: Any) -> C:
        """Instantiate the component ``name`` with ``options`` (checked against its Config)."""
        return self.get(name)(**options)

    def _listing(self) -> str:
        return ", ".join(sorted(self._entries)) or "none installed"

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._entries)

    def entries(self) -> list[ComponentEntry]:
        """Registered entries, sorted by name."""
        return [self._entries[name] for name in self.names()]

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def registering_as(self, source: PluginSource) -> _SourceScope:
        """Context manager attributing the registrations made inside it to ``source``."""
        return _SourceScope(self, source)


class _SourceScope:
    def __init__(self, registry: Registry[Any], source: PluginSource) -> None:
        self.registry = registry
        self.source = source

    def __enter__(self) -> None:
        self.previous = self.registry._source
        self.registry._source = self.source

    def __exit__(self, *exc: object) -> None:
        self.registry._source = self.previous


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
