"""Packaging: visa-core alone, a third-party plugin installed beside it, cheap plugin imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from visa_core.testing import HEAVY_MODULES, modules_imported_by

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_PLUGIN = REPO / "examples" / "plugins" / "visa-dataset-tinyvos"


def _run(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


def test_every_installed_plugin_module_imports_cheaply() -> None:
    modules = sorted(ep.value for ep in entry_points(group="visa"))
    assert modules, "no visa entry points installed"
    heavy = modules_imported_by("\n".join(f"import {name}" for name in modules), HEAVY_MODULES)
    assert heavy == [], f"importing the plugin modules {modules} imported {heavy}"


def test_visa_core_imports_none_of_the_other_packages() -> None:
    statement = "import visa_core, visa_core.cli.main, visa_core.testing, visa_core.video"
    others = ("visa_data", "visa_eval", "visa_propagate", "visa_frame_select")
    assert modules_imported_by(statement, others) == []


def test_third_party_plugin_shows_up_and_builds(tmp_path: Path) -> None:
    target = tmp_path / "site"
    _run(
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-deps",
        "--no-build-isolation",
        "--target",
        target,
        EXAMPLE_PLUGIN,
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(target), os.environ.get("PYTHONPATH", "")]))
    rows = json.loads(_run(sys.executable, "-m", "visa_core.cli.main", "plugins", "--json", env=env).stdout)
    assert {"kind": "dataset", "name": "tinyvos", "distribution": "visa-dataset-tinyvos"} in rows
    result = _run(
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        EXAMPLE_PLUGIN / "tests",
        "--rootdir",
        tmp_path,
        env=env,
    )
    assert " passed" in result.stdout


@pytest.mark.slow
def test_visa_core_installs_alone_in_a_fresh_environment(tmp_path: Path) -> None:
    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    env = dict(os.environ, PIP_CONSTRAINT=str(REPO / "constraints" / "cpu.txt"))
    env.pop("PYTHONPATH", None)
    _run(
        python,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        REPO / "packages" / "visa-core",
        env=env,
    )
    rows = json.loads(_run(env_dir / "bin" / "visa", "plugins", "--json", env=env).stdout)
    assert rows == []
    others = ("visa_data", "visa_eval", "visa_propagate", "visa_frame_select")
    code = f"import importlib.util as u; print([n for n in {others!r} if u.find_spec(n)])"
    assert _run(python, "-c", code, env=env).stdout.strip() == "[]"
    _run(python, "-c", "import visa_core, visa_core.video, visa_core.cli.main", env=env)
