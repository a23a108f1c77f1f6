"""Checking that importing a module stays cheap: run it in a fresh interpreter, see what it loaded."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence

HEAVY_MODULES = ("torch", "transformers", "peft", "accelerate", "decord", "av", "segment_anything")
"""Libraries that plugin modules must not import when they are discovered."""


def modules_imported_by(statement: str, watched: Sequence[str] = HEAVY_MODULES) -> list[str]:
    """Run ``statement`` (Python source) in a new interpreter; return the ``watched`` modules it imported.

    Raises:
        AssertionError: the statement failed; the message holds the interpreter's error output.
    """
    code = (
        f"import sys, json\n{statement}\n"
        f"print(json.dumps(sorted(m for m in {list(watched)!r} if m in sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise AssertionError(f"running {statement!r} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])
