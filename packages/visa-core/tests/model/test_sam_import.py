from __future__ import annotations

import subprocess
import sys

from visa_core.testing import modules_imported_by


def test_sam_modeling_imports_without_torchvision_or_package_init():
    code = (
        "import sys\n"
        "from visa_core.model.sam_import import import_sam_modeling\n"
        "m = import_sam_modeling()\n"
        "assert all(hasattr(m, n) for n in ('Sam', 'ImageEncoderViT', 'PromptEncoder', 'MaskDecoder'))\n"
        "assert 'torchvision' not in sys.modules\n"
        "assert 'segment_anything.predictor' not in sys.modules\n"
        "assert import_sam_modeling() is m\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_top_level_package_and_commands_stay_light():
    statement = "import visa_core, visa_core.cli.model_commands, visa_core.builtin"
    assert modules_imported_by(statement, ("torch", "transformers", "peft")) == []
