from __future__ import annotations

import argparse

from visa_core.cli.model_commands import ExportCommand, InitModelCommand
from visa_core.model import VisaForSegmentation, VisaProcessor


def _run(command, argv):
    parser = argparse.ArgumentParser()
    command.configure(parser)
    return command().run(parser.parse_args(argv))


def test_init_model_and_export_write_loadable_folders(tmp_path, capsys):
    assert _run(InitModelCommand, ["--preset", "tiny", str(tmp_path / "m")]) == 0
    names = {p.name for p in (tmp_path / "m").iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "visa_processor.json"} <= names
    assert _run(ExportCommand, ["--merge-lora", str(tmp_path / "m"), str(tmp_path / "e")]) == 0
    assert "no LoRA layers" in capsys.readouterr().out
    model = VisaForSegmentation.from_pretrained(str(tmp_path / "e"))
    processor = VisaProcessor.from_pretrained(tmp_path / "e")
    assert processor.seg_token_id == model.config.seg_token_id
    assert processor.images.sam_size == model.config.sam_config["image_size"] == 128
