"""The ``visa`` entry point of this package: hook implementations only."""

from visa_core import hookimpl
from visa_dataset_tinyvos.loader import TinyVOSLoader


@hookimpl
def register_datasets(registry):
    registry.add(TinyVOSLoader)
