"""An example VISA dataset plugin: frame folders with one PNG mask folder per expression."""

from visa_dataset_tinyvos.loader import TinyVOSLoader

__all__ = ["TinyVOSLoader"]
