"""The vectorised measures equal the plain per-frame reference (the official algorithm) bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import ndimage

from visa_eval import boundary, region, revos
from visa_eval.reference import (
    reference_accuracy,
    reference_boundary_f,
    reference_dilate,
    reference_iou,
    reference_robustness,
    reference_scores,
    reference_seg2bmap,
)
from visa_eval.scoring import score_expression


def blobs(rng: np.random.Generator, frames: int, height: int, width: int) -> np.ndarray:
    yy, xx = np.mgrid[:height, :width]
    out = np.zeros((frames, height, width), dtype=bool)
    for t in range(frames):
        for _ in range(rng.integers(0, 4)):
            cy, cx = rng.uniform(0, height), rng.uniform(0, width)
            ry, rx = rng.uniform(0.5, max(1, height / 2)), rng.uniform(0.5, max(1, width / 2))
            out[t] |= ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
    return out


@pytest.mark.parametrize(
    ("height", "width"), [(23, 37), (225, 300), (48, 64), (75, 100), (1, 7), (9, 1), (2, 2)]
)
def test_random_blobs_match_reference(height, width):
    rng = np.random.default_rng(height * 1000 + width)
    pred, gt = blobs(rng, 6, height, width), blobs(rng, 6, height, width)
    gt[0] = True
    pred[1] = False
    foreground = gt | blobs(rng, 6, height, width)
    assert np.array_equal(region.region_iou(pred, gt), reference_iou(gt, pred))
    assert np.array_equal(boundary.boundary_f(pred, gt), reference_boundary_f(gt, pred))
    assert np.array_equal(region.accuracy(pred, gt), reference_accuracy(gt, pred))
    assert np.array_equal(region.robustness(pred, gt, foreground), reference_robustness(gt, pred, foreground))


def test_expression_means_match_reference_in_both_value_modes():
    rng = np.random.default_rng(7)
    gt = blobs(rng, 5, 48, 130).astype(np.uint8)
    gt[:, 10:20, 10:20] += 1  # an overlap of two objects
    pred = blobs(rng, 5, 48, 130).astype(np.uint8) * 255
    foreground = (gt > 0).astype(np.uint8)
    legacy = score_expression(pred, gt, foreground, legacy_png_values=True)
    assert (legacy.j, legacy.f, legacy.a, legacy.r) == reference_scores(gt, pred, foreground)
    boolean = score_expression(pred > 0, gt > 0, foreground)
    expected = reference_scores((gt > 0).astype(np.uint8), (pred > 0).astype(np.uint8), foreground)
    assert (boolean.j, boolean.f, boolean.a, boolean.r) == expected


@pytest.mark.parametrize("radius", [1, 2, 3, 8, 12])
def test_dilation_equals_scipy_binary_dilation_with_the_disk(radius):
    mask = np.random.default_rng(radius).random((40, 150)) < 0.02
    expected = ndimage.binary_dilation(mask, boundary.disk(radius))
    assert np.array_equal(reference_dilate(mask, boundary.disk(radius)), expected)
    from visa_eval import bitmask

    packed = boundary.packed_dilate_disk(bitmask.pack(mask[None]), radius)
    assert np.array_equal(bitmask.unpack(packed, 150)[0], expected)


masks = arrays(np.bool_, st.tuples(st.integers(1, 3), st.integers(1, 20), st.integers(1, 70)))


@settings(max_examples=60, deadline=None)
@given(masks, st.data())
def test_property_fast_equals_reference(pred, data):
    gt = data.draw(arrays(np.bool_, pred.shape))
    assert np.array_equal(boundary.boundary_map(gt), np.stack([reference_seg2bmap(g) for g in gt]))
    assert np.array_equal(boundary.boundary_f(pred, gt), reference_boundary_f(gt, pred))
    assert np.array_equal(region.region_iou(pred, gt), reference_iou(gt, pred))


@settings(max_examples=40, deadline=None)
@given(masks, st.data())
def test_property_j_identity_and_symmetry(pred, data):
    gt = data.draw(arrays(np.bool_, pred.shape))
    assert np.all(region.region_iou(pred, pred) == 1)
    assert np.all(boundary.boundary_f(pred, pred) == 1)
    assert np.array_equal(region.region_iou(pred, gt), region.region_iou(gt, pred))
    assert np.array_equal(boundary.boundary_f(pred, gt), boundary.boundary_f(gt, pred))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1), st.integers(0, 2)), min_size=2, max_size=12))
def test_property_revos_summary_is_order_independent(rows):
    from visa_eval.runner import ExpressionResult
    from visa_eval.scoring import ExpressionScores

    results = [
        ExpressionResult(f"v{i}", "0", ExpressionScores(j, f, 1.0, 1.0), t)
        for i, (j, f, t) in enumerate(rows)
    ]
    forward, backward = revos.summarise(results), revos.summarise(results[::-1])
    np.testing.assert_allclose(list(forward.overall.values()), list(backward.overall.values()), rtol=1e-12)
