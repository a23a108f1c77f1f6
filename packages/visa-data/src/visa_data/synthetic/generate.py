"""Writing the synthetic dataset to disk in the ReVOS layout (plus still images and QA).

``OUT/``
  ``JPEGImages/<video>/<frame>.jpg``, ``mask_dict.json``, ``mask_dict_foreground.json``,
  ``meta_expressions_{train,valid}_.json``: the videos, read by the ``revos`` loader;
  ``images/`` (same layout, one-frame videos): read by the ``synthetic_images`` loader;
  ``qa/qa_{train,valid}.json``: question-answer conversations about the videos and images, read by
  the ``synthetic_qa`` loader; ``text/text_{train,valid}.json``: language-only conversations
  (no frames) that pretrain the tiny LLM, read by the ``synthetic_text`` loader;
  ``synthetic.json``: the generator's config and counts.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from visa_core.annotations import encode_rle, write_json
from visa_core.errors import VisaError
from visa_data.convert.foreground import foreground_entry
from visa_data.synthetic.queries import SceneQuery, scene_queries
from visa_data.synthetic.render import render
from visa_data.synthetic.scene import Scene, sample_scene

MANIFEST = "synthetic.json"
FORMAT_VERSION = 5
"""2: expressions with a target carry ``answer`` (the target named in words); 3: conversations
list the objects; 4: language-only conversations in ``text/``; 5: their names without articles."""


@dataclass(frozen=True)
class SyntheticConfig:
    """What to generate. ``size``: frame side in pixels; ``frames``: frames per video;
    ``texts``: language-only conversations (:mod:`visa_data.synthetic.text`)."""

    videos: int = 200
    images: int = 200
    texts: int = 20000
    seed: int = 0
    frames: int = 12
    size: int = 64
    min_objects: int = 2
    max_objects: int = 4
    valid_fraction: float = 0.2

    def __post_init__(self) -> None:
        if self.videos < 1 or self.images < 0 or self.texts < 0 or self.frames < 5 or self.size < 32:
            raise ValueError(
                "need videos >= 1, images >= 0, texts >= 0, frames >= 5 (objects that leave, reverse or "
                "vanish need them) and size >= 32"
            )
        if not 2 <= self.min_objects <= self.max_objects <= 5:
            raise ValueError("need 2 <= min_objects <= max_objects <= 5")
        if not 0.0 <= self.valid_fraction < 1.0:
            raise ValueError("valid_fraction must lie in [0, 1)")

    def split_of(self, index: int, count: int) -> str:
        """The last ``valid_fraction`` of the items are ``valid``, the rest ``train``."""
        return "valid" if index >= count - round(count * self.valid_fraction) else "train"


@dataclass(frozen=True)
class SyntheticVideo:
    """One generated item: ``frames`` ``uint8[T, H, W, 3]``, ``masks`` ``bool[N, T, H, W]`` (visible)."""

    video_id: str
    scene: Scene
    frames: np.ndarray
    masks: np.ndarray
    queries: tuple[SceneQuery, ...]


def make_video(index: int, config: SyntheticConfig, still: bool = False) -> SyntheticVideo:
    """The ``index``-th video (or still image), the same for the same config whatever else is made."""
    rng = np.random.default_rng([config.seed, int(still), index])
    num_frames = 1 if still else config.frames
    for _ in range(50):  # keep scenes that have at least one reasoning query
        num_objects = int(rng.integers(config.min_objects, config.max_objects + 1))
        scene = sample_scene(rng, config.size, num_frames, num_objects, still)
        frames, masks = render(scene)
        queries = scene_queries(scene, masks, rng)
        if any(q.type_id == 1 for q in queries):
            break
    prefix = "img" if still else "vid"
    return SyntheticVideo(f"{prefix}{index:05d}", scene, frames, masks, tuple(queries))


def frame_names(num_frames: int) -> list[str]:
    return [f"{t:05d}" for t in range(num_frames)]


class _LayoutWriter:
    """Accumulates one ReVOS-layout folder and writes its json files at the end."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.meta: dict[str, dict[str, Any]] = {"train": {}, "valid": {}}
        self.mask_dict: dict[str, list[Any]] = {}
        self.foreground: dict[str, Any] = {}
        self.kinds: dict[str, int] = {"referring": 0, "reasoning": 0, "none": 0}

    def add(self, index: int, item: SyntheticVideo, split: str) -> None:
        from PIL import Image

        names = frame_names(len(item.frames))
        folder = self.root / "JPEGImages" / item.video_id
        folder.mkdir(parents=True, exist_ok=True)
        for name, frame in zip(names, item.frames, strict=True):
            Image.fromarray(frame).save(folder / f"{name}.jpg", quality=95, subsampling=0)
        anno_ids = [index * 10 + n + 1 for n in range(len(item.scene.objects))]
        for anno_id, object_masks in zip(anno_ids, item.masks, strict=True):
            self.mask_dict[str(anno_id)] = [encode_rle(m) if m.any() else None for m in object_masks]
        expressions = {}
        for exp_id, query in enumerate(item.queries):
            expressions[str(exp_id)] = {
                "exp": query.text,
                "obj_id": list(query.targets),
                "anno_id": [anno_ids[n] for n in query.targets],
                "type_id": query.type_id,
                **({"answer": query.target_words(item.scene)} if query.targets else {}),
            }
            self.kinds[("referring", "reasoning", "none")[query.type_id]] += 1
        height, width = item.frames.shape[1:3]
        self.meta[split][item.video_id] = {
            "vid_id": index,
            "height": int(height),
            "width": int(width),
            "frames": names,
            "expressions": expressions,
        }
        self.foreground[item.video_id] = foreground_entry(item.masks.any(axis=0))

    def finish(self) -> None:
        for split, videos in self.meta.items():
            write_json(self.root / f"meta_expressions_{split}_.json", {"videos": videos})
        write_json(self.root / "mask_dict.json", self.mask_dict)
        write_json(self.root / "mask_dict_foreground.json", self.foreground)


