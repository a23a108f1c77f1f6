"""Import ``segment_anything.modeling`` without running the package ``__init__``.

The ``segment-anything`` package ``__init__`` imports its predictor and automatic mask generator,
which need torchvision (unusable here: it breaks transformers). The modeling classes only need
torch, so the package is registered as a bare namespace module (its ``__path__`` only) before
the ``modeling`` sub-package is imported. This is the one place in VISA that does this.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types


def import_sam_modeling() -> types.ModuleType:
    """Return ``segment_anything.modeling`` (``Sam``, ``ImageEncoderViT``, ``PromptEncoder``, ...).

    Raises:
        ImportError: the ``segment-anything`` distribution is not installed.
    """
    if "segment_anything.modeling" in sys.modules:
        return sys.modules["segment_anything.modeling"]
    if "segment_anything" not in sys.modules:
        spec = importlib.util.find_spec("segment_anything")
        if spec is None or spec.submodule_search_locations is None:
            raise ImportError("the segment-anything package is not installed (pip install segment-anything)")
        package = types.ModuleType("segment_anything")
        package.__path__ = list(spec.submodule_search_locations)
        package.__package__ = "segment_anything"
        package.__spec__ = spec
        sys.modules["segment_anything"] = package
    return importlib.import_module("segment_anything.modeling")
