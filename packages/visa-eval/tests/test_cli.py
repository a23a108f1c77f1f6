"""``visa eval`` on tiny dataset trees written in the published formats."""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils

from visa_core.cli.main import main
from visa_eval.reference import reference_scores

# pycocotools' decode trips numpy 2's copy-keyword deprecation; not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def rle(mask: np.ndarray) -> dict:
    encoded = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(v) for v in encoded["size"]], "counts": encoded["counts"].decode("ascii")}


def square(size, top, left, side) -> np.ndarray:
    mask = np.zeros(size, dtype=bool)
    mask[top : top + side, left : left + side] = True
    return mask


def save_png(path: Path, values: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(values.astype(np.uint8), mode="L").save(path)


VIDEOS = {"vidA": ((23, 37), 4), "vidB": ((48, 64), 3)}
# (video, exp_id, type_id, anno_ids)
EXPRESSIONS = [
    ("vidA", "0", 0, [1]),
    ("vidA", "1", 1, [1, 2]),
    ("vidA", "2", 2, []),
    ("vidB", "0", 0, [3]),
    ("vidB", "1", 1, [3]),
    ("vidB", "2", 0, [4]),
]


def objects() -> dict[int, tuple[str, np.ndarray]]:
    """anno_id -> (video, bool[T, H, W]); objects 1 and 2 overlap, object 4 is absent in frame 0."""
    out = {}
    (h, w), t = VIDEOS["vidA"]
    out[1] = ("vidA", np.stack([square((h, w), 3, 4 + i, 8) for i in range(t)]))
    out[2] = ("vidA", np.stack([square((h, w), 8, 9 + i, 9) for i in range(t)]))
    (h, w), t = VIDEOS["vidB"]
    out[3] = ("vidB", np.stack([square((h, w), 10 + i, 10, 20) for i in range(t)]))
    four = np.stack([square((h, w), 30, 30 + i, 12) for i in range(t)])
    four[0] = False
    out[4] = ("vidB", four)
    return out


def predictions() -> dict[tuple[str, str], np.ndarray]:
    """(video, exp_id) -> uint8[T, H, W] 0/255: shifted targets, a full-frame one, an empty one."""
    objs = objects()
    preds = {}
    for video, exp_id, _, anno_ids in EXPRESSIONS:
        (h, w), t = VIDEOS[video]
        target = np.zeros((t, h, w), dtype=bool)
        for anno in anno_ids:
            target |= objs[anno][1]
        preds[(video, exp_id)] = np.roll(target, 1, axis=2).astype(np.uint8) * 255
    preds[("vidA", "2")][1] = 255  # a full-frame false positive on the no-target expression
    preds[("vidB", "2")][:] = 0
    return preds


@pytest.fixture
def revos_tree(tmp_path: Path) -> tuple[Path, Path]:
    root, pred_dir = tmp_path / "ReVOS", tmp_path / "run" / "Annotations"
    root.mkdir()
    objs = objects()
    meta = {"videos": {}}
    for video, ((h, w), t) in VIDEOS.items():
        frames = [f"{i:05d}" for i in range(t)]
        meta["videos"][video] = {"frames": frames, "expressions": {}, "height": h, "width": w}
        for i in range(t):
            save_png(root / "JPEGImages" / video / f"{frames[i]}.png", np.zeros((h, w)))
    for video, exp_id, type_id, anno_ids in EXPRESSIONS:
        meta["videos"][video]["expressions"][exp_id] = {
            "exp": f"expression {exp_id} of {video}",
            "obj_id": anno_ids,
            "anno_id": anno_ids,
            "type_id": type_id,
        }
    mask_dict = {str(a): [rle(m) if m.any() else None for m in masks] for a, (_, masks) in objs.items()}
    foreground = {}
    for video, ((h, w), t) in VIDEOS.items():
        union = np.zeros((t, h, w), dtype=bool)
        for v, masks in objs.values():
            if v == video:
                union |= masks
        foreground[video] = {
            "masks_rle": [rle(m) for m in union],
            "foreground_ratio": union.mean((1, 2)).tolist(),
        }
    (root / "meta_expressions_valid_.json").write_text(json.dumps(meta))
    (root / "mask_dict.json").write_text(json.dumps(mask_dict))
    (root / "mask_dict_foreground.json").write_text(json.dumps(foreground))
    for (video, exp_id), values in predictions().items():
        for i, frame in enumerate(meta["videos"][video]["frames"]):
            save_png(pred_dir / video / exp_id / f"{frame}.png", values[i])
    return root, pred_dir


def official_revos_summary(rows: list[tuple[int, tuple[float, float, float, float]]]) -> dict:
    """The aggregation of eval_revos.py's __main__, written out plainly."""
    data = []
    for type_id, (j, f, a, r) in rows:
        j, f, a, r = (np.float64(v) for v in (j, f, a, r))
        data.append(
            {
                "J": round(100 * j, 2),
                "F": round(100 * f, 2),
                "A": round(100 * a, 2),
                "R": round(100 * r, 2),
                "t": type_id,
            }
        )
    result = {}
    for name, type_id in (("referring", 0), ("reason", 1)):
        values = {k: np.array([d[k] for d in data if d["t"] == type_id]).mean() for k in "JFAR"}
        values["JF"] = (values["J"] + values["F"]) / 2
        result[name] = values
    result["overall"] = {k: (result["referring"][k] + result["reason"][k]) / 2 for k in result["referring"]}
    return result


def expected_rows(legacy: bool, zero: set[tuple[str, str]] = frozenset()):
    objs, preds = objects(), predictions()
    rows = []
    for video, exp_id, type_id, anno_ids in EXPRESSIONS:
        (h, w), t = VIDEOS[video]
        gt = np.zeros((t, h, w), dtype=np.uint8)
        for anno in anno_ids:
            gt += objs[anno][1].astype(np.uint8)
        fg = np.zeros((t, h, w), dtype=bool)
        for v, masks in objs.values():
            if v == video:
                fg |= masks
        pred = preds[(video, exp_id)]
        if not legacy:
            gt, pred = (gt > 0).astype(np.uint8), (pred > 0).astype(np.uint8)
        scores = (
            (0.0, 0.0, 0.0, 0.0)
            if (video, exp_id) in zero
            else reference_scores(gt, pred, fg.astype(np.uint8))
        )
        rows.append((type_id, scores))
    return rows


@pytest.mark.parametrize("legacy", [False, True])
def test_revos_matches_the_official_aggregation(revos_tree, tmp_path, capsys, legacy):
    root, pred_dir = revos_tree
    out, table = tmp_path / "summary.json", tmp_path / "rows.csv"
    argv = [
        "eval",
        "revos",
        str(pred_dir),
        "--root",
        str(root),
        "--out",
        str(out),
        "--csv",
        str(table),
        "--quiet",
    ]
    assert main([*argv, "--legacy-png-values"] if legacy else argv) == 0
    summary = json.loads(out.read_text())
    expected = official_revos_summary([row for row in expected_rows(legacy) if row[0] != 2])
    for subset in ("referring", "reason", "overall"):
        for key in ("J", "F", "A", "R", "JF"):
            assert summary[subset][key] == pytest.approx(expected[subset][key], abs=1e-9), (subset, key)
    no_target = next(v for k, v in summary.items() if k.startswith("no_target"))
    assert no_target["J"] == 75.0  # frames 0, 2, 3 empty on empty (1), frame 1 full-frame prediction (0)
    assert no_target["F"] == 100.0  # the border is never a boundary
    with table.open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["videxp"] for r in rows] == [f"{v}_{e}" for v, e, _, _ in EXPRESSIONS]
    assert list(rows[0]) == ["video_name", "exp_id", "exp", "videxp", "J", "F", "JF", "A", "R", "type_id"]
    printed = capsys.readouterr().out
    assert "referring" in printed and "no-target" in printed


