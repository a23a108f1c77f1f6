"""The documented install sets, installed as a user installs them: wheels built from this checkout,
installed (not editable) into fresh virtual environments, each running its documented commands with
their defaults. Catches a default that lives in a package the set lacks, files missing from a wheel
(configs, templates, py.typed, entry points) and undeclared dependencies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DISTRIBUTIONS = ("visa-core", "visa-data", "visa-frame-select", "visa-propagate", "visa-eval")
ALL_FIVE = " ".join(DISTRIBUTIONS)

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class FreshEnvironment:
    """A virtual environment holding one install set, and how to run its commands."""

    root: Path
    env: dict[str, str]

    def run(self, *args: str | Path, expect: int = 0, cwd: Path | None = None) -> subprocess.CompletedProcess:
        command = [str(a) for a in args]
        if not Path(command[0]).is_absolute():
            command[0] = str(self.root / "bin" / command[0])
        result = subprocess.run(command, capture_output=True, text=True, env=self.env, cwd=cwd, check=False)
        assert result.returncode == expect, (
            f"{command} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )
        return result


def _environment_for_pip() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    if os.environ.get("VISA_TORCH", "cpu") == "cpu":
        env["PIP_CONSTRAINT"] = str(REPO / "constraints" / "cpu.txt")
    env["HF_HUB_OFFLINE"] = "1"
    return env


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The five distributions built as wheels from the checkout."""
    folder = tmp_path_factory.mktemp("wheels")
    packages = [str(REPO / "packages" / name) for name in DISTRIBUTIONS]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            folder,
            *packages,
        ],
        check=True,
        env=_environment_for_pip(),
    )
    built = sorted(path.name.split("-")[0] for path in folder.glob("*.whl"))
    assert built == sorted(name.replace("-", "_") for name in DISTRIBUTIONS)
    return folder


def install(tmp_path: Path, wheelhouse: Path, install_set: str) -> FreshEnvironment:
    """``pip install <install_set>`` into a new virtual environment, our wheels found locally."""
    root = tmp_path / "env"
    venv.create(root, with_pip=True)
    environment = FreshEnvironment(root, _environment_for_pip())
    pip = ("python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check")
    environment.run(*pip, "--find-links", wheelhouse, *install_set.split())
    modules = [name.replace("-", "_") for name in install_set.split()]
    where = environment.run("python", "-c", f"import {', '.join(modules)}; print({modules[0]}.__file__)")
    assert Path(where.stdout.strip()).is_relative_to(root)  # installed files, not the checkout
    return environment


