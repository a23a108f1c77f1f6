"""The plugin system: registry semantics, isolated managers, entry points and `visa plugins`."""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import os
import subprocess
import sys
import types
from collections.abc import Iterator, Mapping
from typing import ClassVar

import numpy as np
import pytest

from visa_core import (
    ComponentOptionError,
    FrameSelection,
    FrameSelector,
    PluginConflictError,
    Propagator,
    Query,
    UnknownComponentError,
    Video,
    hookimpl,
)
from visa_core.plugins import VisaPlugins
from visa_core.registry import PluginSource, Registry


class Middle(FrameSelector):
    """Pick the middle frame."""

    name: ClassVar[str] = "middle"

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Config:
        num_references: int = 4
        seed: int = 0

    def select(self, video: Video, query: Query) -> FrameSelection:
        return FrameSelection(target=len(video) // 2, references=(len(video) // 2,))


class OtherMiddle(Middle):
    """Same name, another class."""


class Needy(FrameSelector):
    """Needs an option without a default."""

    name: ClassVar[str] = "needy"

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Config:
        checkpoint: str

    def select(self, video: Video, query: Query) -> FrameSelection:
        raise NotImplementedError


def test_add_and_build_with_options() -> None:
    registry: Registry = Registry("frame_selector", FrameSelector)
    registry.add(Middle)
    selector = registry.build("middle", num_references=7)
    assert isinstance(selector, Middle)
    assert selector.config.num_references == 7
    assert registry.names() == ["middle"]


def test_duplicate_name_names_both_plugins() -> None:
    registry: Registry = Registry("frame_selector", FrameSelector)
    with registry.registering_as(PluginSource("plugin_a", "dist-a")):
        registry.add(Middle)
    with (
        registry.registering_as(PluginSource("plugin_b", "dist-b")),
        pytest.raises(PluginConflictError) as error,
    ):
        registry.add(OtherMiddle)
    message = str(error.value)
    assert "'middle'" in message and "dist-a (plugin_a)" in message and "dist-b (plugin_b)" in message
    assert "OtherMiddle" in message


def test_unknown_name_lists_known_names_and_suggests() -> None:
    registry: Registry = Registry("frame_selector", FrameSelector)
    registry.add(Middle)
    registry.add(Needy)
    with pytest.raises(UnknownComponentError) as error:
        registry.get("midle")
    assert str(error.value) == (
        "unknown frame_selector 'midle'; did you mean 'middle'? (known: middle, needy)"
    )


def test_unknown_option_is_named() -> None:
    registry: Registry = Registry("frame_selector", FrameSelector)
    registry.add(Middle)
    with pytest.raises(
        ComponentOptionError, match="has no option 'num_reference'; did you mean 'num_references'"
    ):
        registry.build("middle", num_reference=3)


def test_missing_required_option_is_named() -> None:
    with pytest.raises(ComponentOptionError, match="frame_selector 'needy' needs option\\(s\\): checkpoint"):
        Needy()


def test_config_and_options_are_exclusive() -> None:
    with pytest.raises(ComponentOptionError, match="not both"):
        Middle(Middle.Config(), seed=3)


def test_rejects_wrong_kind_and_bad_names() -> None:
    registry: Registry = Registry("propagator", Propagator)
    with pytest.raises(TypeError, match="must subclass"):
        registry.add(Middle)

    class Nameless(Propagator):
        def stream(self, video: Video, prompts: Mapping[int, np.ndarray], *, decoder=None) -> Iterator:
            yield from ()

    with pytest.raises(TypeError, match="needs a class attribute `name`"):
        registry.add(Nameless)
    Nameless.name = "Bad Name"
    with pytest.raises(TypeError, match="lowercase"):
        registry.add(Nameless)


def _plugin_module(name: str, *classes: type) -> types.ModuleType:
    module = types.ModuleType(name)

    @hookimpl
    def register_frame_selectors(registry) -> None:
        for cls in classes:
            registry.add(cls)

    module.register_frame_selectors = register_frame_selectors  # type: ignore[attr-defined]
    return module


def test_isolated_manager_collects_registrations() -> None:
    plugins = VisaPlugins(plugins=[_plugin_module("mine", Middle)])
    assert plugins.registry("frame_selector").names() == ["middle"]
    assert plugins.registry("propagator").names() == []
    rows = [row.as_dict() for row in plugins.listing()]
    assert rows == [{"kind": "frame_selector", "name": "middle", "distribution": "<not installed>"}]
    assert isinstance(plugins.build("frame_selector", "middle", seed=1), Middle)


def test_conflict_between_two_plugins_names_both() -> None:
    plugins = VisaPlugins(plugins=[_plugin_module("first", Middle), _plugin_module("second", OtherMiddle)])
    with pytest.raises(PluginConflictError, match="first.*second|second.*first"):
        plugins.registry("frame_selector")


def test_misspelled_hook_fails_at_load() -> None:
    module = types.ModuleType("typo")

    @hookimpl
    def register_frame_selector(registry) -> None:  # missing "s"
        pass

    module.register_frame_selector = register_frame_selector  # type: ignore[attr-defined]
    with pytest.raises(Exception, match="register_frame_selector"):
        VisaPlugins(plugins=[module])


def test_unknown_kind_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown component kind 'propagators'"):
        VisaPlugins().registry("propagators")


def _visa(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "visa_core.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_visa_plugins_json_lists_kind_name_distribution() -> None:
    result = _visa("plugins", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert isinstance(rows, list)
    for row in rows:
        assert set(row) == {"kind", "name", "distribution"}
        assert row["kind"] in {"dataset", "frame_selector", "propagator", "metric"}


def test_visa_plugins_table_and_disable(monkeypatch: pytest.MonkeyPatch) -> None:
    table = _visa("plugins")
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[0].split() == ["KIND", "NAME", "DISTRIBUTION"]
    env = dict(os.environ, VISA_DISABLE_PLUGINS="visa_data,visa_eval,visa_propagate,visa_frame_select")
    disabled = _visa("plugins", "--json", env=env)
    assert disabled.returncode == 0, disabled.stderr
    distributions = {row["distribution"] for row in json.loads(disabled.stdout)}
    assert distributions == {"visa-core"}


def test_the_provider_table_lists_exactly_what_each_installed_project_distribution_registers() -> None:
    from visa_core.providers import PROVIDERS

    project = {dist for by_dist in PROVIDERS.values() for dist in by_dist}
    installed = {ep.dist.name for ep in importlib.metadata.entry_points(group="visa") if ep.dist} & project
    plugins = VisaPlugins.discover()
    for kind, by_dist in PROVIDERS.items():
        registered = {
            (entry.source.distribution, entry.name)
            for entry in plugins.entries(kind)
            if entry.source.distribution in project
        }
        listed = {(dist, name) for dist, names in by_dist.items() if dist in installed for name in names}
        assert registered == listed, kind


@pytest.mark.parametrize(
    ("kind", "name", "distribution"),
    [
        ("frame_selector", "clip", "visa-frame-select"),
        ("propagator", "xmem", "visa-propagate"),
        ("dataset", "revos", "visa-data"),
        ("metric", "j_and_f", "visa-eval"),
    ],
)
def test_a_built_in_name_whose_package_is_missing_says_what_to_install(
    kind: str, name: str, distribution: str
) -> None:
    from visa_core import builtin

    registry = VisaPlugins(plugins=[builtin]).registry(kind)
    label = kind.replace("_", " ")
    with pytest.raises(
        UnknownComponentError,
        match=rf"the {label} '{name}' is provided by {distribution}: pip install {distribution}",
    ):
        registry.get(name)


def test_a_built_in_command_whose_package_is_missing_says_what_to_install() -> None:
    env = dict(os.environ, VISA_DISABLE_PLUGINS="visa_eval")
    result = _visa("eval", "revos", "pred", "--root", "data", env=env)
    assert result.returncode == 2
    assert "the command 'eval' is provided by visa-eval: pip install visa-eval" in result.stderr