def test_legacy_values_change_r_but_not_j_and_f(revos_tree, tmp_path):
    root, pred_dir = revos_tree
    results = {}
    for legacy in (False, True):
        out = tmp_path / f"{legacy}.json"
        argv = ["eval", "revos", str(pred_dir), "--root", str(root), "--out", str(out), "--quiet"]
        main([*argv, "--legacy-png-values"] if legacy else argv)
        results[legacy] = json.loads(out.read_text())["overall"]
    assert results[False]["J"] == results[True]["J"] and results[False]["F"] == results[True]["F"]
    assert results[True]["R"] < results[False]["R"]


def test_missing_and_wrongly_sized_predictions_are_named_and_scored_zero(revos_tree, tmp_path, capsys):
    root, pred_dir = revos_tree
    (pred_dir / "vidA" / "1" / "00002.png").unlink()
    save_png(pred_dir / "vidB" / "0" / "00001.png", np.zeros((10, 10)))
    out = tmp_path / "summary.json"
    assert main(["eval", "revos", str(pred_dir), "--root", str(root), "--out", str(out), "--quiet"]) == 0
    summary = json.loads(out.read_text())
    problems = next(v for k, v in summary.items() if k.startswith("missing_or_invalid"))
    assert any("vidA/1" in p and "00002.png" in p for p in problems)
    assert any("vidB/0" in p and "10x10" in p for p in problems)
    expected = official_revos_summary(
        [row for row in expected_rows(False, {("vidA", "1"), ("vidB", "0")}) if row[0] != 2]
    )
    assert summary["overall"]["JF"] == pytest.approx(expected["overall"]["JF"], abs=1e-9)
    printed = capsys.readouterr().out
    assert "scored 0" in printed and "vidA/1" in printed


