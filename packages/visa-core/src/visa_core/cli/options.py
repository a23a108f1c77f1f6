"""Component options given on the command line as ``KEY=VALUE`` pairs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from visa_core.errors import ComponentOptionError


def component_options(pairs: Sequence[str], **paths: Path | None) -> dict[str, Any]:
    """Parse ``["top_k=30", "device=cpu"]`` (values read as YAML) plus the non-None ``paths``."""
    options: dict[str, Any] = {key: str(value) for key, value in paths.items() if value is not None}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ComponentOptionError(f"option {pair!r} is not of the form KEY=VALUE")
        options[key.strip()] = yaml.safe_load(value)
    return options
