"""Known answers for every edge case of the metrics spec (J, F, A, R, radius, disk, aggregation)."""

from __future__ import annotations

import numpy as np
import pytest

from visa_eval import boundary, davis, lisa, region, revos
from visa_eval.runner import ExpressionResult
from visa_eval.scoring import ExpressionScores, score_expression


def video(*frames: np.ndarray) -> np.ndarray:
    return np.stack(frames)


EMPTY = np.zeros((20, 30), dtype=bool)
FULL = np.ones((20, 30), dtype=bool)


def test_both_empty_scores_one():
    assert region.region_iou(video(EMPTY), video(EMPTY)).tolist() == [1.0]
    assert boundary.boundary_f(video(EMPTY), video(EMPTY)).tolist() == [1.0]


def test_prediction_on_empty_target_scores_zero_j():
    pred = EMPTY.copy()
    pred[5:9, 5:9] = True
    assert region.region_iou(video(pred), video(EMPTY)).tolist() == [0.0]
    assert boundary.boundary_f(video(pred), video(EMPTY)).tolist() == [0.0]


def test_full_frame_has_no_boundary():
    assert not boundary.boundary_map(FULL).any()
    # full-frame target, empty prediction: J = 0 but F = 1 (the border is never a boundary)
    assert region.region_iou(video(EMPTY), video(FULL)).tolist() == [0.0]
    assert boundary.boundary_f(video(EMPTY), video(FULL)).tolist() == [1.0]
    # no-target expression with a full-frame prediction: J = 0, F = 1
    assert boundary.boundary_f(video(FULL), video(EMPTY)).tolist() == [1.0]
    assert boundary.boundary_f(video(FULL), video(FULL)).tolist() == [1.0]


def test_half_frame_against_full_frame_scores_zero_f():
    half = EMPTY.copy()
    half[:, :15] = True
    assert boundary.boundary_f(video(half), video(FULL)).tolist() == [0.0]


def test_bottom_right_pixel_gives_three_boundary_pixels():
    mask = EMPTY.copy()
    mask[-1, -1] = True
    expected = EMPTY.copy()
    expected[-2, -2] = expected[-1, -2] = expected[-2, -1] = True
    assert np.array_equal(boundary.boundary_map(mask), expected)


def test_rectangle_boundary_is_offset_towards_the_origin():
    mask = np.zeros((12, 14), dtype=bool)
    mask[3:7, 4:9] = True  # rows 3..6, columns 4..8
    bmap = boundary.boundary_map(mask)
    rows, cols = np.nonzero(bmap)
    assert rows.min() == 2 and rows.max() == 6  # row y0 - 1 outside, row y1 - 1 inside
    assert cols.min() == 3 and cols.max() == 8
    assert not bmap[4, 5]  # the interior is not a boundary


def test_one_pixel_objects():
    a = np.zeros((23, 37), dtype=bool)
    b = a.copy()
    a[10, 10] = True
    b[11, 11] = True
    assert region.region_iou(video(a), video(b)).tolist() == [0.0]
    # radius 1 at 37x23 (4-neighbourhood): 3 of the 4 boundary pixels of each match
    assert boundary.boundary_f(video(a), video(b)).tolist() == [0.75]
    b[11, 11], b[10, 11] = False, True
    assert boundary.boundary_f(video(a), video(b)).tolist() == [1.0]
    assert boundary.boundary_f(video(a), video(a)).tolist() == [1.0]


def test_thin_structure_matched_within_radius():
    h, w = 100, 200  # radius ceil(0.008 * 223.6) = 2
    line = np.zeros((h, w), dtype=bool)
    line[50, 20:180] = True
    shifted = np.roll(line, 2, axis=0)
    far = np.roll(line, 4, axis=0)
    assert boundary.boundary_f(video(line), video(shifted)).tolist() == [1.0]
    assert boundary.boundary_f(video(line), video(far))[0] < 0.1


@pytest.mark.parametrize(
    ("width", "height", "radius"),
    [
        (37, 23, 1),
        (64, 48, 1),
        (100, 75, 1),
        (96, 96, 2),
        (120, 90, 2),
        (200, 150, 2),
        (300, 225, 3),
        (320, 180, 3),
        (480, 270, 5),
        (640, 480, 7),
        (854, 480, 8),
        (1280, 720, 12),
        (600, 450, 6),
        (700, 525, 7),
    ],
)
def test_tolerance_radius_in_float64(width, height, radius):
    assert boundary.boundary_radius(height, width) == radius


def test_disk_is_the_skimage_disk():
    assert boundary.disk(2).sum() == 13
    assert boundary.disk(8).sum() == 197
    assert not boundary.disk(8)[8 + 6, 8 + 6]  # a (6, 6) offset is outside the radius-8 disk


def test_radius_three_at_300x225_matters():
    # boundaries 3 rows apart match at radius 3 (float64) and would match at 4 too; 4 rows apart only at 4
    base = np.zeros((225, 300), dtype=bool)
    base[100:140, 100:200] = True
    four = np.roll(base, 4, axis=0)
    f = boundary.boundary_f(video(four), video(base))[0]
    assert f < 0.5  # with the float32 radius 4 the horizontal edges would all match


