"""The base class of every pluggable component and the validation of its options.

A component class carries a registered ``name``, the ``kind`` of component it is, and a nested
frozen ``Config`` dataclass holding its options. It is built as ``Cls(config)`` or ``Cls(**options)``;
an option the ``Config`` does not declare is an error that names it.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from typing import Any, ClassVar

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_+\-]*$")


class Component:
    """Base of datasets, frame selectors, propagators, metrics and commands."""

    name: ClassVar[str]
    kind: ClassVar[str] = "component"

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Config:
        """Options of the component (none by default)."""

    config: Any

    def __init__(self, config: Any = None, /, **options: Any) -> None:
        self.config = resolve_config(type(self), config, options)

    @classmethod
    def summary(cls) -> str:
        """First line of the class docstring, for listings."""
        return (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config!r})"


def component_label(cls: type[Component]) -> str:
    """``"propagator 'sam2'"``: how errors name a component class."""
    return f"{cls.kind} {getattr(cls, 'name', cls.__name__)!r}"


def option_names(cls: type[Component]) -> list[str]:
    """Names of the options a component accepts, in declaration order."""
    return [f.name for f in dataclasses.fields(cls.Config)]


def resolve_config(cls: type[Component], config: Any, options: dict[str, Any]) -> Any:
    """Return a ``cls.Config`` from either a ready config or keyword options.

    Raises:
        ComponentOptionError: an unknown option, a missing required option, or both a config and
            options given.
    """
    from visa_core.errors import ComponentOptionError

    if config is not None:
        if options:
            raise ComponentOptionError(
                f"{component_label(cls)}: pass either a Config or options, not both "
                f"(got options {sorted(options)})"
            )
        if not isinstance(config, cls.Config):
            raise ComponentOptionError(
                f"{component_label(cls)}: expected {cls.__name__}.Config, got {type(config).__name__}"
            )
        return config
    known = option_names(cls)
    for key in options:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            listing = ", ".join(known) if known else "none"
            raise ComponentOptionError(
                f"{component_label(cls)} has no option {key!r}{hint} (its options: {listing})"
            )
    missing = [
        f.name
        for f in dataclasses.fields(cls.Config)
        if f.name not in options
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ComponentOptionError(f"{component_label(cls)} needs option(s): {', '.join(missing)}")
    try:
        return cls.Config(**options)
    except (TypeError, ValueError) as error:
        raise ComponentOptionError(f"{component_label(cls)}: {error}") from error
