"""The LLaMA-VID text-guided frame sampler: the question/parsing protocol, backends and the selector."""

from visa_frame_select.llamavid.backend import VideoQABackend
from visa_frame_select.llamavid.protocol import average_position, frame_question, parse_position
from visa_frame_select.llamavid.selector import LlamaVidSelector

__all__ = ["LlamaVidSelector", "VideoQABackend", "average_position", "frame_question", "parse_position"]
