"""TinyVOS layout::

ROOT/SPLIT/expressions.json     {"VIDEO": [{"id": "0", "text": "the dog", "kind": "referring"}, ...]}
ROOT/SPLIT/VIDEO/frames/*.jpg   the frames, in name order
ROOT/SPLIT/VIDEO/masks/ID/*.png one 0/255 mask per frame, same names as the frames
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import ClassVar

import numpy as np
from PIL import Image

from visa_core import DataFormatError, DatasetLoader, Query, Sample, Video


class TinyVOSLoader(DatasetLoader):
    """Frame folders with PNG masks, one folder of masks per expression."""

    name: ClassVar[str] = "tinyvos"

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Config:
        root: Path
        split: str = "valid"

    def __init__(self, config=None, /, **options):
        super().__init__(config, **options)
        self.folder = Path(self.config.root) / self.config.split
        index_file = self.folder / "expressions.json"
        try:
            expressions = json.loads(index_file.read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise DataFormatError(f"tinyvos: cannot read {index_file}: {error}") from error
        self.items = [(video, expr) for video, exprs in sorted(expressions.items()) for expr in exprs]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> Sample:
        video_id, expression = self.items[index]
        video = Video.from_dir(self.folder / video_id / "frames", video_id)
        mask_folder = self.folder / video_id / "masks" / expression["id"]
        masks = np.stack(
            [np.asarray(Image.open(mask_folder / f"{frame}.png")) > 0 for frame in video.frame_ids]
        )
        query = Query(text=expression["text"], query_id=expression["id"], kind=expression.get("kind"))
        return Sample(video=video, query=query, masks=masks[None])
