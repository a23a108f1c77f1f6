"""``examples/train.py`` end to end: a short run of the default recipe (language pretraining, then
training from its model; each stage in two CPU processes, as on the machine the default run is
sized for, or in-process) on a small synthetic dataset writes the run folders and a loadable
model; bad overrides fail with a message."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import yaml

EXAMPLE = Path(__file__).parents[2] / "examples" / "train.py"


def _example():
    spec = importlib.util.spec_from_file_location("visa_example_train", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _small(config: Path, out: Path, root: Path, **changes) -> Path:
    """A copy of a shipped config with ``changes``, its datasets read from ``root``, 3 steps of 2,
    written to ``out.yaml``."""
    settings = {**yaml.safe_load(config.read_text()), **changes}
    for entry in settings["data"]["mixture"]:
        entry["options"]["root"] = str(root)
    settings["schedule"].update(steps_per_epoch=3, batch_size=2)
    path = out.with_suffix(".yaml")
    path.write_text(yaml.safe_dump(settings))
    return path


def test_default_run_pretrains_the_language_model_then_trains_from_it(tmp_path, capsys, monkeypatch):
    from visa_core.config import load_config
    from visa_core.model import VisaForSegmentation
    from visa_data.synthetic import SyntheticConfig, generate_dataset

    data = tmp_path / "synthetic"
    generate_dataset(data, SyntheticConfig(videos=5, images=4, texts=40, frames=6, size=32), progress=False)
    example = _example()
    configs = EXAMPLE.parent / "configs"
    language = _small(
        configs / "tiny-language.yaml", tmp_path / "language", data, output_dir=str(tmp_path / "lm")
    )
    default = yaml.safe_load((configs / "tiny-synthetic.yaml").read_text())
    default_file = _small(
        configs / "tiny-synthetic.yaml", tmp_path / "default", data, output_dir=str(tmp_path / "run"),
        model={**default["model"], "path": str(tmp_path / "lm" / "model")},
        data={**default["data"], "clip": {**default["data"]["clip"], "max_frames": 4}},
    )  # fmt: skip
    prepared = []
    monkeypatch.setattr(example, "LANGUAGE_CONFIG", language)
    monkeypatch.setattr(example, "DEFAULT_CONFIG", default_file)
    monkeypatch.setattr(example, "prepare_synthetic_data", lambda config: prepared.append(config.output_dir))

    assert example.main(["--no-eval", "--processes", "2"]) == 0
    printed, warned = capsys.readouterr()
    assert "language pretraining of the tiny LLM" in printed and "2 training processes" in printed
    assert "of the repeated name words copied right (valid conversations)" in printed
    assert "this language model has not learned to copy" in warned  # 3 steps do not teach it
    assert prepared == [tmp_path / "run", tmp_path / "lm"]  # both stages' datasets are prepared
    assert load_config(tmp_path / "lm" / "config.yaml").data.mixture[0].dataset == "synthetic_text"
    assert load_config(tmp_path / "run" / "config.yaml").model.path == tmp_path / "lm" / "model"
    for stage in (tmp_path / "lm", tmp_path / "run"):
        assert json.loads((stage / "environment.json").read_text())["num_processes"] == 2
    VisaForSegmentation.from_pretrained(tmp_path / "run" / "model")

    # in this process; overrides apply to stage 2: a changed run is refused by name, then restarted
    changed = ["--no-eval", "--processes", "1", "--schedule.steps_per_epoch", "4"]
    assert example.main(changed) == 2
    assert "schedule.steps_per_epoch: was 3, now 4" in capsys.readouterr().err
    assert example.main([*changed, "--resume", "restart"]) == 0
    printed = capsys.readouterr().out
    assert "language pretraining of" not in printed and "trained 4 steps" in printed


def test_unknown_key_is_a_clear_error(capsys):
    assert _example().main(["--optim.lrr", "1"]) == 2
    assert "unknown config key 'optim.lrr'; did you mean 'lr'" in capsys.readouterr().err
