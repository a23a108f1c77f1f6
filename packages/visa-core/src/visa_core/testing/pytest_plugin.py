"""pytest fixtures shipped with visa-core (loaded automatically through the ``pytest11`` entry point).

Import-light on purpose: pytest imports this module at start-up in every environment that has
visa-core installed; the model code is imported when a fixture is first used.
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_visa_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised ``tiny`` VISA model folder (config, weights, tokenizer), seed 0."""
    from visa_core.model.folders import init_model_folder

    folder = tmp_path_factory.mktemp("tiny-visa-model")
    init_model_folder("tiny", folder, seed=0)
    return folder
