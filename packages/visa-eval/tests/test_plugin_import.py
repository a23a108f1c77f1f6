"""Importing the plugin module stays cheap (no torch, transformers or scipy)."""

from __future__ import annotations

from visa_core.testing import modules_imported_by


def test_plugin_import_is_lazy():
    heavy = ("torch", "transformers", "scipy", "pycocotools", "PIL")
    assert modules_imported_by("import visa_eval.plugin", heavy) == []
