"""The run folder: resolved config, environment record, checkpoints and their pruning.

Layout of ``output_dir``::

    config.yaml            the resolved TrainConfig
    environment.json       python and package versions, installed visa plugins, process count
    logs/                  TensorBoard event files
    checkpoints/step_000150/   accelerator.save_state output + trainer_state.json
    model/                 the final model (save_pretrained), written at the end
"""

from __future__ import annotations

import json
import platform
import shutil
from importlib import metadata
from pathlib import Path
from typing import Any

from visa_core.config import TrainConfig, save_config
from visa_core.errors import CheckpointError

CHECKPOINT_PREFIX = "step_"
STATE_FILE = "trainer_state.json"
PACKAGES = (
    "visa-core", "visa-data", "visa-frame-select", "visa-propagate", "visa-eval",
    "torch", "transformers", "accelerate", "peft", "numpy", "segment-anything",
)  # fmt: skip


class RunFolder:
    """Paths and bookkeeping of one training run's output folder."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.checkpoints = self.root / "checkpoints"
        self.logs = self.root / "logs"
        self.model = self.root / "model"

    def write_run_info(self, config: TrainConfig, *, num_processes: int) -> None:
        """Write ``config.yaml`` and ``environment.json`` (package versions and plugin list)."""
        from visa_core.plugins import get_plugins

        self.root.mkdir(parents=True, exist_ok=True)
        save_config(config, self.root / "config.yaml")
        environment = {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "num_processes": num_processes,
            "packages": {name: _version(name) for name in PACKAGES},
            "plugins": [row.as_dict() for row in get_plugins().listing()],
        }
        (self.root / "environment.json").write_text(json.dumps(environment, indent=2) + "\n")

    def checkpoint_path(self, step: int) -> Path:
        return self.checkpoints / f"{CHECKPOINT_PREFIX}{step:08d}"

    def list_checkpoints(self) -> list[Path]:
        """Complete checkpoints (those with a state file), oldest first."""
        if not self.checkpoints.is_dir():
            return []
        found = [
            path
            for path in self.checkpoints.iterdir()
            if path.name.startswith(CHECKPOINT_PREFIX) and (path / STATE_FILE).is_file()
        ]
        return sorted(found, key=lambda path: read_step(path))

    def latest_checkpoint(self) -> Path | None:
        checkpoints = self.list_checkpoints()
        return checkpoints[-1] if checkpoints else None

    def resolve_resume(self, resume: str) -> Path | None:
        """The checkpoint to continue from: ``auto`` (newest here, if any), ``never``, or a path.

        Raises:
            CheckpointError: ``never`` with checkpoints present, or a path that is no checkpoint.
        """
        if resume == "auto":
            return self.latest_checkpoint()
        if resume == "never":
            if self.list_checkpoints():
                raise CheckpointError(
                    f"{self.checkpoints} already holds checkpoints and resume is 'never': choose another "
                    "output_dir, delete them, or resume with --resume auto"
                )
            return None
        path = Path(resume)
        if not (path / STATE_FILE).is_file():
            raise CheckpointError(f"resume: {path} is not a training checkpoint (no {STATE_FILE})")
        return path

    def mark_saved(self, path: Path, step: int) -> None:
        """Write the state file that makes ``path`` a complete checkpoint of ``step``."""
        (path / STATE_FILE).write_text(json.dumps({"step": step}) + "\n")

    def prune(self, keep_last: int) -> list[Path]:
        """Delete all but the newest ``keep_last`` complete checkpoints; return the deleted paths."""
        checkpoints = self.list_checkpoints()
        doomed = checkpoints[: max(len(checkpoints) - keep_last, 0)]
        for path in doomed:
            shutil.rmtree(path)
        return doomed


def read_step(checkpoint: Path) -> int:
    """The optimizer step a checkpoint was saved at."""
    try:
        state: Any = json.loads((checkpoint / STATE_FILE).read_text())
        return int(state["step"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CheckpointError(f"{checkpoint / STATE_FILE}: cannot read the step ({error})") from error


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None
