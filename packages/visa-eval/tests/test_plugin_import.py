"""Importing the plugin module stays cheap (no torch, transformers or scipy)."""

from __future__ import annotations

import subprocess
import sys


def test_plugin_import_is_lazy():
    code = (
        "import sys, visa_eval.plugin; "
        "heavy = [m for m in ('torch', 'transformers', 'scipy', 'pycocotools', 'PIL') if m in sys.modules]; "
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
