"""Every metric component passes the MetricContract and agrees with the functions."""

from __future__ import annotations

import numpy as np
import pytest

import visa_core
from visa_core.errors import VisaError
from visa_core.testing import MetricContract, moving_squares
from visa_eval import boundary, region


class TestJ(MetricContract):
    component_name = "j"
    perfect_keys = ("j",)

    @pytest.fixture
    def metric(self):
        return visa_core.build("metric", "j")


class TestF(MetricContract):
    component_name = "f"
    perfect_keys = ("f",)

    @pytest.fixture
    def metric(self):
        return visa_core.build("metric", "f")


class TestJAndF(MetricContract):
    component_name = "j_and_f"
    perfect_keys = ("j", "f", "j_and_f")

    @pytest.fixture
    def metric(self):
        return visa_core.build("metric", "j_and_f")


class TestA(MetricContract):
    component_name = "a"
    perfect_keys = ("a",)

    @pytest.fixture
    def metric(self):
        return visa_core.build("metric", "a")


class TestR(MetricContract):
    component_name = "r"
    perfect_keys = ("r",)

    @pytest.fixture
    def extras(self):
        _, masks = moving_squares(num_frames=4, height=24, width=30, num_objects=2)
        return {"foreground": masks.any(axis=0)}

    @pytest.fixture
    def metric(self):
        return visa_core.build("metric", "r")


class TestGIoU(MetricContract):
    component_name = "giou"
    perfect_keys = ()  # LISA's gIoU of a perfect mask is U / (U + 1e-5) / (1 + 1e-5 / n), just below 1

    @pytest.fixture
    def metric(self):
        return visa_core.build("metric", "giou")


class TestCIoU(MetricContract):
    component_name = "ciou"
    perfect_keys = ("ciou",)

    @pytest.fixture
    def metric(self):
        return visa_core.build("metric", "ciou")


def test_components_agree_with_functions():
    _, masks = moving_squares(num_frames=5, height=40, width=60, num_objects=2)
    pred, target = np.roll(masks[0], 3, axis=2), masks[0]
    foreground = masks.any(axis=0)
    metric = visa_core.build("metric", "j_and_f")
    metric.update(pred, target, key="q")
    j = region.region_iou(pred, target).mean()
    f = boundary.boundary_f(pred, target).mean()
    assert metric.compute() == {"j": j, "f": f, "j_and_f": (j + f) / 2}
    r = visa_core.build("metric", "r")
    r.update(pred, target, key="q", extras={"foreground": foreground})
    assert r.compute()["r"] == region.robustness(pred, target, foreground).mean()


def test_giou_of_a_perfect_mask_is_lisas_value():
    target = np.zeros((1, 10, 10), dtype=bool)
    target[0, 2:6, 2:7] = True
    metric = visa_core.build("metric", "giou")
    metric.update(target, target)
    assert metric.compute()["giou"] == (20 / (20 + 1e-5)) / (1 + 1e-5)


def test_giou_ignore_extras():
    target = np.zeros((1, 4, 4), dtype=bool)
    pred = target.copy()
    pred[0, 0, 0] = True
    ignore = pred.copy()
    metric = visa_core.build("metric", "ciou")
    metric.update(pred, target, extras={"ignore": ignore})
    assert metric.compute()["ciou"] == 0.0  # both unions are empty: 0 / 1e-10
    giou = visa_core.build("metric", "giou")
    giou.update(pred, target, extras={"ignore": ignore})
    assert giou.compute()["giou"] == 1.0 / (1 + 1e-5)  # an empty union counts 1


def test_r_without_foreground_is_a_clear_error():
    metric = visa_core.build("metric", "r")
    with pytest.raises(VisaError, match="foreground"):
        metric.update(np.zeros((1, 4, 4), bool), np.zeros((1, 4, 4), bool))


def test_shape_mismatch_is_a_clear_error():
    with pytest.raises(VisaError, match="query 'x'"):
        visa_core.build("metric", "j").update(np.zeros((2, 4, 4), bool), np.zeros((1, 4, 4), bool), key="x")


def test_f_bound_th_option():
    metric = visa_core.build("metric", "f", bound_th=3)
    assert metric.config.bound_th == 3
