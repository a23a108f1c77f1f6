"""VISA core: the plugin API, data types and lazy video decoding.

Importing this package is cheap (no torch, no transformers); the model, training and inference
live in sub-packages imported on use (``visa_core.model``, ``visa_core.training``, ...).
"""

from visa_core.component import Component
from visa_core.errors import (
    CheckpointError,
    ComponentOptionError,
    DataFormatError,
    PluginConflictError,
    UnknownComponentError,
    VideoDecodeError,
    VisaError,
)
from visa_core.hookspecs import hookimpl
from visa_core.interfaces import (
    Command,
    DatasetLoader,
    FrameDecoder,
    FrameSelector,
    Metric,
    Propagator,
)
from visa_core.plugins import VisaPlugins, build, get_plugins, get_registry
from visa_core.registry import Registry
from visa_core.types import FrameSelection, PropagationResult, Query, Sample, Turn
from visa_core.video import Video

__version__ = "0.1.0"

__all__ = [
    "CheckpointError",
    "Command",
    "Component",
    "ComponentOptionError",
    "DataFormatError",
    "DatasetLoader",
    "FrameDecoder",
    "FrameSelection",
    "FrameSelector",
    "Metric",
    "PluginConflictError",
    "PropagationResult",
    "Propagator",
    "Query",
    "Registry",
    "Sample",
    "Turn",
    "UnknownComponentError",
    "Video",
    "VideoDecodeError",
    "VisaError",
    "VisaPlugins",
    "__version__",
    "build",
    "get_plugins",
    "get_registry",
    "hookimpl",
]
