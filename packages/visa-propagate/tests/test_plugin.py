from __future__ import annotations

import visa_core
from visa_core.testing import modules_imported_by


def test_plugin_import_is_cheap() -> None:
    statement = (
        "import visa_core, visa_propagate.plugin as p\n"
        "p.register_propagators(visa_core.Registry('propagator', visa_core.Propagator))"
    )
    assert modules_imported_by(statement, ("torch", "transformers")) == []


def test_propagators_are_listed_by_the_plugin_system() -> None:
    names = visa_core.get_plugins().registry("propagator").names()
    assert {"identity", "seg_token", "sam2"} <= set(names)
