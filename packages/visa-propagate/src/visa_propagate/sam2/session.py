"""A ``Sam2VideoInferenceSession`` whose memory does not grow with the video's length (imports
transformers).

The stock session keeps every preprocessed frame (``processed_frames``) and every frame's
outputs, memory features included (``output_dict_per_obj[..]["non_cond_frame_outputs"]``), so its
size grows linearly with the video. This one is fed one frame at a time and forgets frames and
outputs that the memory attention can no longer reach.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from transformers import Sam2VideoInferenceSession


class BoundedSam2Session(Sam2VideoInferenceSession):
    """Session over a video of ``num_frames`` frames holding at most a window of them.

    ``num_frames`` is the full length (the model bounds object-pointer look-ups with it) while
    ``processed_frames`` holds only the frame being segmented.
    """

    def __init__(self, num_frames: int, **kwargs: Any) -> None:
        super().__init__(video=None, **kwargs)
        self._total_frames = num_frames

    @property
    def num_frames(self) -> int:
        return self._total_frames

    def drop_frame(self, frame_idx: int) -> None:
        """Forget the preprocessed pixels of ``frame_idx``."""
        if self.processed_frames is not None:
            self.processed_frames.pop(frame_idx, None)

    def forget_tracked_frame(self, frame_idx: int, keep: Callable[[int], bool]) -> None:
        """Drop the stored outputs (masks, memory features, pointer) of a tracked frame unless
        ``keep(frame_idx)``; conditioning (key-frame) outputs are never dropped."""
        if keep(frame_idx):
            return
        for obj_idx, outputs in self.output_dict_per_obj.items():
            outputs["non_cond_frame_outputs"].pop(frame_idx, None)
            self.frames_tracked_per_obj[obj_idx].pop(frame_idx, None)

    def stored_frames(self) -> set[int]:
        """Frame indices with stored outputs for any object (for tests of boundedness)."""
        frames: set[int] = set()
        for outputs in self.output_dict_per_obj.values():
            frames.update(outputs["non_cond_frame_outputs"])
            frames.update(outputs["cond_frame_outputs"])
        return frames
