"""LLaVA-Instruct-150k and Chat-UniVi-Instruct loaders, and their cached Arrow index."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import visa_core
from visa_core import ComponentOptionError, DataFormatError, Turn, VideoDecodeError
from visa_core.testing import DatasetLoaderContract, modules_imported_by

sys.path.insert(0, str(Path(__file__).parent))
import image_trees


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def _llava(base: Path, cache: Path, **options):
    image_trees.llava_tree(base)
    return visa_core.build(
        "dataset", "llava_instruct", root=base / "llava_dataset", cache_dir=cache, **options
    )


class TestLlavaInstruct(DatasetLoaderContract):
    component_name = "llava_instruct"

    @pytest.fixture
    def dataset(self, tmp_path: Path, cache: Path):
        return _llava(tmp_path / "data", cache)

    def test_every_turn_is_kept_with_placeholders(self, tmp_path: Path, cache: Path) -> None:
        dataset = _llava(tmp_path, cache)
        sample = dataset[0]
        assert sample.query is None and sample.masks is None
        assert len(sample.conversation) == 4
        assert sample.conversation[0] == Turn(
            "human", "<image>\nWhat are the colors of the bus in the image?"
        )
        assert sample.conversation[3].role == "gpt"
        assert dataset[1].conversation[0].text == "Where is the cat positioned?\n<image>"
        assert len(sample.video) == 1 and sample.video.frames[0].shape == (12, 16, 3)

    def test_missing_image_names_the_conversation(self, tmp_path: Path, cache: Path) -> None:
        dataset = _llava(tmp_path, cache)
        (tmp_path / "coco" / "train2017" / "000000052846.jpg").unlink()
        with pytest.raises(VideoDecodeError, match=r"000000052846.jpg listed for conversation 000000052846"):
            dataset[1]

    def test_malformed_entries(self, tmp_path: Path, cache: Path) -> None:
        path = image_trees.llava_tree(tmp_path)
        data = json.loads(path.read_text())
        data[1]["conversations"][1]["from"] = "assistant"
        path.write_text(json.dumps(data))
        root = tmp_path / "llava_dataset"
        with pytest.raises(DataFormatError, match="entry 1 .* turn 1 has role 'assistant'"):
            visa_core.build("dataset", "llava_instruct", root=root, cache_dir=cache)
        path.write_text("[{")
        with pytest.raises(DataFormatError, match="llava_instruct_150k.json is not valid JSON"):
            visa_core.build("dataset", "llava_instruct", root=root, cache_dir=cache)
        path.unlink()
        with pytest.raises(DataFormatError, match="llava_instruct_150k.json does not exist"):
            visa_core.build("dataset", "llava_instruct", root=root, cache_dir=cache)

    def test_cache_inside_the_dataset_is_refused(self, tmp_path: Path) -> None:
        image_trees.llava_tree(tmp_path)
        root = tmp_path / "llava_dataset"
        with pytest.raises(ComponentOptionError, match="lies inside the dataset folder"):
            visa_core.build("dataset", "llava_instruct", root=root, cache_dir=root / "cache")


def test_index_is_cached_and_rebuilt_when_the_source_changes(tmp_path: Path, cache: Path) -> None:
    first = _llava(tmp_path, cache)
    entries = sorted(p.name for p in cache.iterdir())
    assert len(entries) == 1 and list((cache / entries[0]).glob("*.arrow"))
    again = visa_core.build("dataset", "llava_instruct", root=tmp_path / "llava_dataset", cache_dir=cache)
    assert sorted(p.name for p in cache.iterdir()) == entries and len(again) == len(first) == 2

    path = tmp_path / "llava_dataset" / "llava_instruct_150k.json"
    data = json.loads(path.read_text())
    data[1]["conversations"][1]["value"] = "Curled up on the armchair."
    path.write_text(json.dumps(data))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    changed = visa_core.build("dataset", "llava_instruct", root=tmp_path / "llava_dataset", cache_dir=cache)
    assert changed[1].conversation[1].text == "Curled up on the armchair."
    assert len(list(cache.iterdir())) == 1 and sorted(p.name for p in cache.iterdir()) != entries


def test_index_is_memory_mapped_and_reopened_in_workers(tmp_path: Path, cache: Path) -> None:
    dataset = _llava(tmp_path, cache)
    table = dataset._indexes[0].rows
    assert all(f["filename"].startswith(str(cache)) for f in table.cache_files)
    clone = pickle.loads(pickle.dumps(dataset))
    assert clone._indexes is None and clone[0].conversation == dataset[0].conversation


def test_dataset_folder_is_left_untouched(tmp_path: Path, cache: Path) -> None:
    image_trees.llava_tree(tmp_path)
    before = sorted((p, p.stat().st_mtime_ns) for p in tmp_path.rglob("*"))
    list(visa_core.build("dataset", "llava_instruct", root=tmp_path / "llava_dataset", cache_dir=cache))
    assert (
        sorted(
            (p, p.stat().st_mtime_ns) for p in tmp_path.rglob("*") if cache not in p.parents and p != cache
        )
        == before
    )


def test_default_cache_dir_follows_visa_cache_dir(tmp_path: Path) -> None:
    image_trees.llava_tree(tmp_path)
    code = (
        "import visa_core; d = visa_core.build('dataset', 'llava_instruct', root=r'%s'); print(d.cache_dir)"
        % (tmp_path / "llava_dataset")
    )
    env = {**os.environ, "VISA_CACHE_DIR": str(tmp_path / "visa-cache"), "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(tmp_path / "visa-cache" / "datasets")


def _chat_univi(base: Path) -> Path:
    """Write the tree under ``base/Chat-UniVi-Instruct`` (the cache fixture lives beside it)."""
    image_trees.chat_univi_tree(base / "Chat-UniVi-Instruct")
    return base / "Chat-UniVi-Instruct"


class TestChatUniVi(DatasetLoaderContract):
    component_name = "chat_univi"

    @pytest.fixture
    def dataset(self, tmp_path: Path, cache: Path):
        image_trees.chat_univi_tree(tmp_path / "Chat-UniVi-Instruct")
        return visa_core.build(
            "dataset", "chat_univi", root=tmp_path / "Chat-UniVi-Instruct", cache_dir=cache
        )

    def test_image_multi_image_and_video_conversations(self, tmp_path: Path, cache: Path) -> None:
        tmp_path = _chat_univi(tmp_path)
        dataset = visa_core.build("dataset", "chat_univi", root=tmp_path, cache_dir=cache)
        assert dataset.skipped.counts == {"media folder not configured in the original": 1}
        assert len(dataset) == 4  # 2 MIMIC + 1 ScienceQA (text-only left out) + 1 video
        pair, single, sqa, video = (dataset[i] for i in range(4))
        assert len(pair.video) == 2 and pair.conversation[0].text.startswith("<image><image>")
        assert len(single.conversation) == 4 and single.meta["files"][0].endswith(
            "LA/images/LA_IMG_000010.jpg"
        )
        assert sqa.meta["files"][0].endswith("ScienceQA_tuning/train/12/image.png")
        assert sqa.video.frames[0].shape == (12, 16, 3)
        assert video.meta["kind"] == "video" and len(video.video) == 4
        assert video.video.frames[3].shape == (32, 32, 3)
        assert video.conversation == (Turn("human", "<video>\nWhat happens?"), Turn("gpt", "Fading."))
        assert np.mean(video.video.frames[3]) > np.mean(video.video.frames[0])

    def test_sources_option(self, tmp_path: Path, cache: Path) -> None:
        tmp_path = _chat_univi(tmp_path)
        only = visa_core.build("dataset", "chat_univi", root=tmp_path, cache_dir=cache, sources="video||sqa")
        assert [only[i].meta["source"] for i in range(len(only))] == ["video", "sqa"]
        with pytest.raises(ComponentOptionError, match=r"unknown sources \['vqa'\]"):
            visa_core.build("dataset", "chat_univi", root=tmp_path, cache_dir=cache, sources=("vqa",))

    def test_strict_makes_unconfigured_folders_an_error_even_from_the_cache(
        self, tmp_path: Path, cache: Path
    ) -> None:
        tmp_path = _chat_univi(tmp_path)
        visa_core.build("dataset", "chat_univi", root=tmp_path, cache_dir=cache)
        with pytest.raises(DataFormatError, match=r"MIMIC-IT-imageonly.json: entry 2 \(id DC_INS_000001\)"):
            visa_core.build("dataset", "chat_univi", root=tmp_path, cache_dir=cache, strict=True)

    def test_missing_video(self, tmp_path: Path, cache: Path) -> None:
        tmp_path = _chat_univi(tmp_path)
        (tmp_path / "Fine-tuning" / "VIDEO" / "Activity_Videos" / "v_abc.mp4").unlink()
        dataset = visa_core.build("dataset", "chat_univi", root=tmp_path, cache_dir=cache, sources="video")
        with pytest.raises(VideoDecodeError, match=r"v_abc.mp4 listed for conversation v_abc"):
            dataset[0]


def test_importing_the_plugin_stays_cheap() -> None:
    statement = "import visa_data.plugin, visa_data.image, visa_data.conversation"
    heavy = ("torch", "transformers", "datasets", "pyarrow", "decord")
    assert modules_imported_by(statement, heavy) == []
