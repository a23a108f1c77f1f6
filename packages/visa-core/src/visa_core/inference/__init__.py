"""Inference: the video -> selection -> VISA -> propagation pipeline and its writers.

Imports torch and the model on use; import ``visa_core.inference`` explicitly.
"""

from visa_core.inference.pipeline import QueryResult, VisaPipeline

__all__ = ["QueryResult", "VisaPipeline"]
