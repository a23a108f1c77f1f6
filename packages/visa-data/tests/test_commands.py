"""``visa make-synthetic`` and ``visa data convert|stats`` as a user runs them; cheap plugin import."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from visa_core.cli.main import main
from visa_core.testing import modules_imported_by

sys.path.insert(0, str(Path(__file__).parent))
import video_trees


def test_importing_the_plugin_is_cheap() -> None:
    heavy = ("torch", "transformers", "decord", "scipy", "pyarrow", "datasets")
    assert modules_imported_by("import visa_data.plugin", heavy) == []


def test_make_synthetic_then_stats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "synthetic"
    assert (
        main(["make-synthetic", str(out), "--videos", "5", "--images", "2", "--seed", "1", "--frames", "8"])
        == 0
    )
    assert "wrote" in capsys.readouterr().out
    assert main(["data", "stats", "revos", "--root", str(out), "--split", "train", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["videos"] == 4 and stats["frames"] == 32 and stats["annotated_frames"] == 32
    assert set(stats["expressions_by_kind"]) == {"referring", "reasoning", "none"}
    assert main(["data", "stats", "synthetic_qa", "--root", str(out), "--split", "valid"]) == 0
    assert "conversation" in capsys.readouterr().out


def test_convert_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    video_trees.png_tree(tmp_path / "davis")
    assert (
        main(["data", "convert", "davis17", "--root", str(tmp_path / "davis"), "--out", str(tmp_path / "d")])
        == 0
    )
    assert (tmp_path / "d" / "mask_dict.json").is_file() and "2 expressions" in capsys.readouterr().out
    video_trees.revos_tree(tmp_path / "revos")
    fg = tmp_path / "fg.json"
    assert (
        main(["data", "convert", "revos-foreground", "--root", str(tmp_path / "revos"), "--out", str(fg)])
        == 0
    )
    assert set(json.loads(fg.read_text())) == {"v_a", "v_b"}
    video_trees.lvvis_instances(tmp_path / "inst.json")
    assert (
        main(
            [
                "data",
                "convert",
                "lvvis",
                "--instances",
                str(tmp_path / "inst.json"),
                "--out",
                str(tmp_path / "l"),
            ]
        )
        == 0
    )
    assert (tmp_path / "l" / "meta_expressions.json").is_file()


def test_errors_exit_with_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "stats", "mevis", "--root", str(tmp_path), "--split", "train"]) == 2
    assert "mevis: annotation file" in capsys.readouterr().err