def generate_dataset(
    out: Path, config: SyntheticConfig | None = None, progress: bool = True
) -> dict[str, Any]:
    """Write the whole dataset under ``out``; return the manifest (config and counts).

    Raises:
        VisaError: ``out`` exists, is not empty and is not a synthetic dataset (never overwritten).
    """
    from tqdm.auto import tqdm

    from visa_data.synthetic.qa import conversation
    from visa_data.synthetic.text import repeat_conversation

    config = config or SyntheticConfig()
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not (out / MANIFEST).is_file():
        raise VisaError(f"{out} is not empty and holds no {MANIFEST}; choose an empty or new folder")
    if (out / MANIFEST).is_file():  # an earlier synthetic dataset: replace it entirely
        for name in ("JPEGImages", "images", "qa", "text"):
            shutil.rmtree(out / name, ignore_errors=True)
    (out / MANIFEST).unlink(missing_ok=True)  # an interrupted run leaves no manifest behind
    videos, images = _LayoutWriter(out), _LayoutWriter(out / "images")
    qa: dict[str, list[dict[str, Any]]] = {"train": [], "valid": []}
    jobs = [(i, False) for i in range(config.videos)] + [(i, True) for i in range(config.images)]
    for index, still in tqdm(jobs, desc="synthetic", unit="item", disable=not progress):
        item = make_video(index, config, still=still)
        split = config.split_of(index, config.images if still else config.videos)
        (images if still else videos).add(index, item, split)
        folder = f"images/JPEGImages/{item.video_id}" if still else f"JPEGImages/{item.video_id}"
        qa[split].append(conversation(item, folder, frame_names(len(item.frames)), index))
    videos.finish()
    images.finish()
    for split, items in qa.items():
        write_json(out / "qa" / f"qa_{split}.json", items)
    texts: dict[str, list[dict[str, Any]]] = {"train": [], "valid": []}
    for index in range(config.texts):
        texts[config.split_of(index, config.texts)].append(repeat_conversation(index, config.seed))
    for split, items in texts.items():
        write_json(out / "text" / f"text_{split}.json", items)
    manifest = {
        "generator": "visa_data.synthetic",
        "format": FORMAT_VERSION,
        "config": dataclasses.asdict(config),
        "videos": {split: len(v) for split, v in videos.meta.items()},
        "images": {split: len(v) for split, v in images.meta.items()},
        "expressions": videos.kinds,
        "image_expressions": images.kinds,
        "conversations": {split: len(v) for split, v in qa.items()},
        "texts": {split: len(v) for split, v in texts.items()},
    }
    write_json(out / MANIFEST, manifest)
    return manifest


def ensure_dataset(out: Path, config: SyntheticConfig | None = None, progress: bool = True) -> dict[str, Any]:
    """Generate the dataset unless ``out`` already holds one made with the same config."""
    config = config or SyntheticConfig()
    manifest_path = Path(out) / MANIFEST
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("format") == FORMAT_VERSION and manifest.get("config") == dataclasses.asdict(config):
            return manifest
    return generate_dataset(out, config, progress)
