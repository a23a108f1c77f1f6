"""The ``uniform`` selector: a target frame chosen by rule and references spread over the video."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from visa_core import ComponentOptionError, FrameSelection, FrameSelector, Query, Video
from visa_core.components.frame_sampling import DEFAULT_MAX_IMAGE_TOKEN, spread_references

TARGET_RULES = ("middle", "first", "last")


def _is_int(text: str) -> bool:
    return text.removeprefix("-").isdigit()


class UniformSelector(FrameSelector):
    """Target frame by rule (middle, first, last or an index); references spread over the video."""

    name: ClassVar[str] = "uniform"

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Config:
        """``target``: "middle", "first", "last" or a frame index (negative counts from the end);
        ``max_image_token``: references + target images the model sees (the original's 12)."""

        target: str | int = "middle"
        max_image_token: int = DEFAULT_MAX_IMAGE_TOKEN

        def __post_init__(self) -> None:
            if isinstance(self.target, str) and self.target not in TARGET_RULES and not _is_int(self.target):
                raise ValueError(
                    f"target must be one of {', '.join(TARGET_RULES)} or an int, got {self.target!r}"
                )
            if self.max_image_token < 2:
                raise ValueError(f"max_image_token must be at least 2, got {self.max_image_token}")

    def target_index(self, video: Video) -> int:
        """The target frame of ``video`` under this selector's rule."""
        num_frames = len(video)
        rule = self.config.target
        if rule == "middle":
            return num_frames // 2
        if rule == "first":
            return 0
        if rule == "last":
            return num_frames - 1
        index = int(rule)
        if not -num_frames <= index < num_frames:
            raise ComponentOptionError(
                f"selector 'uniform': target index {index} is outside video {video.video_id!r} "
                f"of {num_frames} frames"
            )
        return index % num_frames

    def select(self, video: Video, query: Query) -> FrameSelection:
        target = self.target_index(video)
        references = spread_references(len(video), target, self.config.max_image_token)
        return FrameSelection(target=target, references=references)
