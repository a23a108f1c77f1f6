"""The example plugin passes the dataset contract shipped by visa-core."""

import json

import numpy as np
import pytest
from PIL import Image

import visa_core
from visa_core.testing import DatasetLoaderContract, moving_squares


@pytest.fixture
def tinyvos_root(tmp_path):
    video, masks = moving_squares(num_frames=3, num_objects=1)
    folder = tmp_path / "valid" / "squares"
    (folder / "frames").mkdir(parents=True)
    (folder / "masks" / "0").mkdir(parents=True)
    for index, frame_id in enumerate(video.frame_ids):
        Image.fromarray(video.frames[index]).save(folder / "frames" / f"{frame_id}.jpg")
        Image.fromarray(masks[0, index].astype(np.uint8) * 255).save(
            folder / "masks" / "0" / f"{frame_id}.png"
        )
    expressions = {"squares": [{"id": "0", "text": "the red square", "kind": "referring"}]}
    (tmp_path / "valid" / "expressions.json").write_text(json.dumps(expressions))
    return tmp_path


class TestTinyVOS(DatasetLoaderContract):
    component_name = "tinyvos"

    @pytest.fixture
    def dataset(self, tinyvos_root):
        return visa_core.build("dataset", "tinyvos", root=tinyvos_root)