def test_overlapping_objects_are_scored_as_their_union():
    gt_a = np.zeros((20, 30), dtype=np.uint8)
    gt_b = gt_a.copy()
    gt_a[2:10, 2:10] = 1
    gt_b[5:15, 5:15] = 1
    summed = gt_a + gt_b  # 2 on the overlap, as eval_revos.py builds it
    pred = (summed > 0).astype(np.uint8)
    assert region.region_iou(video(pred), video(summed)).tolist() == [1.0]
    assert boundary.boundary_f(video(pred), video(summed)).tolist() == [1.0]
    foreground = video(summed > 0)
    # boolean R: no false positive; legacy R: 1 - 2 wraps to 255 in uint8 on the overlap
    assert region.robustness(video(pred), video(summed), foreground).tolist() == [1.0]
    overlap = int(((gt_a > 0) & (gt_b > 0)).sum())
    legacy = region.legacy_robustness(video(pred), video(summed), foreground.astype(np.uint8))[0]
    assert legacy == max(1 - 255 * overlap / (foreground.sum() + 1e-6), 0.0)


def test_legacy_values_weigh_255_png_false_positives_255_times():
    gt = np.zeros((1, 40, 40), dtype=np.uint8)
    gt[0, :20] = 1
    pred = gt * 255
    pred[0, 39, 39] = 255  # one false-positive pixel
    foreground = gt.copy()
    assert region.robustness(pred, gt, foreground)[0] == 1 - 1 / (800 + 1e-6)
    assert region.legacy_robustness(pred, gt, foreground)[0] == 1 - 255 / (800 + 1e-6)
    # A: a 255 never equals a 1, so only background agreements count
    assert region.accuracy(pred, gt)[0] == 1599 / 1600
    assert region.legacy_accuracy(pred, gt)[0] == 799 / 1600


def test_robustness_with_empty_foreground():
    empty = np.zeros((1, 4, 4), dtype=bool)
    pred = empty.copy()
    assert region.robustness(pred, empty, empty).tolist() == [1.0]
    pred[0, 0, 0] = True
    assert region.robustness(pred, empty, empty).tolist() == [0.0]


def test_revos_rounding_is_numpy_rounding():
    assert revos.round2(2.675) == 2.68  # numpy scales first: 267.49999... * ... rints to 268
    assert round(2.675, 2) == 2.67  # Python's correctly rounded round() differs
    assert revos.round2(0.125) == 0.12  # half to even
    row = revos.rounded_row(ExpressionResult("v", "0", ExpressionScores(0.5, 0.25, 1.0, 1.0), 0))
    assert (row["J"], row["F"], row["JF"]) == (50.0, 25.0, 37.5)


def _result(video: str, type_id: int, j: float, f: float, r: float = 1.0) -> ExpressionResult:
    return ExpressionResult(video, str(type_id), ExpressionScores(j, f, 1.0, r), type_id)


def test_revos_summary_means_types_then_overall_and_reports_no_target_apart():
    results = [
        _result("a", 0, 0.5, 0.6),
        _result("b", 0, 0.7, 0.8),
        _result("c", 1, 0.1, 0.3),
        _result("d", 2, 1.0, 1.0, r=0.0),
    ]
    summary = revos.summarise(results)
    assert summary.referring["J"] == pytest.approx(60.0)
    assert summary.referring["JF"] == pytest.approx((60.0 + 70.0) / 2)
    assert summary.reason["J"] == pytest.approx(10.0)
    assert summary.overall["J"] == pytest.approx(35.0)  # mean of the type means, not pooled (43.33)
    assert summary.overall["R"] == pytest.approx(100.0)  # type 2 excluded
    assert summary.no_target["J"] == 100.0 and summary.no_target["R"] == 0.0
    assert summary.counts == {"referring": 2, "reason": 1, "no_target": 1}


def test_no_target_expression_with_empty_prediction_scores_100():
    empty = np.zeros((3, 20, 30), dtype=bool)
    scores = score_expression(empty, empty, empty)
    assert (scores.j, scores.f, scores.a, scores.r) == (1.0, 1.0, 1.0, 1.0)


def test_davis_statistics_and_decay_bins():
    values = np.array([1.0, 1.0, 0.0, 0.0, 0.4])
    mean, recall, decay = davis.db_statistics(values)
    assert mean == pytest.approx(0.48)
    assert recall == pytest.approx(0.4)
    # ids = [0, 1, 2, 3, 4]: bins [0:2] and [3:5] (inclusive, overlapping)
    assert decay == pytest.approx(1.0 - 0.2)
    assert davis.semi_supervised_frames(values).tolist() == [1.0, 0.0, 0.0]


def test_lisa_giou_ciou_ignore_label():
    target = np.zeros((1, 4, 4), dtype=np.uint8)
    target[0, :2] = 1
    target[0, 3, 3] = 255
    pred = np.zeros((1, 4, 4), dtype=np.uint8)
    pred[0, :2] = 1
    pred[0, 3, 3] = 1  # on an ignored pixel: not a false positive
    intersection, union = lisa.intersection_union(pred, target)
    assert (intersection.tolist(), union.tolist()) == ([8], [8])
    assert lisa.mask_ious(intersection, union)[0] == 8 / (8 + 1e-5)
    assert lisa.mask_ious(np.array([0]), np.array([0]))[0] == 1.0
    assert lisa.giou(1.0, 1) == 1.0 / (1 + 1e-5)
    assert lisa.ciou(8, 8) == 8 / (8 + 1e-10)
