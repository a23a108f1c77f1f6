from __future__ import annotations

import subprocess
import sys

import visa_core


def test_plugin_import_is_cheap() -> None:
    code = (
        "import sys, visa_core, visa_frame_select.plugin as p\n"
        "registry = visa_core.Registry('frame_selector', visa_core.FrameSelector)\n"
        "p.register_frame_selectors(registry)\n"
        "heavy = sorted({'torch', 'transformers', 'tokenizers'} & set(sys.modules))\n"
        "assert not heavy, heavy\n"
        "print(registry.names())\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['clip', 'llamavid', 'uniform']"


def test_selectors_are_listed_by_the_plugin_system() -> None:
    names = visa_core.get_plugins().registry("frame_selector").names()
    assert {"uniform", "clip", "llamavid"} <= set(names)


def test_testing_module_import_is_cheap() -> None:
    code = (
        "import sys, visa_frame_select.testing\n"
        "heavy = sorted({'torch', 'transformers', 'tokenizers'} & set(sys.modules))\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