def test_missing_video_folder(revos_tree, tmp_path):
    root, pred_dir = revos_tree
    import shutil

    shutil.rmtree(pred_dir / "vidB")
    out = tmp_path / "summary.json"
    main(
        ["eval", "revos", str(pred_dir), "--root", str(root), "--out", str(out), "--quiet", "--workers", "1"]
    )
    problems = next(v for k, v in json.loads(out.read_text()).items() if k.startswith("missing_or_invalid"))
    assert sum("vidB" in p and "is missing" in p for p in problems) == 3


@pytest.mark.parametrize("legacy", [False, True])
def test_worker_processes_give_the_numbers_of_one_worker(revos_tree, tmp_path, legacy):
    root, pred_dir = revos_tree
    tables = []
    for workers in ("1", "2"):
        out, table = tmp_path / f"s{workers}.json", tmp_path / f"r{workers}.csv"
        argv = ["eval", "revos", str(pred_dir), "--root", str(root), "--out", str(out), "--csv", str(table)]
        argv += ["--quiet", "--workers", workers] + (["--legacy-png-values"] if legacy else [])
        assert main(argv) == 0
        tables.append((out.read_text(), table.read_text()))
    assert tables[0] == tables[1]


@pytest.mark.parametrize("workers", ["0", "-2", "two"])
def test_workers_below_one_are_refused(revos_tree, capsys, workers):
    root, pred_dir = revos_tree
    with pytest.raises(SystemExit) as exited:
        main(["eval", "revos", str(pred_dir), "--root", str(root), "--quiet", "--workers", workers])
    assert exited.value.code == 2
    assert "argument --workers:" in capsys.readouterr().err


def test_score_videos_refuses_zero_workers(tmp_path):
    from visa_eval.runner import score_videos

    with pytest.raises(ValueError, match="workers must be at least 1, got 0"):
        score_videos(tmp_path, [], lambda video: None, workers=0)


def test_default_outputs_next_to_the_prediction_folder(revos_tree):
    root, pred_dir = revos_tree
    assert main(["eval", "revos", str(pred_dir), "--root", str(root), "--quiet"]) == 0
    assert (pred_dir.parent / "revos_valid.json").is_file() and (
        pred_dir.parent / "revos_valid.csv"
    ).is_file()


def test_bad_dataset_root_is_a_clear_error(tmp_path, capsys):
    pred = tmp_path / "pred"
    pred.mkdir()
    assert main(["eval", "revos", str(pred), "--root", str(tmp_path / "nowhere"), "--quiet"]) == 2
    assert "meta_expressions_valid_.json" in capsys.readouterr().err


def test_python_api_summary_equals_the_command(revos_tree, tmp_path):
    from visa_eval import revos

    root, pred_dir = revos_tree
    truth = revos.RevosGroundTruth.open(root)
    preds = predictions()
    results = []
    for video, expression in truth.expressions():
        pred = preds[(video.video, expression.exp_id)] > 0
        scores = revos.score_expression(pred, truth.target(video, expression), truth.foreground(video))
        results.append(revos.ExpressionResult(video.video, expression.exp_id, scores, expression.type_id))
    summary = revos.summarise(results)
    out = tmp_path / "cli.json"
    main(["eval", "revos", str(pred_dir), "--root", str(root), "--out", str(out), "--quiet"])
    assert summary.overall == json.loads(out.read_text())["overall"]
    assert "reasoning" in revos.format_table(summary)


def _write_mevis(root: Path, split: str, with_masks: bool) -> None:
    objs = objects()
    meta = {"videos": {}}
    for video, ((_h, _w), t) in VIDEOS.items():
        meta["videos"][video] = {"frames": [f"{i:05d}" for i in range(t)], "expressions": {}}
    for video, exp_id, _, anno_ids in EXPRESSIONS:
        meta["videos"][video]["expressions"][exp_id] = {"exp": "x", "obj_id": anno_ids, "anno_id": anno_ids}
    (root / split).mkdir(parents=True)
    (root / split / "meta_expressions.json").write_text(json.dumps(meta))
    if with_masks:
        mask_dict = {str(a): [rle(m) if m.any() else None for m in masks] for a, (_, masks) in objs.items()}
        (root / split / "mask_dict.json").write_text(json.dumps(mask_dict))


def test_mevis_valid_u_pools_every_expression(revos_tree, tmp_path):
    _, pred_dir = revos_tree
    root = tmp_path / "mevis"
    _write_mevis(root, "valid_u", with_masks=True)
    out = tmp_path / "mevis.json"
    assert main(["eval", "mevis", str(pred_dir), "--root", str(root), "--out", str(out), "--quiet"]) == 0
    summary = json.loads(out.read_text())
    rows = expected_rows(False)
    assert summary["J"] == pytest.approx(np.mean([s[0] for _, s in rows]), abs=1e-12)
    assert summary["F"] == pytest.approx(np.mean([s[1] for _, s in rows]), abs=1e-12)
    assert summary["J&F"] == pytest.approx((summary["J"] + summary["F"]) / 2)


