"""`visa segment` and `visa predict` end to end with the tiny model, then `visa eval` on the predictions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from visa_core.cli.main import main as visa
from visa_core.video import Video
from visa_core.video.writers import Mp4Writer, load_mask_png


@pytest.fixture(scope="module")
def synthetic_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from visa_data.synthetic import SyntheticConfig, generate_dataset

    root = tmp_path_factory.mktemp("synthetic")
    generate_dataset(root, SyntheticConfig(videos=5, images=0, seed=3), progress=False)
    return root


def _valid_video(root: Path) -> Path:
    meta = json.loads((root / "meta_expressions_valid_.json").read_text())
    return root / "JPEGImages" / sorted(meta["videos"])[0]


def test_segment_frame_folder_writes_masks_json_and_overlay(
    tiny_visa_model_dir: Path, synthetic_root: Path, tmp_path: Path
) -> None:
    frames = _valid_video(synthetic_root)
    video = Video.open(frames)
    out = tmp_path / "out"
    status = visa(
        [
            "segment",
            "--model",
            str(tiny_visa_model_dir),
            "--video",
            str(frames),
            "--query",
            "the red circle",
            "--query",
            "the object that moves fastest",
            "--answer",
            "Sure, [SEG].",
            "--out",
            str(out),
        ]
    )
    assert status == 0
    result = json.loads((out / "result.json").read_text())
    assert [q["text"] for q in result["queries"]] == ["the red circle", "the object that moves fastest"]
    assert result["frame_ids"] == list(video.frame_ids)
    for query in result["queries"]:
        assert query["has_target"] and query["num_objects"] == 1
        assert query["answer"] == "Sure, [SEG]."
        assert 0 <= query["target_frame"] < len(video)
        pngs = sorted((out / "masks" / query["id"] / "0").iterdir())
        assert [p.stem for p in pngs] == list(video.frame_ids)
        assert load_mask_png(pngs[0]).shape == video.size
        assert len(query["frame_mask_area"]) == len(video)
    overlay = Video.open(out / "overlay.mp4")
    assert len(overlay) == len(video)


def test_segment_mp4_and_an_answer_without_seg(
    tiny_visa_model_dir: Path, synthetic_root: Path, tmp_path: Path
) -> None:
    video = Video.open(_valid_video(synthetic_root))
    path = tmp_path / "clip.mp4"
    with Mp4Writer(path, fps=5) as writer:
        for index in range(len(video)):
            writer.write(video.frames[index])
    out = tmp_path / "out"
    status = visa(
        [
            "segment",
            "--model",
            str(tiny_visa_model_dir),
            "--video",
            str(path),
            "--query",
            "the blue square",
            "--answer",
            "There is no such object.",
            "--out",
            str(out),
            "--propagator",
            "identity",
        ]
    )
    assert status == 0
    query = json.loads((out / "result.json").read_text())["queries"][0]
    assert query["has_target"] is False and query["num_objects"] == 0
    assert "no [SEG]" in query["note"]
    assert not (out / "masks").exists()
    assert len(Video.open(out / "overlay.mp4")) == len(video)


def test_predict_is_resumable_and_scored_by_visa_eval(
    tiny_visa_model_dir: Path, synthetic_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pred = tmp_path / "pred"
    args = [
        "predict",
        "--model",
        str(tiny_visa_model_dir),
        "--dataset",
        "revos",
        "--root",
        str(synthetic_root),
        "--split",
        "valid",
        "--out",
        str(pred),
        "--answer",
        "Sure, [SEG].",
        "--propagator",
        "identity",
    ]
    assert visa(args) == 0
    meta = json.loads((synthetic_root / "meta_expressions_valid_.json").read_text())["videos"]
    expected = {(v, e) for v, item in meta.items() for e in item["expressions"]}
    written = {(p.parent.name, p.name) for p in pred.glob("*/*") if p.is_dir()}
    assert written == expected
    for video_id, expression_id in expected:
        assert len(list((pred / video_id / expression_id).glob("*.png"))) == len(meta[video_id]["frames"])
    log_lines = (pred / "predictions.jsonl").read_text().splitlines()
    assert len(log_lines) == len(expected)
    capsys.readouterr()
    assert visa(args) == 0  # second run: everything already done
    assert f"already done {len(expected)}" in capsys.readouterr().out
    result_file = tmp_path / "result.json"
    assert (
        visa(
            [
                "eval",
                "revos",
                str(pred),
                "--root",
                str(synthetic_root),
                "--split",
                "valid",
                "--out",
                str(result_file),
            ]
        )
        == 0
    )
    summary = json.loads(result_file.read_text())
    for subset in ("referring", "reason", "overall"):
        assert set(summary[subset]) == {"J", "F", "JF", "A", "R"}
        assert all(0.0 <= value <= 100.0 for value in summary[subset].values())
    types = [item["expressions"][e]["type_id"] for item in meta.values() for e in item["expressions"]]
    counts = summary["expression_counts"]
    assert (counts["referring"], counts["reason"], counts["no_target"]) == tuple(
        types.count(t) for t in (0, 1, 2)
    )
    assert summary["missing_or_invalid_predictions (scored 0 and counted, as officially)"] == []


def _predict_in_processes(model: Path, root: Path, out: Path, processes: int, port: int) -> str:
    """``accelerate launch [--multi_gpu] -m visa_core.cli.main predict`` in ``processes`` CPU processes."""
    import os
    import subprocess
    import sys

    launch = [sys.executable, "-m", "accelerate.commands.launch", "--num_machines", "1", "--mixed_precision",
              "no", "--dynamo_backend", "no", "--num_processes", str(processes)]  # fmt: skip
    if processes > 1:
        launch += ["--multi_gpu", "--main_process_port", str(port)]
    predict = ["predict", "--model", str(model), "--dataset", "revos", "--root", str(root),
               "--split", "valid", "--out", str(out), "--answer", "Sure, [SEG].", "--propagator",
               "identity"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run(
        [*launch, "-m", "visa_core.cli.main", *predict], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    return done.stdout


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_two_cpu_processes_split_the_videos_and_match_one_process(
    tiny_visa_model_dir: Path, tmp_path: Path
) -> None:
    from visa_data.synthetic import SyntheticConfig, generate_dataset

    synthetic_root = tmp_path / "synthetic"
    config = SyntheticConfig(videos=6, images=0, texts=2, frames=5, size=32, valid_fraction=0.5, seed=1)
    generate_dataset(synthetic_root, config, progress=False)
    one, two = tmp_path / "one", tmp_path / "two"
    _predict_in_processes(tiny_visa_model_dir, synthetic_root, one, 1, 0)
    printed = _predict_in_processes(tiny_visa_model_dir, synthetic_root, two, 2, 29531)
    meta = json.loads((synthetic_root / "meta_expressions_valid_.json").read_text())["videos"]
    videos = sorted(meta)
    assert len(videos) >= 3
    # the videos are dealt out: process 0 takes 0, 2, ..., process 1 takes 1, 3, ...
    for rank in (0, 1):
        assert f"[rank {rank}/2] videos {len(videos[rank::2])}," in printed
    assert "merged the 2 processes' logs" in printed
    assert not list(two.glob("predictions.rank*.jsonl"))
    one_files, two_files = _files(one), _files(two)
    assert one_files.keys() == two_files.keys()
    for name, content in one_files.items():
        if name != "visa-run.json":  # records the same settings; package versions equal too
            assert two_files[name] == content, name

    # a shard killed mid-way: one expression of process 1's video lost a frame and its log line
    video = videos[1]
    expression = sorted(meta[video]["expressions"])[0]
    lost = sorted((two / video / expression).glob("*.png"))[-1]
    lost.unlink()
    log = two / "predictions.jsonl"
    kept = [line for line in log.read_text().splitlines() if f'"expression": "{expression}"' not in line
            or f'"video": "{video}"' not in line]  # fmt: skip
    log.write_text("".join(f"{line}\n" for line in kept))
    printed = _predict_in_processes(tiny_visa_model_dir, synthetic_root, two, 2, 29532)
    assert "[rank 1/2] videos" in printed and "expressions written 1," in printed
    assert "expressions written 0," in printed  # process 0 had nothing left to do
    assert _files(two) == {**two_files, "visa-run.json": _files(two)["visa-run.json"]}
