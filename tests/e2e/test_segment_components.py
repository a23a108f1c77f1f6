"""`visa segment` with every built-in frame selector and propagator, on an mp4 and on a frame folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from visa_core.cli.main import main as visa
from visa_core.testing import moving_squares
from visa_core.video import Video
from visa_core.video.writers import Mp4Writer


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same 7-frame clip as a frame folder of PNGs and as an mp4."""
    from PIL import Image

    video, _ = moving_squares(num_frames=7, height=48, width=64, num_objects=2)
    root = tmp_path_factory.mktemp("inputs")
    folder = root / "frames"
    folder.mkdir()
    with Mp4Writer(root / "clip.mp4", fps=7) as writer:
        for index in range(len(video)):
            Image.fromarray(video.frames[index]).save(folder / f"{index:05d}.png")
            writer.write(video.frames[index])
    return {"folder": folder, "mp4": root / "clip.mp4"}


@pytest.fixture(scope="module")
def propagator_arguments(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    from visa_propagate.testing import write_tiny_sam2_checkpoint

    sam2 = write_tiny_sam2_checkpoint(tmp_path_factory.mktemp("sam2"))
    return {
        "identity": [],
        "seg_token": [],
        "sam2": ["--propagator-checkpoint", str(sam2)],
        "xmem": ["--propagator-option", "network=tiny", "--propagator-option", "size=-1"],
    }


def _segment(model: Path, video: Path, out: Path, extra: list[str]) -> dict:
    status = visa(
        ["segment", "--model", str(model), "--video", str(video), "--query", "the red square",
         "--answer", "Sure, [SEG].", "--out", str(out), "--no-overlay", *extra]
    )  # fmt: skip
    assert status == 0
    return json.loads((out / "result.json").read_text())


@pytest.mark.parametrize("source", ["folder", "mp4"])
@pytest.mark.parametrize("propagator", ["identity", "seg_token", "sam2", "xmem"])
def test_every_propagator(
    tiny_visa_model_dir: Path,
    inputs: dict[str, Path],
    propagator_arguments: dict[str, list[str]],
    tmp_path: Path,
    propagator: str,
    source: str,
) -> None:
    out = tmp_path / "out"
    result = _segment(
        tiny_visa_model_dir,
        inputs[source],
        out,
        ["--propagator", propagator, *propagator_arguments[propagator]],
    )
    video = Video.open(inputs[source])
    query = result["queries"][0]
    assert query["has_target"] and query["num_objects"] == 1
    written = sorted(p.stem for p in (out / "masks" / "q0" / "0").glob("*.png"))
    assert written == sorted(video.frame_ids)
    key = query["target_frame"]
    key_mask = out / "masks" / "q0" / "0" / f"{video.frame_ids[key]}.png"
    assert key_mask.is_file()


@pytest.fixture(scope="module")
def selector_arguments(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    from visa_frame_select.testing import write_tiny_clip, write_tiny_llamavid, write_tiny_llava

    clip = write_tiny_clip(tmp_path_factory.mktemp("clip"))
    llava = write_tiny_llava(tmp_path_factory.mktemp("llava"))
    llamavid = write_tiny_llamavid(tmp_path_factory.mktemp("llamavid"))
    return {
        "uniform": [],
        "clip": ["--selector-model", str(clip)],
        "llamavid-transformers": ["--selector-model", str(llava), "--selector-option", "repeats=2"],
        "llamavid-llamavid": [
            "--selector-model", str(llamavid["model"]), "--selector-option", "backend=llamavid",
            "--selector-option", f"vision_tower={llamavid['vision_tower']}",
            "--selector-option", f"qformer={llamavid['qformer']}", "--selector-option", "repeats=2",
        ],
    }  # fmt: skip


@pytest.mark.parametrize("source", ["folder", "mp4"])
@pytest.mark.parametrize("selector", ["uniform", "clip", "llamavid-transformers", "llamavid-llamavid"])
def test_every_selector(
    tiny_visa_model_dir: Path,
    inputs: dict[str, Path],
    selector_arguments: dict[str, list[str]],
    tmp_path: Path,
    selector: str,
    source: str,
) -> None:
    name = selector.split("-")[0]
    result = _segment(
        tiny_visa_model_dir,
        inputs[source],
        tmp_path / "out",
        ["--selector", name, *selector_arguments[selector]],
    )
    query = result["queries"][0]
    assert 0 <= query["target_frame"] < 7
    assert query["target_frame"] in query["reference_frames"]
    assert len(list((tmp_path / "out" / "masks" / "q0" / "0").glob("*.png"))) == 7


def test_key_frame_mask_is_kept_by_identity(
    tiny_visa_model_dir: Path, inputs: dict[str, Path], tmp_path: Path
) -> None:
    """identity copies the model's key-frame mask to every frame: all PNGs are equal."""
    out = tmp_path / "out"
    _segment(tiny_visa_model_dir, inputs["folder"], out, ["--propagator", "identity"])
    pngs = sorted((out / "masks" / "q0" / "0").glob("*.png"))
    first = pngs[0].read_bytes()
    assert all(p.read_bytes() == first for p in pngs)


def test_selector_target_index(tiny_visa_model_dir: Path, inputs: dict[str, Path], tmp_path: Path) -> None:
    result = _segment(
        tiny_visa_model_dir, inputs["mp4"], tmp_path / "out", ["--selector-option", "target=first"]
    )
    assert result["queries"][0]["target_frame"] == 0
    assert 0 in result["queries"][0]["reference_frames"]


def test_unknown_propagator_is_a_clear_error(
    tiny_visa_model_dir: Path, inputs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = visa(
        ["segment", "--model", str(tiny_visa_model_dir), "--video", str(inputs["mp4"]), "--query", "x",
         "--propagator", "sam3", "--out", str(tmp_path / "o")]
    )  # fmt: skip
    assert status == 2
    assert "unknown propagator 'sam3'; did you mean 'sam2'?" in capsys.readouterr().err
