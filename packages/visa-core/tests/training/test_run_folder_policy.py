"""The run folder's output policy: changed settings refused by name, restart, damaged checkpoints."""

from __future__ import annotations

import dataclasses

import pytest

from visa_core.errors import CheckpointError, ManifestMismatchError, OutputFolderError
from visa_core.training import RunFolder, train


def _shorter(config, epochs=1):
    return dataclasses.replace(config, schedule=dataclasses.replace(config.schedule, epochs=epochs))


def test_a_changed_config_in_a_finished_run_is_refused_naming_the_keys(standin_config, standin_factory):
    train(_shorter(standin_config), model_factory=standin_factory)
    saved = (standin_config.output_dir / "config.yaml").read_text()
    changed = dataclasses.replace(
        _shorter(standin_config), optim=dataclasses.replace(standin_config.optim, lr=0.5)
    )
    with pytest.raises(ManifestMismatchError, match=r"optim\.lr: was 0\.0003, now 0\.5") as error:
        train(changed, model_factory=standin_factory)
    assert "--resume restart" in str(error.value)
    assert (standin_config.output_dir / "config.yaml").read_text() == saved  # the record still holds


def test_same_settings_resume_and_bookkeeping_keys_may_change(standin_config, standin_factory):
    train(_shorter(standin_config), model_factory=standin_factory)
    again = dataclasses.replace(_shorter(standin_config), log_every=3, keep_last=1)
    assert train(again, model_factory=standin_factory).step == 3


def test_restart_empties_the_folder_and_trains_from_step_zero(standin_config, standin_factory):
    train(_shorter(standin_config), model_factory=standin_factory)
    stray = standin_config.output_dir / "notes.txt"
    stray.write_text("old")
    result = train(dataclasses.replace(standin_config, resume="restart"), model_factory=standin_factory)
    assert result.step == 6 and not stray.exists()
    assert [p.name for p in RunFolder(standin_config.output_dir).list_checkpoints()] == [
        "step_00000003",
        "step_00000006",
    ]


def test_a_folder_of_other_files_is_refused(standin_config, standin_factory):
    standin_config.output_dir.mkdir(parents=True)
    (standin_config.output_dir / "thesis.tex").write_text("mine")
    with pytest.raises(OutputFolderError, match="thesis.tex"):
        train(standin_config, model_factory=standin_factory)
    assert (standin_config.output_dir / "thesis.tex").read_text() == "mine"


def test_a_truncated_newest_checkpoint_is_skipped_for_the_one_before(standin_config, standin_factory, capsys):
    config = dataclasses.replace(standin_config, keep_last=3)
    train(config, model_factory=standin_factory)  # checkpoints at 3 and 6
    run = RunFolder(config.output_dir)
    newest = run.checkpoint_path(6)
    damaged = next(p for p in sorted(newest.iterdir()) if p.suffix in (".bin", ".safetensors"))
    damaged.write_bytes(damaged.read_bytes()[:-40])
    assert run.latest_intact_checkpoint() == run.checkpoint_path(3)
    assert f"skipping checkpoint {newest}" in capsys.readouterr().out
    with pytest.raises(CheckpointError, match="damaged"):
        run.resolve_resume(str(newest))
    assert train(config, model_factory=standin_factory).step == 6  # steps 4-6 trained again
    assert run.latest_intact_checkpoint() == newest
