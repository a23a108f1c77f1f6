from __future__ import annotations

import visa_core
from visa_core.testing import modules_imported_by


def test_plugin_import_is_cheap() -> None:
    statement = (
        "import visa_core, visa_frame_select.plugin as p\n"
        "p.register_frame_selectors(visa_core.Registry('frame_selector', visa_core.FrameSelector))"
    )
    assert modules_imported_by(statement, ("torch", "transformers", "tokenizers")) == []


def test_selectors_are_listed_by_the_plugin_system() -> None:
    names = visa_core.get_plugins().registry("frame_selector").names()
    assert {"uniform", "clip", "llamavid"} <= set(names)


def test_testing_module_import_is_cheap() -> None:
    statement = "import visa_frame_select.testing"
    assert modules_imported_by(statement, ("torch", "transformers", "tokenizers")) == []
