"""Tiny dataset trees in the published on-disk formats, written by the image/conversation tests.

Every writer returns what the tests need to check the loaders against (roots, expected masks).
Sizes are a few pixels so that the whole suite stays fast.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from visa_core.annotations import encode_rle

HEIGHT, WIDTH = 12, 16


def write_image(path: Path, height: int = HEIGHT, width: int = WIDTH, seed: int = 0) -> Path:
    """An RGB image (JPEG by suffix) of random pixels."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, quality=95)
    return path


def write_label(path: Path, label: np.ndarray, palette: bool = False) -> Path:
    """A label map PNG, grayscale (``L``) or palette (``P``, as Mapillary's)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(label.astype(np.uint8))
    if palette:
        image.putpalette([v for i in range(256) for v in (i, 255 - i, i // 2)])  # L -> P
    image.save(path)
    return path


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def blocks_label(values: tuple[int, int, int, int]) -> np.ndarray:
    """``uint8[12, 16]`` of four 6x8 quadrants with the given label values (TL, TR, BL, BR)."""
    label = np.empty((HEIGHT, WIDTH), dtype=np.uint8)
    label[:6, :8], label[:6, 8:], label[6:, :8], label[6:, 8:] = values
    return label


def ade20k_tree(root: Path) -> dict[str, np.ndarray]:
    """``images/training/*.jpg`` + ``annotations/training/*.png`` (0 = unlabelled, v = class v-1)."""
    labels = {
        "ADE_train_00000001": blocks_label((0, 1, 13, 13)),  # wall, person
        "ADE_train_00000002": blocks_label((3, 3, 3, 0)),  # sky
    }
    for i, (stem, label) in enumerate(labels.items()):
        write_image(root / "images" / "training" / f"{stem}.jpg", seed=i)
        write_label(root / "annotations" / "training" / f"{stem}.png", label)
    write_image(root / "images" / "validation" / "ADE_val_00000001.jpg")
    write_label(root / "annotations" / "validation" / "ADE_val_00000001.png", blocks_label((5, 5, 0, 0)))
    return labels


def cocostuff_tree(base: Path) -> dict[str, np.ndarray]:
    """LISA layout: ``cocostuff/train2017/*.png`` beside ``coco/train2017/*.jpg``."""
    labels = {
        "000000000009": blocks_label((0, 0, 95, 255)),  # person, building-other (ignored), unlabelled
        "000000000025": blocks_label((95, 172, 255, 255)),  # only ignored classes
    }
    for i, (stem, label) in enumerate(labels.items()):
        write_label(base / "cocostuff" / "train2017" / f"{stem}.png", label)
        write_image(base / "coco" / "train2017" / f"{stem}.jpg", seed=i)
    return labels


MAPILLARY_LABELS = [
    {"name": "animal--bird", "readable": "Bird", "color": [165, 42, 42], "instances": True, "evaluate": True},
    {"name": "construction--barrier--curb", "readable": "Curb", "color": [196, 196, 196],
     "instances": False, "evaluate": True},
    {"name": "nature--sky", "readable": "Sky", "color": [70, 130, 180], "instances": False, "evaluate": True},
]  # fmt: skip


def mapillary_tree(root: Path) -> dict[str, np.ndarray]:
    """``config_v2.0.json`` + ``training/v2.0/labels/*.png`` (palette) + ``training/images/*.jpg``."""
    write_json(root / "config_v2.0.json", {"labels": MAPILLARY_LABELS, "version": "2.0", "mapping": "public"})
    labels = {"-0aQ7ZbCJjmHWJBv8B_qVg": blocks_label((2, 2, 1, 0))}
    for stem, label in labels.items():
        write_label(root / "training" / "v2.0" / "labels" / f"{stem}.png", label, palette=True)
        write_image(root / "training" / "images" / f"{stem}.jpg")
    return labels


def square_polygon(x0: int, y0: int, x1: int, y1: int) -> list[float]:
    """A COCO polygon (flat x, y list) of the rectangle with corners (x0, y0), (x1, y1)."""
    return [float(v) for v in (x0, y0, x1, y0, x1, y1, x0, y1)]


def coco_image_entry(image_id: int, file_name: str) -> dict[str, Any]:
    return {"id": image_id, "file_name": file_name, "height": HEIGHT, "width": WIDTH}


def coco_annotation(ann_id: int, image_id: int, category_id: int, segmentation: Any) -> dict[str, Any]:
    return {
        "id": ann_id,
        "image_id": image_id,
        "category_id": category_id,
        "segmentation": segmentation,
        "area": 1.0,
        "bbox": [0.0, 0.0, 1.0, 1.0],
        "iscrowd": 0,
    }


def paco_tree(base: Path) -> Path:
    """LISA layout: ``vlpart/paco/annotations/paco_lvis_v1_train.json`` + ``coco/train2017``."""
    write_image(base / "coco" / "train2017" / "000000000139.jpg")
    right_half = np.zeros((HEIGHT, WIDTH), dtype=bool)
    right_half[:, 8:] = True
    data = {
        "images": [coco_image_entry(139, "train2017/000000000139.jpg")],
        "categories": [
            {"id": 1, "name": "trash_can", "supercategory": "OBJECT"},
            {"id": 2, "name": "trash_can:body", "supercategory": "PART"},
            {"id": 3, "name": "bottle_(container):cap", "supercategory": "PART"},
        ],
        "annotations": [
            coco_annotation(10, 139, 1, [square_polygon(2, 2, 6, 6)]),
            coco_annotation(11, 139, 2, encode_rle(right_half)),
            coco_annotation(12, 139, 3, []),  # no segmentation: LISA skipped it
        ],
    }
    return write_json(base / "vlpart" / "paco" / "annotations" / "paco_lvis_v1_train.json", data)


def pascal_part_tree(root: Path) -> Path:
    """``vlpart/pascal_part/train.json`` + ``VOCdevkit/VOC2010/JPEGImages``."""
    write_image(root / "VOCdevkit" / "VOC2010" / "JPEGImages" / "2008_000002.jpg")
    data = {
        "images": [coco_image_entry(1, "2008_000002.jpg")],
        "categories": [{"id": 7, "name": "aeroplane:wing"}, {"id": 8, "name": "dog:head"}],
        "annotations": [
            coco_annotation(1, 1, 7, [square_polygon(1, 1, 4, 3), square_polygon(10, 8, 13, 10)]),
            coco_annotation(2, 1, 8, [square_polygon(5, 5, 9, 9)]),
        ],
    }
    return write_json(root / "train.json", data)


def polygon_area_mask(x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    """What pycocotools fills for :func:`square_polygon` (x0..x1-1, y0..y1-1 by pixel centres)."""
    from pycocotools import mask as mask_utils

    rle = mask_utils.frPyObjects([square_polygon(x0, y0, x1, y1)], HEIGHT, WIDTH)
    return mask_utils.decode(mask_utils.merge(rle)).astype(bool)


def refer_tree(root: Path, dataset: str = "refcoco", split_by: str = "unc") -> dict[str, Any]:
    """``refer_seg/<dataset>/refs(<split_by>).p`` (a pickled list of refs) + ``instances.json``."""
    is_clef = dataset == "refclef"
    image_dir = root / ("images/saiapr_tc-12" if is_clef else "images/mscoco/images/train2014")
    names = ["25.jpg", "26.jpg"] if is_clef else [f"COCO_train2014_{i:012d}.jpg" for i in (9, 25)]
    for i, name in enumerate(names):
        write_image(image_dir / name, seed=i)
    left = np.zeros((HEIGHT, WIDTH), dtype=bool)
    left[:, :5] = True
    annotations = [
        coco_annotation(100, 1, 1, [square_polygon(2, 2, 8, 10)]),
        # RefCLEF stores some masks as a list of RLEs (uncompressed counts here).
        coco_annotation(101, 2, 2, [_uncompressed_rle(left)] if is_clef else encode_rle(left)),
    ]
    write_json(
        root / dataset / "instances.json",
        {
            "images": [coco_image_entry(1, names[0]), coco_image_entry(2, names[1])],
            "annotations": annotations,
            "categories": [{"id": 1, "name": "person"}, {"id": 2, "name": "dog"}],
        },
    )
    refs = [
        _ref(0, 100, 1, names[0], "train", ["man on the left", "guy in red"]),
        _ref(1, 101, 2, names[1], "train", ["left dog"]),
        _ref(2, 100, 1, names[0], "testA", ["the person"]),
    ]
    (root / dataset).mkdir(parents=True, exist_ok=True)
    with (root / dataset / f"refs({split_by}).p").open("wb") as handle:
        pickle.dump(refs, handle, protocol=2)
    return {"masks": {100: polygon_area_mask(2, 2, 8, 10), 101: left}, "refs": refs}


def _uncompressed_rle(mask: np.ndarray) -> dict[str, Any]:
    flat = mask.flatten(order="F").astype(np.uint8)
    counts, current, run = [], 0, 0
    for value in flat:
        if value != current:
            counts.append(run)
            current, run = value, 0
        run += 1
    counts.append(run)
    return {"size": [HEIGHT, WIDTH], "counts": counts}


def _ref(ref_id: int, ann_id: int, image_id: int, file_name: str, split: str, texts: list[str]) -> dict:
    sentences = [
        {"tokens": text.split(), "raw": text, "sent_id": ref_id * 10 + i, "sent": text}
        for i, text in enumerate(texts)
    ]
    return {
        "sent_ids": [s["sent_id"] for s in sentences],
        "file_name": file_name.replace(".jpg", f"_{ann_id}.jpg"),
        "ann_id": ann_id,
        "ref_id": ref_id,
        "image_id": image_id,
        "split": split,
        "sentences": sentences,
        "category_id": 1,
    }


def labelme_shape(label: str, points: list[list[float]]) -> dict[str, Any]:
    return {
        "label": label,
        "labels": [label],
        "shape_type": "polygon",
        "image_name": "",
        "points": points,
        "group_id": None,
        "group_ids": [None],
        "flags": {},
    }


def reasonseg_tree(root: Path) -> dict[str, Any]:
    """``ReasonSeg/{train,val}/*.jpg`` + labelme ``.json`` and ``explanatory/train.json``."""
    stems = ["1000_car_fix", "2001_where_sit"]
    write_image(root / "train" / f"{stems[0]}.jpg")
    write_json(
        root / "train" / f"{stems[0]}.json",
        {
            "text": ["What can be used to fix a car?", "the tool for repairs"],
            "is_sentence": True,
            "shapes": [
                labelme_shape("target", [[1, 1], [14, 1], [14, 10], [1, 10]]),
                labelme_shape("ignore", [[5, 4], [8, 4], [8, 7], [5, 7]]),  # inside the target
                labelme_shape("flag", [[0, 0], [3, 0], [3, 3]]),
            ],
        },
    )
    write_image(root / "val" / f"{stems[1]}.jpg")
    write_json(
        root / "val" / f"{stems[1]}.json",
        {
            "text": ["somewhere to sit"],
            "is_sentence": False,
            "shapes": [labelme_shape("target", [[0, 0], [4, 0], [4, 4], [0, 4]])],
        },
    )
    write_json(
        root / "explanatory" / "train.json",
        [{"image": f"{stems[0]}.jpg", "query": "What can be used to fix a car?", "outputs": "A wrench."}],
    )
    target = np.zeros((HEIGHT, WIDTH), dtype=bool)
    target[1:11, 1:15] = True
    ignore = np.zeros((HEIGHT, WIDTH), dtype=bool)
    ignore[4:8, 5:9] = True
    return {"target": target & ~ignore, "ignore": ignore}


def llava_tree(base: Path) -> Path:
    """LISA layout: ``llava_dataset/llava_instruct_150k.json`` + ``coco/train2017``."""
    write_image(base / "coco" / "train2017" / "000000033471.jpg")
    write_image(base / "coco" / "train2017" / "000000052846.jpg", seed=1)
    conversations = [
        {
            "id": "000000033471",
            "image": "000000033471.jpg",
            "conversations": [
                {"from": "human", "value": "<image>\nWhat are the colors of the bus in the image?"},
                {"from": "gpt", "value": "The bus in the image is white and red."},
                {"from": "human", "value": "What feature can be seen on the back of the bus?"},
                {"from": "gpt", "value": "The back of the bus features an advertisement."},
            ],
        },
        {
            "id": "000000052846",
            "image": "000000052846.jpg",
            "conversations": [
                {"from": "human", "value": "Where is the cat positioned?\n<image>"},
                {"from": "gpt", "value": "On top of the back of the couch."},
            ],
        },
    ]
    return write_json(base / "llava_dataset" / "llava_instruct_150k.json", conversations)


def write_video(path: Path, num_frames: int = 4, height: int = 32, width: int = 32) -> Path:
    """A tiny H.264 mp4 (PyAV); decord mis-decodes 16x16 videos, so 32x32 by default."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=5)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(num_frames):
            frame = np.full((height, width, 3), 40 * i, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def _turns(question: str, answer: str) -> list[dict[str, str]]:
    return [{"from": "human", "value": question}, {"from": "gpt", "value": answer}]


def chat_univi_tree(root: Path) -> dict[str, Path]:
    """The Chat-UniVi-Instruct folders VISA reads: MIMIC (CDG/LA/SD), ScienceQA and the videos."""
    mimic = root / "Fine-tuning" / "MIMIC_imageonly"
    write_image(mimic / "CDG" / "images" / "CGD_IMG_000001.jpg")
    write_image(mimic / "CDG" / "images" / "CGD_IMG_000002.jpg", seed=1)
    write_image(mimic / "LA" / "images" / "LA_IMG_000010.jpg", seed=2)
    write_image(root / "ScienceQA_tuning" / "train" / "12" / "image.png", seed=3)
    write_video(root / "Fine-tuning" / "VIDEO" / "Activity_Videos" / "v_abc.mp4")
    files = {
        "mimic": write_json(
            mimic / "MIMIC-IT-imageonly.json",
            [
                {
                    "id": "CGD_INS_000000",
                    "image": ["CGD_IMG_000001.jpg", "CGD_IMG_000002.jpg"],
                    "conversations": _turns(
                        "<image><image>What is the difference?", "The left one has a dog."
                    ),
                },
                {
                    "id": "LA_INS_000003",
                    "image": "LA_IMG_000010.jpg",
                    "conversations": _turns("<image>\nWhat is he doing?", "Surfing.")
                    + _turns("Is it safe?", "Mostly, with a leash."),
                },
                {
                    "id": "DC_INS_000001",  # a folder VISA never configured
                    "image": "DC_IMG_v_xyz_000001.jpg",
                    "conversations": _turns("<image>\nDescribe.", "A kitchen."),
                },
            ],
        ),
        "sqa": write_json(
            root / "ScienceQA_tuning" / "llava_train_QCM-LEA.json",
            [
                {
                    "id": "12",
                    "image": "12\\image.png",
                    "conversations": _turns("Which is a solid?\n<image>", "LECTURE: ... The answer is A."),
                },
                {"id": "13", "conversations": _turns("What is 2 + 2?", "4")},  # text only
            ],
        ),
        "video": write_json(
            root / "Fine-tuning" / "VIDEO" / "video_chat.json",
            [
                {
                    "id": "v_abc",
                    "video": "v_abc.mp4",
                    "conversations": _turns("<video>\nWhat happens?", "Fading."),
                }
            ],
        ),
    }
    return files
