"""The fast paths of ``visa eval``: RLEs decoded into bits, F on the boundary window, worker processes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from visa_core.annotations import encode_rle
from visa_core.errors import DataFormatError
from visa_eval import bitmask, boundary, rle_bits
from visa_eval.reference import reference_boundary_f

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def random_masks(rng: np.random.Generator, height: int, width: int) -> list[np.ndarray]:
    """Noise of several densities, empty, full, and blocks touching each border."""
    masks = [rng.random((height, width)) < density for density in (0.02, 0.5, 0.97)]
    masks += [np.zeros((height, width), bool), np.ones((height, width), bool)]
    for rows, columns in (
        (slice(0, 3), slice(None)),
        (slice(-2, None), slice(2, 5)),
        (slice(None), slice(-1, None)),
    ):
        block = np.zeros((height, width), bool)
        block[rows, columns] = True
        masks.append(block)
    return masks


@pytest.mark.parametrize(("height", "width"), [(1, 1), (1, 9), (7, 1), (5, 64), (13, 65), (40, 130)])
def test_rle_bits_equal_packed_pycocotools_decoding(height, width):
    rng = np.random.default_rng(height * 100 + width)
    masks = random_masks(rng, height, width)
    rles = [encode_rle(m) for m in masks]
    items = [f"frame {t}" for t in range(len(masks))]
    packed = rle_bits.packed_frames(rles, (height, width), Path("masks.json"), "track", items)
    decoded = np.stack([mask_utils.decode({"size": r["size"], "counts": r["counts"].encode()}) for r in rles])
    assert np.array_equal(packed, bitmask.pack(decoded))
    assert np.array_equal(bitmask.unpack(packed, width), np.stack(masks))


def test_rle_bits_read_nulls_lists_as_unions_and_uncompressed_counts():
    a, b = np.zeros((4, 6), bool), np.zeros((4, 6), bool)
    a[0:2, 0:3], b[1:4, 2:6] = True, True
    uncompressed = {"size": [4, 6], "counts": [0, 2, 2, 20]}  # column-major runs, zeros first
    expected = mask_utils.decode(mask_utils.frPyObjects(uncompressed, 4, 6)).astype(bool)
    packed = rle_bits.packed_frames(
        [None, [encode_rle(a), encode_rle(b)], uncompressed], (4, 6), Path("m.json"), "t", ["0", "1", "2"]
    )
    assert np.array_equal(bitmask.unpack(packed, 6), np.stack([np.zeros((4, 6), bool), a | b, expected]))


@pytest.mark.parametrize(
    ("rle", "message"),
    [
        ({"size": [4, 6], "counts": [3, 4]}, "add up to 6x4 = 24 pixels"),
        ({"size": [4, 6], "counts": "\x7f"}, "corrupt RLE"),
        ({"size": [3, 6], "counts": [18]}, "RLE of 6x3 but its frame is 6x4"),
        ([], "empty list of RLEs"),
    ],
)
def test_corrupt_rles_name_the_file_and_the_frame(rle, message):
    with pytest.raises(DataFormatError, match=rf"m.json: frame 0 .*{message}|m.json: frame 0 is an empty"):
        rle_bits.packed_frames([rle], (4, 6), Path("m.json"), "track", ["frame 0"])


def test_boundary_window_covers_masks_touching_every_border_and_empty_frames():
    rng = np.random.default_rng(3)
    gt = np.stack(random_masks(rng, 30, 70))
    pred = np.roll(gt, 1, axis=0) ^ (rng.random(gt.shape) < 0.01)
    pred[3] = False  # an empty prediction on an empty target, and on a full one
    assert np.array_equal(boundary.boundary_f(pred, gt, bound_th=3), reference_boundary_f(gt, pred, 3))
    assert np.array_equal(boundary.boundary_f(gt, pred), reference_boundary_f(pred, gt))
    empty = np.zeros_like(gt)
    assert np.array_equal(boundary.boundary_f(pred, empty), reference_boundary_f(empty, pred))
