from __future__ import annotations

import subprocess
import sys

import visa_core


def test_plugin_import_is_cheap() -> None:
    code = (
        "import sys, visa_core, visa_propagate.plugin as p\n"
        "registry = visa_core.Registry('propagator', visa_core.Propagator)\n"
        "p.register_propagators(registry)\n"
        "heavy = sorted({'torch', 'transformers'} & set(sys.modules))\n"
        "assert not heavy, heavy\n"
        "print(' '.join(registry.names()))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert {"identity", "sam2", "seg_token"} <= set(result.stdout.split())


def test_propagators_are_listed_by_the_plugin_system() -> None:
    names = visa_core.get_plugins().registry("propagator").names()
    assert {"identity", "seg_token", "sam2"} <= set(names)
