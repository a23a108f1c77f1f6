"""Tiny video dataset trees in the published formats, written by the video / converter tests.

Frames are random JPEGs of ``HEIGHT x WIDTH``; masks are random blobs. Every writer returns the
expected union masks ``{(video_id, exp_id): bool[T, H, W]}`` so the tests can compare loaders with
what was written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from visa_core.annotations import encode_rle

HEIGHT, WIDTH = 10, 14


def write_frames(folder: Path, names: list[str], seed: int = 0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for name in names:
        pixels = rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{name}.jpg", quality=95)


def blob_masks(seed: int, num_frames: int, absent: tuple[int, ...] = ()) -> np.ndarray:
    """``bool[T, H, W]``: a random rectangle per frame, empty in the ``absent`` frames."""
    rng = np.random.default_rng(seed)
    masks = np.zeros((num_frames, HEIGHT, WIDTH), dtype=bool)
    for t in range(num_frames):
        if t in absent:
            continue
        top, left = int(rng.integers(0, HEIGHT - 3)), int(rng.integers(0, WIDTH - 3))
        masks[t, top : top + int(rng.integers(2, 4)), left : left + int(rng.integers(2, 5))] = True
    return masks


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")


def rles(masks: np.ndarray) -> list[Any]:
    return [encode_rle(m) if m.any() else None for m in masks]


FRAMES = {"v_a": ["00000", "00005", "00010"], "v_b": ["00000", "00001", "00002", "00003"]}


def revos_tree(root: Path) -> dict[tuple[str, str], np.ndarray]:
    """ReVOS: JPEGImages, mask_dict.json, mask_dict_foreground.json, meta_expressions_{train,valid}_.json.

    v_a (train): objects 11, 12; expressions 0 referring (11), 1 reasoning (11+12), 2 no target.
    v_b (valid): object 21 (absent in frame 2); expression 0 reasoning.
    """
    objects = {
        "11": blob_masks(1, 3),
        "12": blob_masks(2, 3, absent=(0,)),
        "21": blob_masks(3, 4, absent=(2,)),
    }
    for video, names in FRAMES.items():
        write_frames(root / "JPEGImages" / video, names, seed=len(video) + len(names))
    write_json(root / "mask_dict.json", {key: rles(m) for key, m in objects.items()})
    write_json(
        root / "mask_dict_foreground.json",
        {
            "v_a": {"masks_rle": rles(objects["11"] | objects["12"]), "foreground_ratio": [0.1, 0.1, 0.1]},
            "v_b": {"masks_rle": [encode_rle(m) for m in objects["21"]], "foreground_ratio": [0.1] * 4},
        },
    )
    train = {
        "v_a": {
            "vid_id": 0,
            "height": HEIGHT,
            "width": WIDTH,
            "frames": FRAMES["v_a"],
            "expressions": {
                "0": {"exp": "the red car", "obj_id": [0], "anno_id": [11], "type_id": 0},
                "1": {"exp": "what could carry people?", "obj_id": [0, 1], "anno_id": [11, 12], "type_id": 1},
                "2": {"exp": "the flying elephant", "obj_id": [], "anno_id": [], "type_id": 2},
            },
        }
    }
    valid = {
        "v_b": {
            "vid_id": 1,
            "height": HEIGHT,
            "width": WIDTH,
            "frames": FRAMES["v_b"],
            "expressions": {
                "0": {"exp": "the animal that hides", "obj_id": [0], "anno_id": [21], "type_id": 1}
            },
        }
    }
    write_json(root / "meta_expressions_train_.json", {"videos": train})
    write_json(root / "meta_expressions_valid_.json", {"videos": valid})
    empty = np.zeros((3, HEIGHT, WIDTH), dtype=bool)
    return {
        ("v_a", "0"): objects["11"],
        ("v_a", "1"): objects["11"] | objects["12"],
        ("v_a", "2"): empty,
        ("v_b", "0"): objects["21"],
        ("v_b", "fg"): objects["21"],
        ("v_a", "fg"): objects["11"] | objects["12"],
    }


def mevis_tree(root: Path, split: str, with_masks: bool = True) -> dict[tuple[str, str], np.ndarray]:
    """MeViS: ``<split>/JPEGImages``, ``meta_expressions.json`` (id lists), ``mask_dict.json``."""
    folder = root / split
    objects = {"0": blob_masks(4, 3), "1": blob_masks(5, 3, absent=(1,))}
    write_frames(folder / "JPEGImages" / "m1", FRAMES["v_a"])
    meta = {
        "videos": {
            "m1": {
                "expressions": {
                    "0": {"exp": "cow walking left", "obj_id": [0], "anno_id": [0]},
                    "1": {"exp": "two cows", "obj_id": [0, 1], "anno_id": [0, 1]},
                },
                "vid_id": 0,
                "frames": FRAMES["v_a"],
            }
        }
    }
    write_json(folder / "meta_expressions.json", meta)
    if with_masks:
        write_json(folder / "mask_dict.json", {key: rles(m) for key, m in objects.items()})
    return {("m1", "0"): objects["0"], ("m1", "1"): objects["0"] | objects["1"]}


def write_palette_png(path: Path, labels: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(labels.astype(np.uint8), mode="P")
    palette = [0, 0, 0, 236, 95, 103, 249, 145, 87, 250, 200, 99] + [0] * (256 * 3 - 12)
    image.putpalette(palette)
    image.save(path)


def png_tree(
    root: Path, split: str = "train", unannotated: tuple[int, ...] = ()
) -> dict[tuple[str, str], np.ndarray]:
    """Ref-YouTube-VOS / Ref-DAVIS17 (ReferFormer layout): palette PNGs, obj_id as a string.

    ``unannotated`` frames of video y1 get no PNG.
    """
    first, second = blob_masks(6, 4), blob_masks(7, 4, absent=(3,))
    labels = np.zeros((4, HEIGHT, WIDTH), dtype=np.uint8)
    labels[first] = 1
    labels[second] = 2  # object 2 in front of object 1
    names = FRAMES["v_b"]
    write_frames(root / split / "JPEGImages" / "y1", names)
    for t, name in enumerate(names):
        if t not in unannotated:
            write_palette_png(root / split / "Annotations" / "y1" / f"{name}.png", labels[t])
    meta = {
        "videos": {
            "y1": {
                "expressions": {
                    "0": {"exp": "a dog", "obj_id": "1"},
                    "1": {"exp": "a cat running", "obj_id": "2"},
                },
                "frames": names,
            }
        }
    }
    write_json(root / "meta_expressions" / split / "meta_expressions.json", meta)
    return {("y1", "0"): labels == 1, ("y1", "1"): labels == 2}


def lvvis_instances(path: Path) -> dict[tuple[str, str], np.ndarray]:
    """An LV-VIS (YouTube-VIS format) instances json: compressed RLE, uncompressed RLE, polygon, null."""
    from pycocotools import mask as mask_utils

    a, b, c = blob_masks(8, 3), blob_masks(9, 3, absent=(2,)), blob_masks(10, 3)
    uncompressed = []
    for m in b:
        if not m.any():
            uncompressed.append(None)
            continue
        flat = m.T.reshape(-1).astype(np.uint8)  # column-major run lengths starting with zeros
        changes = np.flatnonzero(np.diff(np.concatenate([[0], flat, [1 - flat[-1]]])))
        counts = np.diff(np.concatenate([[0], changes])).tolist()
        uncompressed.append({"size": [HEIGHT, WIDTH], "counts": counts})
    assert np.array_equal(mask_utils.decode(mask_utils.frPyObjects(uncompressed[0], HEIGHT, WIDTH)) > 0, b[0])
    square = np.zeros((HEIGHT, WIDTH), dtype=bool)
    square[2:6, 3:9] = True
    polygon = [[3.0, 2.0, 9.0, 2.0, 9.0, 6.0, 3.0, 6.0]]
    polygon_mask = mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects(polygon, HEIGHT, WIDTH))) > 0
    names = [f"l1/{n}.jpg" for n in FRAMES["v_a"]]
    data = {
        "videos": [{"id": 1, "file_names": names, "height": HEIGHT, "width": WIDTH, "length": 3}],
        "categories": [{"id": 5, "name": "tennis_racket"}, {"id": 7, "name": "dog"}],
        "annotations": [
            {
                "id": 101,
                "video_id": 1,
                "category_id": 5,
                "segmentations": [encode_rle(m) for m in a],
                "iscrowd": 0,
            },
            {"id": 102, "video_id": 1, "category_id": 5, "segmentations": uncompressed, "iscrowd": 0},
            {"id": 103, "video_id": 1, "category_id": 7, "segmentations": [polygon, None, encode_rle(c[2])]},
        ],
    }
    write_json(path, data)
    dog = np.zeros((3, HEIGHT, WIDTH), dtype=bool)
    dog[0], dog[2] = polygon_mask, c[2]
    return {("l1", "0"): a | b, ("l1", "1"): dog}
