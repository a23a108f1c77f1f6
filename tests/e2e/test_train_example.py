"""``examples/train.py`` end to end in-process: a short run of the default recipe on a small
synthetic dataset writes the run folder and a loadable model; bad overrides fail with a message."""

from __future__ import annotations

import importlib.util
from pathlib import Path

EXAMPLE = Path(__file__).parents[2] / "examples" / "train.py"


def _example():
    spec = importlib.util.spec_from_file_location("visa_example_train", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_default_recipe_trains_on_synthetic_data(tmp_path, capsys):
    from visa_core.model import VisaForSegmentation
    from visa_data.synthetic import SyntheticConfig, generate_dataset

    data = tmp_path / "synthetic"
    generate_dataset(data, SyntheticConfig(videos=5, images=4, frames=6, size=32), progress=False)
    mixture = ", ".join(
        f"{{dataset: {name}, weight: {weight}, options: {{root: {data}}}}}"
        for name, weight in (("revos", 12), ("synthetic_images", 3), ("synthetic_qa", 1))
    )
    overrides = ["--output_dir", str(tmp_path / "run"), "--data.mixture", f"[{mixture}]",
                 "--schedule.steps_per_epoch", "3", "--schedule.batch_size", "2",
                 "--data.clip.max_frames", "4", "--no-eval"]  # fmt: skip
    assert (
        _example().main(["--config", str(EXAMPLE.parent / "configs" / "tiny-synthetic.yaml"), *overrides])
        == 0
    )
    assert "trained 3 steps" in capsys.readouterr().out
    assert (tmp_path / "run" / "config.yaml").is_file() and (tmp_path / "run" / "environment.json").is_file()
    VisaForSegmentation.from_pretrained(tmp_path / "run" / "model")


def test_unknown_key_is_a_clear_error(capsys):
    assert _example().main(["--optim.lrr", "1"]) == 2
    assert "unknown config key 'optim.lrr'; did you mean 'lr'" in capsys.readouterr().err
