"""Packaging: cheap plugin imports, a third-party plugin installed beside the packages, declared
lower bounds equal to the floors CI tests (the install sets themselves: tests/install)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

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


def _floor_pins() -> dict[str, Version]:
    pins = {}
    for line in (REPO / "constraints" / "minimum.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==")
            pins[canonicalize_name(name)] = Version(version)
    return pins


def test_every_declared_lower_bound_is_a_tested_floor() -> None:
    """Each dependency's ``>=`` bound in each package equals its pin in constraints/minimum.txt
    (the versions the floors CI job installs), and every such dependency has a pin."""
    pins = _floor_pins()
    for pyproject in sorted(REPO.glob("packages/*/pyproject.toml")):
        for line in tomllib.loads(pyproject.read_text())["project"]["dependencies"]:
            requirement = Requirement(line)
            name = canonicalize_name(requirement.name)
            if name.startswith("visa-"):
                continue
            floors = [Version(spec.version) for spec in requirement.specifier if spec.operator == ">="]
            assert floors == [pins.get(name)], (
                f"{pyproject}: {line} (constraints/minimum.txt: {pins.get(name)})"
            )