@pytest.fixture(scope="module")
def clip_mp4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An 8-frame mp4 of moving squares (written with the test's own environment)."""
    from visa_core.testing import moving_squares
    from visa_core.video.writers import Mp4Writer

    video, _ = moving_squares(num_frames=8, num_objects=2)
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    with Mp4Writer(path, fps=8) as writer:
        for frame in video.frames:
            writer.write(frame)
    return path


def _segment_with_defaults(environment: FreshEnvironment, model: Path, clip: Path, out: Path) -> dict:
    environment.run(
        "visa", "segment", "--model", model, "--video", clip, "--query", "the red box",
        "--answer", "Sure, [SEG].", "--out", out,
    )  # fmt: skip
    result = json.loads((out / "result.json").read_text())
    assert [query["answer"] for query in result["queries"]] == ["Sure, [SEG]."]
    assert len(list((out / "masks").rglob("*.png"))) == 8
    return result


PIPELINE_WITH_DEFAULTS = """
import sys
from visa_core import Video
from visa_core.inference import VisaPipeline
pipeline = VisaPipeline.from_pretrained(sys.argv[1], forced_answer="Sure, [SEG].")
result, masks = pipeline(Video.open(sys.argv[2]), "the red box")
print(type(pipeline.selector).name, type(pipeline.propagator).name, list(masks.shape), masks.dtype)
"""


def _pipeline_with_defaults(environment: FreshEnvironment, model: Path, clip: Path) -> str:
    return environment.run("python", "-c", PIPELINE_WITH_DEFAULTS, model, clip).stdout.strip()


def _plugins(environment: FreshEnvironment) -> set[tuple[str, str, str]]:
    rows = json.loads(environment.run("visa", "plugins", "--json").stdout)
    return {(row["kind"], row["name"], row["distribution"]) for row in rows}


def test_visa_core_alone_runs_the_model_the_pipeline_and_segment(tmp_path, wheelhouse, clip_mp4) -> None:
    environment = install(tmp_path, wheelhouse, "visa-core")
    assert _plugins(environment) == {
        ("frame_selector", "uniform", "visa-core"),
        ("propagator", "seg_token", "visa-core"),
    }
    model = tmp_path / "model"
    environment.run("visa", "init-model", "--preset", "tiny", model)
    _segment_with_defaults(environment, model, clip_mp4, tmp_path / "out")
    assert _pipeline_with_defaults(environment, model, clip_mp4) == "uniform seg_token [1, 8, 32, 48] bool"
    missing = environment.run(
        "visa", "segment", "--model", model, "--video", clip_mp4, "--query", "x", "--propagator", "xmem",
        "--out", tmp_path / "out-xmem", expect=2,
    )  # fmt: skip
    assert "the propagator 'xmem' is provided by visa-propagate: pip install visa-propagate" in missing.stderr
    evaluation = environment.run("visa", "eval", "revos", tmp_path, "--root", tmp_path, expect=2)
    assert "the command 'eval' is provided by visa-eval: pip install visa-eval" in evaluation.stderr


def test_the_users_line_visa_core_and_visa_propagate(tmp_path, wheelhouse, clip_mp4) -> None:
    """``pip install visa-core visa-propagate``: visa segment and the pipeline with their defaults."""
    environment = install(tmp_path, wheelhouse, "visa-core visa-propagate")
    assert {name for kind, name, _ in _plugins(environment) if kind == "propagator"} == {
        "seg_token", "identity", "sam2", "xmem",
    }  # fmt: skip
    model = tmp_path / "model"
    environment.run("visa", "init-model", "--preset", "tiny", model)
    _segment_with_defaults(environment, model, clip_mp4, tmp_path / "out")
    assert _pipeline_with_defaults(environment, model, clip_mp4) == "uniform seg_token [1, 8, 32, 48] bool"
    identity = tmp_path / "out-identity"
    environment.run(
        "visa", "segment", "--model", model, "--video", clip_mp4, "--query", "the red box",
        "--answer", "Sure, [SEG].", "--propagator", "identity", "--out", identity,
    )  # fmt: skip
    missing = environment.run(
        "visa", "segment", "--model", model, "--video", clip_mp4, "--query", "x", "--selector", "clip",
        "--out", tmp_path / "out-clip", expect=2,
    )  # fmt: skip
    assert "the frame selector 'clip' is provided by visa-frame-select: pip install visa-frame-select" in (
        missing.stderr
    )


def test_all_five_segment_train_predict_and_evaluate(tmp_path, wheelhouse, clip_mp4) -> None:
    environment = install(tmp_path, wheelhouse, ALL_FIVE)
    distributions = {distribution for _, _, distribution in _plugins(environment)}
    assert distributions == set(DISTRIBUTIONS)
    data = tmp_path / "synthetic"
    environment.run(
        "visa", "make-synthetic", data, "--videos", "6", "--images", "4", "--texts", "20", "--frames", "6",
        "--size", "32",
    )  # fmt: skip
    config = yaml.safe_load((REPO / "examples" / "configs" / "tiny-synthetic.yaml").read_text())
    config["model"] = {"path": None, "preset": "tiny"}
    for entry in config["data"]["mixture"]:
        entry["options"]["root"] = str(data)
    config["data"]["clip"].update(min_frames=2, max_frames=3)
    config["schedule"].update(steps_per_epoch=3, batch_size=2, warmup_steps=1)
    config["output_dir"] = str(tmp_path / "run")
    config_file = tmp_path / "small.yaml"
    config_file.write_text(yaml.safe_dump(config))
    environment.run(
        "accelerate",
        "launch",
        "--num_processes",
        "1",
        REPO / "examples" / "train.py",
        "--config",
        config_file,
    )
    model = tmp_path / "run" / "model"
    assert (model / "model.safetensors").is_file()

    _segment_with_defaults(environment, model, clip_mp4, tmp_path / "out")
    predictions = tmp_path / "pred"
    environment.run(
        "visa", "predict", "--model", model, "--dataset", "revos", "--root", data, "--split", "valid",
        "--answer", "Sure, [SEG].", "--out", predictions,
    )  # fmt: skip
    scores = tmp_path / "scores.json"
    environment.run("visa", "eval", "revos", predictions, "--root", data, "--split", "valid", "--out", scores)
    overall = json.loads(scores.read_text())
    assert np.isfinite(overall["overall"]["JF"])
