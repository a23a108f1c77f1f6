"""Mask PNGs, overlays and mp4 output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from visa_core import ComponentOptionError
from visa_core.cli.options import component_options
from visa_core.testing import moving_squares
from visa_core.video import Video
from visa_core.video.writers import PALETTE, Mp4Writer, load_mask_png, overlay_masks, save_mask_png


def test_mask_png_round_trip_holds_0_and_255(tmp_path: Path) -> None:
    _, masks = moving_squares(num_frames=1, height=37, width=23, num_objects=1)
    path = tmp_path / "a" / "00000.png"
    save_mask_png(path, masks[0, 0])
    from PIL import Image

    raw = np.asarray(Image.open(path))
    assert raw.dtype == np.uint8 and set(np.unique(raw)) == {0, 255}
    assert np.array_equal(load_mask_png(path), masks[0, 0])
    assert [p.name for p in path.parent.iterdir()] == ["00000.png"]  # no partial file left


def test_overlay_colours_objects_and_keeps_background() -> None:
    video, masks = moving_squares(num_frames=1, num_objects=2)
    frame = video.frames[0]
    out = overlay_masks(frame, masks[:, 0], alpha=1.0)
    assert out.shape == frame.shape and out.dtype == np.uint8
    assert np.array_equal(out[~masks[:, 0].any(0)], frame[~masks[:, 0].any(0)])
    inside = np.argwhere(masks[1, 0])[len(np.argwhere(masks[1, 0])) // 2]
    assert tuple(out[tuple(inside)]) == tuple(PALETTE[1])


def test_mp4_writer_pads_odd_sizes_and_reads_back(tmp_path: Path) -> None:
    video, _ = moving_squares(num_frames=5, height=33, width=47)
    path = tmp_path / "overlay.mp4"
    with Mp4Writer(path, fps=5) as writer:
        for index in range(len(video)):
            writer.write(video.frames[index])
    back = Video.open(path)
    assert len(back) == 5 and back.size == (34, 48)


def test_component_options_parse_yaml_values() -> None:
    options = component_options(["top_k=30", "device=cpu", "flag=true"], checkpoint=Path("x.pth"), model=None)
    assert options == {"checkpoint": "x.pth", "top_k": 30, "device": "cpu", "flag": True}
    with pytest.raises(ComponentOptionError, match="KEY=VALUE"):
        component_options(["oops"])
