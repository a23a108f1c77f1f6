"""Test kit for VISA plugin authors: synthetic videos and contract test classes (needs pytest:
``pip install visa-core[test]``).

Subclass a contract in your plugin's tests and provide the fixture it names::

    from visa_core.testing import PropagatorContract

    class TestMyPropagator(PropagatorContract):
        component_name = "my_propagator"

        @pytest.fixture
        def propagator(self):
            return visa_core.build("propagator", "my_propagator")
"""

from visa_core.testing.contracts import (
    DatasetLoaderContract,
    FrameSelectorContract,
    MetricContract,
    PropagatorContract,
)
from visa_core.testing.decoders import ColourDecoder, run_with_fitted_decoder
from visa_core.testing.imports import HEAVY_MODULES, modules_imported_by
from visa_core.testing.synthetic import moving_squares

__all__ = [
    "HEAVY_MODULES",
    "ColourDecoder",
    "DatasetLoaderContract",
    "FrameSelectorContract",
    "MetricContract",
    "PropagatorContract",
    "modules_imported_by",
    "moving_squares",
    "run_with_fitted_decoder",
]
