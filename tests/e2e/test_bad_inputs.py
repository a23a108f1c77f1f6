"""Bad and borderline inputs across the commands and the Python API, one table row each.

Every row asserts the exit status (2 for a named error, 1 for a report of problems, 0 where the
input is handled), that the message names the file or field, that no traceback is printed, and
that no pre-existing file changed (the watched folder hashed before and after; a folder that did
not exist must still not exist). Commands run in-process on the session's tiny model.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from visa_core.cli.main import main as visa
from visa_core.errors import VisaError

ANSWER = "Sure, [SEG]."


@dataclass
class Workspace:
    """What the rows build their inputs from: the tiny model, a synthetic dataset, earlier runs."""

    model: Path
    root: Path
    segment_run: Path
    predict_run: Path
    tmp: Path

    @property
    def video(self) -> Path:
        return self.root / "JPEGImages" / "vid00000"

    def copy(self, source: Path, name: str) -> Path:
        target = self.tmp / name
        shutil.copytree(source, target)
        return target

    def broken_model(self, damage: str) -> Path:
        """A copy of the tiny model with one kind of damage."""
        from safetensors.torch import load_file, save_file

        folder = self.copy(self.model, f"model-{damage}")
        weights = folder / "model.safetensors"
        if damage == "no-weights":
            weights.unlink()
        elif damage == "truncated":
            weights.write_bytes(weights.read_bytes()[:-1000])
        elif damage in ("missing-tensor", "extra-tensor", "mis-shaped"):
            import torch

            state = load_file(weights)
            if damage == "missing-tensor":
                del state["text_hidden_fcs.2.weight"]
            elif damage == "extra-tensor":
                state["text_hidden_fcs.9.weight"] = torch.zeros(2)
            else:
                state["text_hidden_fcs.0.weight"] = torch.zeros(3, 3)
            save_file(state, weights)
        elif damage == "no-tokenizer":
            (folder / "tokenizer.json").unlink()
        elif damage == "no-seg":
            tokenizer = json.loads((folder / "tokenizer.json").read_text())
            tokenizer["added_tokens"] = [t for t in tokenizer["added_tokens"] if t["content"] != "[SEG]"]
            tokenizer["model"]["vocab"].pop("[SEG]", None)
            (folder / "tokenizer.json").write_text(json.dumps(tokenizer))
        elif damage == "checkpoint-state":
            (folder / "config.json").unlink()
            (folder / "trainer_state.json").write_text('{"step": 3}')
        return folder

    def folder_with(self, name: str, files: dict[str, str]) -> Path:
        folder = self.tmp / name
        for relative, text in files.items():
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            (folder / relative).write_text(text)
        return folder

    def read_only(self, name: str) -> Path:
        folder = self.tmp / name
        folder.mkdir()
        folder.chmod(0o555)
        return folder

    def a_file(self, name: str) -> Path:
        path = self.tmp / name
        path.write_text("not a folder")
        return path

    def segment(self, out: Path, *extra: str, query: str = "the red circle") -> list[str]:
        return ["segment", "--model", str(self.model), "--video", str(self.video), "--query", query,
                "--answer", ANSWER, "--propagator", "identity", "--out", str(out), *extra]  # fmt: skip

    def predict(self, out: Path, *extra: str, model: Path | None = None) -> list[str]:
        return ["predict", "--model", str(model or self.model), "--dataset", "revos", "--root",
                str(self.root), "--split", "valid", "--answer", ANSWER, "--propagator", "identity",
                "--out", str(out), *extra]  # fmt: skip


@pytest.fixture(scope="module")
def workspace(tiny_visa_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    from visa_data.synthetic import SyntheticConfig, generate_dataset

    base = tmp_path_factory.mktemp("bad-inputs")
    root = base / "synthetic"
    generate_dataset(
        root, SyntheticConfig(videos=4, images=0, texts=2, frames=5, size=32, seed=5), progress=False
    )
    ws = Workspace(tiny_visa_model_dir, root, base / "segment-run", base / "predict-run", base)
    assert visa(ws.segment(ws.segment_run, "--no-overlay")) == 0
    assert visa(ws.predict(ws.predict_run)) == 0
    return ws


@dataclass(frozen=True)
class Case:
    """One bad input: ``make`` builds it and returns ``(argv or a callable, watched path)``."""

    name: str
    make: Callable[[Workspace, Path], tuple[list[str] | Callable[[], object], Path]]
    status: int
    needles: tuple[str, ...]


def _on(path: Path, call: Callable[[Path], object]) -> tuple[Callable[[], object], Path]:
    """A Python API row: ``call(path)`` on an input built beforehand, ``path`` watched."""
    return (lambda: call(path)), path


def _load(folder: Path) -> object:
    from visa_core.inference.loading import load_model

    return load_model(folder)


def _claim(folder: Path) -> object:
    from visa_core.outputs_policy import claim_output_folder

    return claim_output_folder(folder)


def _query(text: str) -> object:
    from visa_core.inference.queries import check_query_text

    return check_query_text(text, "query")


def _build(kind: str, name: str, **options: object) -> object:
    from visa_core.plugins import build

    return build(kind, name, **options)


def _resume_from(folder: Path) -> object:
    from visa_core.training import RunFolder

    return RunFolder(folder.parent).resolve_resume(str(folder))


def _damaged_checkpoint(ws: Workspace, name: str) -> Path:
    folder = ws.copy(ws.model, name)
    (folder / "trainer_state.json").write_text('{"step": 2}')
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-500])
    return folder


def _corrupt_masks(ws: Workspace, name: str) -> Path:
    root = ws.copy(ws.root, name)
    masks = json.loads((root / "mask_dict.json").read_text())
    first = next(iter(masks))
    masks[first] = [{"size": [32, 32], "counts": "not-an-rle!"} for _ in masks[first]]
    (root / "mask_dict.json").write_text(json.dumps(masks))
    return root


def _missing_frame(ws: Workspace, name: str) -> Path:
    root = ws.copy(ws.root, name)
    next(iter(sorted((root / "JPEGImages").glob("*/*.jpg")))).unlink()
    return root


NOT_EMPTY = "is not empty"

CASES = [
    # ---- model folders written by init-model / export / convert-checkpoint
    Case("init-model over a model folder",
         lambda ws, t: (["init-model", str(ws.copy(ws.model, "m"))], t / "m"),
         2, (NOT_EMPTY, "model.safetensors", "--overwrite")),
    Case("init-model OUT is a file",
         lambda ws, t: (["init-model", str(ws.a_file("f"))], t / "f"), 2, ("is a file",)),
    Case("init-model OUT read-only", lambda ws, t: (["init-model", str(ws.read_only("ro"))], t / "ro"),
         2, ("read-only", "ro")),
    Case("init-model under a read-only folder",
         lambda ws, t: (["init-model", str(ws.read_only("ro2") / "new")],
         t / "ro2"), 2, ("read-only",)),
    Case("export into a model folder", lambda ws, t: (["export", str(ws.model), str(ws.copy(ws.model, "e"))],
         t / "e"), 2, (NOT_EMPTY,)),
    Case("export OUT is SRC", lambda ws, t: (["export", str(ws.copy(ws.model, "s")), str(t / "s")], t / "s"),
         2, ("overlaps",)),
    Case("export OUT inside SRC",
         lambda ws, t: (["export", str(ws.copy(ws.model, "s2")), str(t / "s2" / "o")],
         t / "s2"), 2, ("overlaps",)),
    Case("export without weights",
         lambda ws, t: (["export", str(ws.broken_model("no-weights")), str(t / "o")],
         t / "o"), 2, ("no weight files", "model-no-weights")),
    Case("export truncated weights",
         lambda ws, t: (["export", str(ws.broken_model("truncated")), str(t / "o")],
         t / "o"), 2, ("truncated", "model.safetensors")),
    Case("export missing tensor", lambda ws, t: (["export", str(ws.broken_model("missing-tensor")),
         str(t / "o")], t / "o"), 2, ("tensors missing", "text_hidden_fcs.2.weight")),
    Case("export extra tensor", lambda ws, t: (["export", str(ws.broken_model("extra-tensor")), str(t / "o")],
         t / "o"), 2, ("does not have", "text_hidden_fcs.9.weight")),
    Case("export mis-shaped tensor",
         lambda ws, t: (["export", str(ws.broken_model("mis-shaped")), str(t / "o")],
         t / "o"), 2, ("wrong shape", "text_hidden_fcs.0.weight")),
    Case("export without tokenizer", lambda ws, t: (["export", str(ws.broken_model("no-tokenizer")),
         str(t / "o")], t / "o"), 2, ("no tokenizer", "model-no-tokenizer")),
    Case("export tokenizer without [SEG]", lambda ws, t: (["export", str(ws.broken_model("no-seg")),
         str(t / "o")], t / "o"), 2, ("[SEG]", "model-no-seg")),
    Case("export a bare training state", lambda ws, t: (["export", str(ws.broken_model("checkpoint-state")),
         str(t / "o")], t / "o"), 2, ("training checkpoint", "model/")),
    Case("export --merge-lora of a merged model", lambda ws, t: (["export", "--merge-lora", str(ws.model),
         str(t / "o")], t / "o-unwatched"), 0, ("no LoRA layers",)),
    Case("convert-checkpoint into a model folder", lambda ws, t: (["convert-checkpoint", "--format", "visa",
         str(ws.model), str(ws.copy(ws.model, "c"))], t / "c"), 2, (NOT_EMPTY,)),
    Case("convert-checkpoint SRC missing", lambda ws, t: (["convert-checkpoint", "--format", "visa",
         str(t / "nothing"), str(t / "o")], t / "o"), 2, ("no such checkpoint", "nothing")),
    # ---- visa segment
    Case("segment into a foreign folder",
         lambda ws, t: (ws.segment(ws.folder_with("f", {"notes.txt": "mine"})),
         t / "f"), 2, (NOT_EMPTY, "notes.txt")),
    Case("segment into a run of another query", lambda ws, t: (ws.segment(ws.copy(ws.segment_run, "r"),
         "--no-overlay", query="the blue square"), t / "r"), 2, ("queries: was ['the red circle']",)),
    Case("segment into a run with another answer", lambda ws, t: (ws.segment(ws.copy(ws.segment_run, "r2"),
         "--no-overlay", "--answer", "It is [SEG]."), t / "r2"), 2, ("answer: was 'Sure, [SEG].'",)),
    Case("segment empty query",
         lambda ws, t: (ws.segment(t / "o", query=""), t / "o"), 2, ("--query 1 is empty",)),
    Case("segment whitespace query", lambda ws, t: (ws.segment(t / "o", query=" \t "), t / "o"),
         2, ("--query 1 is empty",)),
    Case("segment query beyond the context",
         lambda ws, t: (ws.segment(t / "o", query="red " * 5000), t / "o"),
         2, ("--query 1 has 5000 tokens", "context")),
    Case("segment --max-new-tokens 0", lambda ws, t: (ws.segment(t / "o", "--max-new-tokens", "0"), t / "o"),
         2, ("--max-new-tokens",)),
    Case("segment --cached-frames -3", lambda ws, t: (ws.segment(t / "o", "--cached-frames", "-3"), t / "o"),
         2, ("--cached-frames",)),
    Case("segment unknown propagator", lambda ws, t: (ws.segment(t / "o", "--propagator", "sam3"), t / "o"),
         2, ("unknown propagator 'sam3'",)),
    Case("segment unknown selector", lambda ws, t: (ws.segment(t / "o", "--selector", "unifrom"), t / "o"),
         2, ("'unifrom'", "uniform")),
    Case("segment missing propagator checkpoint", lambda ws, t: (ws.segment(t / "o", "--propagator", "xmem",
         "--propagator-checkpoint", str(t / "xmem.pth")), t / "o"), 2, ("xmem.pth",)),
    Case("segment option without =",
         lambda ws, t: (ws.segment(t / "o", "--propagator-option", "top_k"), t / "o"),
         2, ("'top_k'", "KEY=VALUE")),
    Case("segment --out is a file", lambda ws, t: (ws.segment(ws.a_file("f")), t / "f"), 2, ("is a file",)),
    Case("segment --out read-only",
         lambda ws, t: (ws.segment(ws.read_only("ro")), t / "ro"), 2, ("read-only",)),
    Case("segment model folder missing", lambda ws, t: (["segment", "--model", str(t / "nomodel"), "--video",
         str(ws.video), "--query", "x", "--out", str(t / "o")], t / "o"), 2, ("nomodel",)),
    Case("segment model missing a tensor", lambda ws, t: (["segment", "--model",
         str(ws.broken_model("missing-tensor")), "--video", str(ws.video),
         "--query", "x", "--out", str(t / "o")],
         t / "o"), 2, ("tensors missing",)),
    Case("segment video missing", lambda ws, t: (["segment", "--model", str(ws.model), "--video",
         str(t / "clip.mp4"), "--query", "x", "--out", str(t / "o")], t / "o"), 2, ("clip.mp4",)),
    # ---- visa predict
    Case("predict into a run with another answer", lambda ws, t: (ws.predict(ws.copy(ws.predict_run, "p"),
         "--answer", "It is [SEG]."), t / "p"), 2, ("answer: was 'Sure, [SEG].'", "--overwrite")),
    Case("predict into a run with another propagator",
         lambda ws, t: (ws.predict(ws.copy(ws.predict_run, "p2"),
         "--propagator", "seg_token"), t / "p2"), 2, ("propagator: was 'identity', now 'seg_token'",)),
    Case("predict into a run of another model", lambda ws, t: (ws.predict(ws.copy(ws.predict_run, "p3"),
         model=_other_model(ws)), t / "p3"), 2, ("model_weights: was",)),
    Case("predict into a foreign folder", lambda ws, t: (ws.predict(ws.folder_with("f", {"a/b.png": "x"})),
         t / "f"), 2, (NOT_EMPTY, "a/")),
    Case("predict unknown dataset",
         lambda ws, t: (["predict", "--model", str(ws.model), "--dataset", "revoss",
         "--root", str(ws.root), "--out", str(t / "o")], t / "o"), 2, ("'revoss'", "revos")),
    Case("predict model without weights",
         lambda ws, t: (ws.predict(t / "o", model=ws.broken_model("no-weights")),
         t / "o"), 2, ("no weight files",)),
    Case("predict --out is a file", lambda ws, t: (ws.predict(ws.a_file("f")), t / "f"), 2, ("is a file",)),
    Case("predict --max-new-tokens 0", lambda ws, t: (ws.predict(t / "o", "--max-new-tokens", "0"), t / "o"),
         2, ("--max-new-tokens",)),
    # ---- visa-data commands
    Case("make-synthetic into a foreign folder", lambda ws, t: (["make-synthetic", str(ws.folder_with("f",
         {"x.txt": "mine"})), "--videos", "1"], t / "f"), 2, (NOT_EMPTY, "x.txt")),
    Case("make-synthetic over a dataset", lambda ws, t: (["make-synthetic", str(ws.copy(ws.root, "d")),
         "--videos", "1"], t / "d"), 2, (NOT_EMPTY, "--overwrite")),
    Case("make-synthetic --videos 0",
         lambda ws, t: (["make-synthetic", str(t / "o"), "--videos", "0"], t / "o"),
         2, ("videos >= 1",)),
    Case("data stats missing frame file", lambda ws, t: (["data", "stats", "revos", "--root",
         str(_missing_frame(ws, "mf")), "--split", "train"], t / "mf"), 1, ("does not exist", ".jpg")),
    Case("data stats corrupt masks", lambda ws, t: (["data", "stats", "revos", "--root",
         str(_corrupt_masks(ws, "cm")), "--split", "train"], t / "cm"), 1, ("problems:", "mask")),
    # ---- the Python API
    Case("load_model without tokenizer", lambda ws, t: _on(ws.broken_model("no-tokenizer"), _load),
         2, ("no tokenizer",)),
    Case("load_model truncated weights",
         lambda ws, t: _on(ws.broken_model("truncated"), _load), 2, ("truncated",)),
    Case("load_model a bare training state", lambda ws, t: _on(ws.broken_model("checkpoint-state"), _load),
         2, ("training checkpoint",)),
    Case("claim_output_folder non-empty", lambda ws, t: _on(ws.folder_with("f", {"k": "v"}), _claim),
         2, (NOT_EMPTY, "k")),
    Case("check_query_text empty", lambda ws, t: ((lambda: _query("   ")), t / "o"), 2, ("query is empty",)),
    Case("build unknown propagator", lambda ws, t: ((lambda: _build("propagator", "xmen")), t / "o"),
         2, ("'xmen'", "xmem")),
    Case("build propagator with an unknown option", lambda ws, t: ((lambda: _build("propagator", "identity",
         colour="red")), t / "o"), 2, ("colour",)),
    Case("resume from a truncated checkpoint", lambda ws, t: _on(_damaged_checkpoint(ws, "ck"), _resume_from),
         2, ("damaged", "model.safetensors")),
]  # fmt: skip


def _other_model(ws: Workspace) -> Path:
    from visa_core.model.folders import init_model_folder

    folder = ws.tmp / "other-model"
    if not folder.is_dir():
        init_model_folder("tiny", folder, seed=1)
    return folder


def _hashes(path: Path) -> dict[str, str] | None:
    if not path.exists():
        return None
    if path.is_file():
        return {"": hashlib.sha256(path.read_bytes()).hexdigest()}
    return {
        str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_is_named_and_changes_nothing(
    case: Case, workspace: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace = Workspace(
        workspace.model, workspace.root, workspace.segment_run, workspace.predict_run, tmp_path
    )
    command, watched = case.make(workspace, tmp_path)
    before = _hashes(watched)
    capsys.readouterr()
    if callable(command):
        try:
            command()
            status, message = 0, ""
        except VisaError as error:
            status, message = 2, str(error)
    else:
        try:
            status = visa(command)
        except SystemExit as stop:  # argparse usage errors
            status = int(stop.code or 0)
        captured = capsys.readouterr()
        message = captured.out + captured.err
        assert "Traceback" not in message
    assert status == case.status, message
    for needle in case.needles:
        assert needle in message, f"{needle!r} not in: {message}"
    assert _hashes(watched) == before, "a pre-existing file changed (or a refused output was written)"


def test_the_table_covers_forty_cases() -> None:
    assert len(CASES) >= 40 and len({case.name for case in CASES}) == len(CASES)


def test_a_plugin_that_fails_to_import_is_named_and_the_rest_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from visa_core.plugins import reset_plugins

    info = tmp_path / "broken_visa_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-visa-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[visa]\nbroken_plugin = broken_visa_plugin_module_absent\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    reset_plugins()
    try:
        assert visa(["plugins"]) == 0
        captured = capsys.readouterr()
        assert "broken-visa-plugin" in captured.err and "VISA_DISABLE_PLUGINS=broken_plugin" in captured.err
        assert "seg_token" in captured.out and "Traceback" not in captured.err
        monkeypatch.setenv("VISA_DISABLE_PLUGINS", "broken_plugin")
        reset_plugins()
        assert visa(["plugins"]) == 0
        assert "broken" not in capsys.readouterr().err
    finally:
        monkeypatch.undo()
        reset_plugins()


def test_ctrl_c_and_a_closed_pipe_end_with_one_line(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from visa_core.cli import plugins_command

    def interrupted(self, args):
        raise KeyboardInterrupt

    monkeypatch.setattr(plugins_command.PluginsCommand, "run", interrupted)
    assert visa(["plugins"]) == 130
    assert capsys.readouterr().err == "visa plugins: interrupted\n"

    def closed_pipe(self, args):
        raise BrokenPipeError

    monkeypatch.setattr(plugins_command.PluginsCommand, "run", closed_pipe)
    assert visa(["plugins"]) == 141
    assert capsys.readouterr().err == ""


def test_segment_into_its_own_run_again_rewrites_only_its_files(workspace: Workspace, tmp_path: Path, capsys):
    again = workspace.copy(workspace.segment_run, "again")
    assert visa(workspace.segment(again, "--no-overlay")) == 0
    assert {p.name for p in again.iterdir()} == {"masks", "result.json", "visa-run.json"}
    out = tmp_path / "no-seg"
    assert visa([*workspace.segment(out, "--answer", "No.", "--no-overlay")]) == 0
    printed = capsys.readouterr().out
    assert "masks: none written" in printed and not (out / "masks").exists()
    assert visa(workspace.segment(again, "--no-overlay", "--overwrite", query="the blue square")) == 0
    assert json.loads((again / "result.json").read_text())["queries"][0]["text"] == "the blue square"
