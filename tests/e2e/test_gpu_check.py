"""benchmarks/gpu_check.py runs on the tiny model on CPU and writes the report the GPU run will;
the sizes it compares with are the real models'."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BENCHMARKS = REPO / "benchmarks"
STAGES = [
    "frame_encoding",
    "llm_prefill",
    "generation",
    "generation_per_token",
    "sam_encode",
    "sam_decode",
    "propagation_per_frame",
    "end_to_end",
]
FLOORED = {"frame_encoding", "llm_prefill", "generation_per_token", "sam_encode", "propagation_per_frame"}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("gpu-check") / "report.json"
    command = [
        sys.executable,
        str(BENCHMARKS / "gpu_check.py"),
        *("--preset", "tiny", "--device", "cpu", "--frames", "8", "--height", "48", "--width", "64"),
        *("--compare-gpu", "NVIDIA H200", "--out", str(out)),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "train step, checkpointing on" in result.stdout
    return json.loads(out.read_text())


def test_inference_stages_are_timed_against_their_floors(report: dict) -> None:
    (run,) = report["inference"]
    assert run["precision"] == "float32" and run["attention"] == "sdpa"
    assert run["answer"].endswith("[SEG]") and run["generated_tokens"] == report["answer_tokens"] == 16
    assert run["references"] >= 1 and run["prompt_tokens"] > 0
    assert list(run["stages"]) == STAGES
    for stage, row in run["stages"].items():
        assert isinstance(row["seconds"], float) and row["seconds"] > 0, stage
        if stage in FLOORED:
            assert row["floor_seconds"] > 0 and row["ratio"] == pytest.approx(
                row["seconds"] / row["floor_seconds"]
            )
        else:
            assert row["floor_seconds"] is None and row["ratio"] is None
    assert run["peak_memory_gib"] is None  # no GPU


def test_training_steps_with_and_without_checkpointing(report: dict) -> None:
    runs = report["training"]
    assert [run["gradient_checkpointing"] for run in runs] == [False, True]
    for run in runs:
        assert run["rows"] == 3 and run["frames"] == 13  # the recipe: 3 queries, 12 references + target
        assert run["step_seconds"] > 0 and run["floor_seconds"] > 0 and run["trainable_parameters"] > 0
        assert run["loss"] > 0
    assert runs[0]["loss"] == pytest.approx(runs[1]["loss"])  # checkpointing changes memory, not maths


def test_environment_and_floors_source(report: dict) -> None:
    env = report["environment"]
    assert {"torch", "transformers", "peft", "accelerate"} <= set(env["versions"])
    assert all(env["versions"][name] for name in ("torch", "transformers", "peft", "accelerate"))
    assert report["gpu_peak"]["model"] == "H200 SXM" and "datasheet" in report["gpu_peak"]["source"]
    assert report["clip"] == {"frames": 8, "height": 48, "width": 64}


def _benchmark_modules():
    """``gpu_peaks`` and ``gpu_sizes`` from benchmarks/ (scripts, not a package)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import gpu_peaks
        import gpu_sizes
    finally:
        sys.path.remove(str(BENCHMARKS))
    return gpu_peaks, gpu_sizes


def test_real_model_sizes_and_peaks() -> None:
    from visa_core.model import preset_config

    gpu_peaks, gpu_sizes = _benchmark_modules()
    gpu_peak, model_sizes = gpu_peaks.gpu_peak, gpu_sizes.model_sizes
    sizes = model_sizes(preset_config("visa-7b"))
    assert sizes.parts["language_model"] == 6_738_423_808  # Llama-2-7B with the [SEG] row
    assert sizes.parts["sam"] == 641_090_608 and sizes.parts["vision_tower"] == 303_179_776
    bf16 = sizes.weights_bytes("bfloat16")
    assert sizes.weights_bytes("float32") == 2 * bf16
    assert sizes.weights_bytes("4bit") < sizes.weights_bytes("8bit") < bf16
    assert gpu_peak("NVIDIA A100-SXM4-80GB").bandwidth == 2.039e12
    assert gpu_peak("NVIDIA H100 PCIe").model == "H100 PCIe"
    assert gpu_peak("NVIDIA GeForce RTX 4090") is None


def test_docs_memory_table_is_the_computed_one() -> None:
    _, gpu_sizes = _benchmark_modules()
    text = (REPO / "docs" / "gpu.md").read_text()
    table = text.split("<!-- memory-table -->\n")[1].split("\n<!-- /memory-table -->")[0]
    assert table == gpu_sizes.memory_table(["visa-7b", "visa-13b"])