def test_mevis_valid_and_ref_youtube_vos_write_submission_zips(revos_tree, tmp_path, capsys):
    _, pred_dir = revos_tree
    root = tmp_path / "mevis"
    _write_mevis(root, "valid", with_masks=False)
    out = tmp_path / "mevis.zip"
    assert (
        main(["eval", "mevis", str(pred_dir), "--root", str(root), "--split", "valid", "--out", str(out)])
        == 0
    )
    names = zipfile.ZipFile(out).namelist()
    assert "vidA/0/00000.png" in names and len(names) == 3 * 4 + 3 * 3

    ytvos = tmp_path / "ytvos"
    _write_mevis(ytvos / "meta_expressions", "valid", with_masks=False)
    (pred_dir / "vidB" / "2" / "00001.png").unlink()
    out = tmp_path / "ytvos.zip"
    assert main(["eval", "ref_youtube_vos", str(pred_dir), "--root", str(ytvos), "--out", str(out)]) == 1
    names = zipfile.ZipFile(out).namelist()
    assert "Annotations/vidA/0/00000.png" in names and "Annotations/vidB/2/00001.png" not in names
    assert "vidB/2/00001.png" in capsys.readouterr().out


def test_davis17_reports_pooled_and_semi_supervised_statistics(revos_tree, tmp_path):
    _, pred_dir = revos_tree
    root = tmp_path / "davis"
    objs = objects()
    meta = {"videos": {}}
    for video, ((h, w), t) in VIDEOS.items():
        frames = [f"{i:05d}" for i in range(t)]
        meta["videos"][video] = {"frames": frames, "expressions": {}}
        labels = np.zeros((t, h, w), dtype=np.uint8)
        for anno, (v, masks) in objs.items():
            if v == video and anno != 2:
                labels[masks] = anno
        for i, frame in enumerate(frames):
            path = root / "valid" / "Annotations" / video / f"{frame}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            image = Image.fromarray(labels[i], mode="P")
            image.putpalette([0, 0, 0, 128, 0, 0, 0, 128, 0, 128, 128, 0, 0, 0, 128] + [0] * 753)
            image.save(path)
    for video, exp_id, _, anno_ids in EXPRESSIONS:
        if len(anno_ids) == 1:
            meta["videos"][video]["expressions"][exp_id] = {"exp": "x", "obj_id": [str(anno_ids[0])]}
    (root / "meta_expressions" / "valid").mkdir(parents=True)
    (root / "meta_expressions" / "valid" / "meta_expressions.json").write_text(json.dumps(meta))
    out = tmp_path / "davis.json"
    assert main(["eval", "davis17", str(pred_dir), "--root", str(root), "--out", str(out), "--quiet"]) == 0
    summary = json.loads(out.read_text())
    rows = [s for (t, s), e in zip(expected_rows(False), EXPRESSIONS, strict=True) if len(e[3]) == 1]
    assert summary["J"] == pytest.approx(np.mean([s[0] for s in rows]), abs=1e-12)
    davis = next(v for k, v in summary.items() if k.startswith("davis2017_semi_supervised"))
    assert set(davis) == {"J&F-Mean", "J-Mean", "J-Recall", "J-Decay", "F-Mean", "F-Recall", "F-Decay"}


def test_reasonseg_giou_ciou(tmp_path):
    folder = tmp_path / "ReasonSeg" / "val"
    folder.mkdir(parents=True)
    Image.new("RGB", (20, 10)).save(folder / "img1.jpg")
    shapes = [
        {"label": "target", "points": [[2, 2], [8, 2], [8, 6], [2, 6]]},
        {"label": "ignore", "points": [[12, 2], [15, 2], [15, 5], [12, 5]]},
        {"label": "flag", "points": [[0, 0], [1, 0], [1, 1]]},
    ]
    (folder / "img1.json").write_text(json.dumps({"text": ["q"], "is_sentence": True, "shapes": shapes}))
    pred = np.zeros((10, 20), dtype=np.uint8)
    pred[2:7, 2:9] = 255  # the target rectangle (inclusive corners, as outlined)
    pred[3, 13] = 255  # on the ignored region: not counted
    pred_dir = tmp_path / "pred"
    save_png(pred_dir / "img1.png", pred)
    out = tmp_path / "rs.json"
    assert main(["eval", "reasonseg", str(pred_dir), "--root", str(tmp_path), "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["cIoU"] == pytest.approx(1.0) and result["images"] == 1
    assert result["gIoU"] == pytest.approx(35 / (35 + 1e-5) / (1 + 1e-5))
