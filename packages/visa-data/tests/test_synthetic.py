"""The synthetic dataset: deterministic, queries that the frames decide, read back by the loaders."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

import visa_core
from visa_core import DataFormatError, VisaError
from visa_core.testing import DatasetLoaderContract
from visa_data.synthetic import SyntheticConfig, ensure_dataset, generate_dataset, make_video
from visa_data.synthetic.scene import COLOURS, SHAPES

SMALL = SyntheticConfig(videos=6, images=4, texts=10, seed=3, frames=8)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synthetic")
    generate_dataset(out, SMALL, progress=False)
    return out


def centroid(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    return np.array([xs.mean(), ys.mean()])


def visible(masks: np.ndarray) -> np.ndarray:
    return masks.sum(axis=(-2, -1)) >= 4


def speed(obj, seen: np.ndarray) -> float:
    frames = np.flatnonzero(seen)
    steps = np.linalg.norm(np.diff(obj.centres[frames], axis=0), axis=1) / np.diff(frames)
    return float(steps.mean())


def check_query(item, text: str, type_id: int, targets: tuple[int, ...]) -> None:
    """The property the query states holds for its target, judged from the masks and frames alone."""
    masks, scene = item.masks, item.scene
    if not targets:
        return
    (target,) = targets
    seen = visible(masks)  # [N, T]
    if text.startswith("the object that disappears"):
        assert seen[target, 0] and not seen[target, -3:].any()
    elif text == "the object that enters the scene":
        assert not seen[target, 0] and seen[target, -1]
    elif text == "the object that ends nearest the top":
        at_end = [n for n in range(len(masks)) if seen[n, -1]]
        tops = {n: centroid(masks[n, -1])[1] for n in at_end}
        assert min(tops, key=tops.get) == target
    elif text == "the object that moves fastest":
        moving = [n for n in range(len(masks)) if seen[n].sum() >= len(seen[n]) // 2]
        assert max(moving, key=lambda n: speed(scene.objects[n], seen[n])) == target
    elif text.startswith("the object with the same colour as the "):
        shape = text.rsplit(" ", 1)[1]
        (holder,) = [n for n, o in enumerate(scene.objects) if o.shape == shape]
        assert scene.objects[target].colour == scene.objects[holder].colour and target != holder
    elif text == "the object that does not move":
        assert np.allclose(scene.objects[target].centres, scene.objects[target].centres[0])
    elif type_id == 0:  # "the red circle"
        colour, shape = text.split()[1:]
        obj = scene.objects[target]
        assert (obj.colour, obj.shape) == (colour, shape)
        t = int(np.argmax(seen[target]))
        assert np.array_equal(item.frames[t][masks[target, t]][0], COLOURS[colour])


def test_queries_are_decided_by_the_frames() -> None:
    config = SyntheticConfig(videos=30)
    kinds = set()
    for index in range(30):
        item = make_video(index, config)
        assert item.frames.shape == (12, 64, 64, 3) and item.masks.shape[1:] == (12, 64, 64)
        assert any(q.type_id == 1 for q in item.queries)
        texts = [q.text for q in item.queries]
        assert len(texts) == len(set(texts)), "a query text appears twice in one video"
        for query in item.queries:
            kinds.add(query.type_id)
            assert (query.type_id == 2) == (not query.targets)
            check_query(item, query.text, query.type_id, query.targets)
    assert kinds == {0, 1, 2}


def test_deterministic_and_independent_of_the_count() -> None:
    first = make_video(4, SyntheticConfig(videos=10))
    again = make_video(4, SyntheticConfig(videos=50))
    assert np.array_equal(first.frames, again.frames) and first.queries == again.queries
    other_seed = make_video(4, SyntheticConfig(videos=10, seed=1))
    assert not np.array_equal(first.frames, other_seed.frames)


def digest(folder: Path) -> str:
    hasher = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            hasher.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return hasher.hexdigest()


def test_written_twice_is_byte_identical(tmp_path: Path, written: Path) -> None:
    generate_dataset(tmp_path / "again", SMALL, progress=False)
    assert digest(tmp_path / "again") == digest(written)


def test_revos_loader_reads_back_the_masks(written: Path) -> None:
    train = visa_core.build("dataset", "revos", root=written, split="train")
    valid = visa_core.build("dataset", "revos", root=written, split="valid")
    assert {s.video.video_id for s in train}.isdisjoint({s.video.video_id for s in valid})
    assert len({s.video.video_id for s in valid}) == 1  # 20 % of 6 videos
    items = {}
    for sample in [*train, *valid]:
        video_id = sample.video.video_id
        item = items.setdefault(video_id, make_video(int(video_id[3:]), SMALL))
        query = item.queries[int(sample.query.query_id)]
        assert sample.query.text == query.text
        assert sample.query.kind == ("referring", "reasoning", "none")[query.type_id]
        named = [f"the {item.scene.objects[n].name}" for n in query.targets]
        assert sample.query.answer == (named[0] if named else None)
        want = item.masks[list(query.targets)].any(axis=0) if query.targets else np.zeros_like(item.masks[0])
        assert np.array_equal(sample.masks[0], want)
        assert np.array_equal(sample.meta["foreground"], item.masks.any(axis=0))
    frame = train[0].video.frames[0]
    assert np.abs(frame.astype(int) - items[train[0].video.video_id].frames[0]).mean() < 3  # JPEG, 4:4:4


def test_images_and_conversations(written: Path) -> None:
    images = visa_core.build("dataset", "synthetic_images", root=written, split="train")
    assert len(images) > 0 and all(len(s.video) == 1 for s in images)
    assert {s.query.kind for s in images} == {"referring", "reasoning", "none"}
    qa = visa_core.build("dataset", "synthetic_qa", root=written, split="train")
    assert len(qa) == 5 + 3  # train videos + train images
    first = qa[0]
    assert first.masks is None and first.conversation[0].text.startswith("<video>\nHow many objects")
    assert [t.role for t in first.conversation][:2] == ["human", "gpt"]
    image_turns = next(s for s in qa if len(s.video) == 1).conversation
    assert image_turns[0].text.startswith("<image>\n")
    texts = visa_core.build("dataset", "synthetic_text", root=written, split="train")
    assert len(texts) == 8 and all(s.video is None and s.masks is None for s in texts)
    question, answer = (turn.text for turn in texts[0].conversation)
    first, again = answer.removesuffix(".").split(". Again: ")
    assert question == "List some shapes, then list them again." and first == again
    names = [name.split() for name in first.split(", ")]
    assert 3 <= len(names) <= 8 and all(words[-2] in COLOURS and words[-1] in SHAPES for words in names)


def test_ensure_dataset_rewrites_a_dataset_of_an_older_generator_format(tmp_path: Path) -> None:
    generate_dataset(tmp_path, SMALL, progress=False)
    manifest_path, texts = tmp_path / "synthetic.json", tmp_path / "text" / "text_train.json"
    manifest = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps({**manifest, "format": manifest["format"] - 1}))
    texts.write_text("[]")  # what an older generator wrote differs; it must not be kept
    assert ensure_dataset(tmp_path, SMALL, progress=False)["format"] == manifest["format"]
    assert len(json.loads(texts.read_text())) == manifest["texts"]["train"]


def test_ensure_dataset_reuses_and_never_overwrites_other_folders(tmp_path: Path, written: Path) -> None:
    manifest = written / "synthetic.json"
    before = manifest.stat().st_mtime_ns
    ensure_dataset(written, SMALL, progress=False)
    assert manifest.stat().st_mtime_ns == before
    (tmp_path / "mine.txt").write_text("user data")
    with pytest.raises(VisaError, match="not empty"):
        generate_dataset(tmp_path, SMALL, progress=False)


class TestSyntheticImagesContract(DatasetLoaderContract):
    component_name = "synthetic_images"

    @pytest.fixture
    def dataset(self, written: Path):
        return visa_core.build("dataset", "synthetic_images", root=written, split="valid")


class TestSyntheticQAContract(DatasetLoaderContract):
    component_name = "synthetic_qa"

    @pytest.fixture
    def dataset(self, written: Path):
        return visa_core.build("dataset", "synthetic_qa", root=written, split="valid")


class TestSyntheticTextContract(DatasetLoaderContract):
    component_name = "synthetic_text"

    @pytest.fixture
    def dataset(self, written: Path):
        return visa_core.build("dataset", "synthetic_text", root=written, split="valid")


def test_malformed_conversation_files_name_the_file_and_entry(tmp_path: Path) -> None:
    (tmp_path / "text").mkdir()
    bad = tmp_path / "text" / "text_train.json"
    bad.write_text('[{"id": "a", "conversations": [{"from": "human", "value": "Hi"}]}, {"id": "b"}]')
    with pytest.raises(DataFormatError, match=r"text_train\.json.*conversation 1.*conversations"):
        visa_core.build("dataset", "synthetic_text", root=tmp_path, split="train")
    bad.write_text('[{"id": "a", "conversations": [{"from": "robot", "value": "Hi"}]}]')
    with pytest.raises(DataFormatError, match="conversation 0 turn 0 has role 'robot'"):
        visa_core.build("dataset", "synthetic_text", root=tmp_path, split="train")
    (tmp_path / "qa").mkdir()
    (tmp_path / "qa" / "qa_valid.json").write_text(
        '[{"id": "a", "conversations": [{"from": "human", "value": "Hi"}]}]'
    )
    with pytest.raises(DataFormatError, match=r"qa_valid\.json.*conversation 0.*video"):
        visa_core.build("dataset", "synthetic_qa", root=tmp_path, split="valid")


def test_conversations_name_every_visible_object_with_its_size() -> None:
    from visa_data.synthetic.qa import conversation

    for index in range(20):
        item = make_video(index, SyntheticConfig(videos=20))
        turns = conversation(item, "JPEGImages/x", [], index)["conversations"]
        assert turns[2]["value"] == "Which objects are in the video?"
        listed = turns[3]["value"].rstrip(".").lower().replace(" and ", ", ").split(", ")
        visible_objects = [o for o, m in zip(item.scene.objects, item.masks, strict=True) if m.any()]
        assert sorted(listed) == sorted(f"a {o.size} {o.name}" for o in visible_objects)
