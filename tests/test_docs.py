"""The plugin author docs stay in step with the hook specifications."""

from __future__ import annotations

import inspect
from pathlib import Path

from visa_core import hookspecs

DOCS = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"


def test_every_hook_is_documented_with_its_signature() -> None:
    text = DOCS.read_text()
    hooks = [name for name, obj in vars(hookspecs).items() if name.startswith("register_") and callable(obj)]
    assert len(hooks) == 5
    for name in hooks:
        arguments = ", ".join(inspect.signature(getattr(hookspecs, name)).parameters)
        assert f"`{name}({arguments})`" in text, f"{name}({arguments}) is not documented in {DOCS}"
