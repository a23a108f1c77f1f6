"""The run folder: resolved config, environment record, checkpoints and their pruning.

Layout of ``output_dir``::

    visa-run.json          the run manifest: the settings a resumed run must repeat (the config
                           but its bookkeeping keys, the start model's weights digest, the process
                           count; see visa_core.run_manifest)
    config.yaml            the resolved TrainConfig
    environment.json       python and package versions, installed visa plugins, process count
    logs/                  TensorBoard event files
    checkpoints/step_000150/   accelerator.save_state output + trainer_state.json
    model/                 the final model (save_pretrained), written at the end
"""

from __future__ import annotations

import json
import logging
import platform
import shutil
from pathlib import Path
from typing import Any

from visa_core.config import TrainConfig, save_config, to_dict
from visa_core.errors import CheckpointError
from visa_core.outputs_policy import OutputPlan, inspect_output_folder
from visa_core.run_manifest import build_manifest, package_versions, weights_digest
from visa_core.weight_files import weight_file_problem

logger = logging.getLogger(__name__)

CHECKPOINT_PREFIX = "step_"
STATE_FILE = "trainer_state.json"
RESTART = "restart"
"""The ``resume`` value that empties the run folder and trains from step 0."""
BOOKKEEPING_KEYS = ("resume", "output_dir", "log_every", "save_every", "keep_last")
"""Config keys a resumed run may change: they do not change the trained weights."""


class RunFolder:
    """Paths and bookkeeping of one training run's output folder."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.checkpoints = self.root / "checkpoints"
        self.logs = self.root / "logs"
        self.model = self.root / "model"

    def inspect(self, config: TrainConfig, *, num_processes: int) -> OutputPlan:
        """How this run may use the folder (read-only, so every process can check it).

        A new or empty folder starts a run; one holding a run of the same settings resumes it;
        ``resume: restart`` empties it first; anything else is refused.

        Raises:
            OutputFolderError: the folder holds files of no run, or is a file or read-only.
            ManifestMismatchError: it holds a run of other settings; the message names the keys.
        """
        return inspect_output_folder(
            self.root,
            overwrite=config.resume == RESTART,
            manifest=run_manifest(config, num_processes),
            option="output_dir",
            restart_hint="--resume restart",
        )

    def write_run_info(self, config: TrainConfig, *, num_processes: int) -> None:
        """Write ``config.yaml`` and ``environment.json`` (package versions and plugin list)."""
        from visa_core.plugins import get_plugins

        self.root.mkdir(parents=True, exist_ok=True)
        save_config(config, self.root / "config.yaml")
        environment = {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "num_processes": num_processes,
            "packages": package_versions(),
            "plugins": [row.as_dict() for row in get_plugins().listing()],
        }
        (self.root / "environment.json").write_text(json.dumps(environment, indent=2) + "\n")

    def checkpoint_path(self, step: int) -> Path:
        return self.checkpoints / f"{CHECKPOINT_PREFIX}{step:08d}"

    def list_checkpoints(self) -> list[Path]:
        """Complete checkpoints (those with a state file), oldest first (their files unchecked)."""
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

    def latest_intact_checkpoint(self) -> Path | None:
        """The newest checkpoint whose weight and state files are intact; each newer one that is
        not (e.g. truncated by a full disk or a kill while saving) is skipped with a warning."""
        for path in reversed(self.list_checkpoints()):
            problem = checkpoint_problem(path)
            if problem is None:
                return path
            logger.warning("skipping checkpoint %s: %s", path, problem)
            print(f"warning: skipping checkpoint {path}: {problem}")
        return None

    def resolve_resume(self, resume: str) -> Path | None:
        """The checkpoint to continue from: ``auto`` (the newest intact one here, if any),
        ``never``, ``restart`` (none: the folder is emptied), or a checkpoint path.

        Raises:
            CheckpointError: ``never`` with checkpoints present, or a path that is no checkpoint
                or is damaged.
        """
        if resume == RESTART:
            return None
        if resume == "auto":
            return self.latest_intact_checkpoint()
        if resume == "never":
            if self.list_checkpoints():
                raise CheckpointError(
                    f"{self.checkpoints} already holds checkpoints and resume is 'never': choose another "
                    "output_dir, resume with --resume auto, or start over with --resume restart"
                )
            return None
        path = Path(resume)
        if not (path / STATE_FILE).is_file():
            raise CheckpointError(f"resume: {path} is not a training checkpoint (no {STATE_FILE})")
        problem = checkpoint_problem(path)
        if problem is not None:
            raise CheckpointError(f"resume: checkpoint {path} is damaged: {problem}")
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


def checkpoint_problem(checkpoint: Path) -> str | None:
    """What is wrong with a checkpoint's files (unreadable step, truncated weights or optimizer
    state), or None when they are intact."""
    try:
        read_step(checkpoint)
    except CheckpointError as error:
        return str(error)
    for file in sorted(checkpoint.rglob("*")):
        problem = weight_file_problem(file) if file.is_file() else None
        if problem is not None:
            return problem
    return None


def run_manifest(config: TrainConfig, num_processes: int) -> dict[str, Any]:
    """The run's manifest: the config without :data:`BOOKKEEPING_KEYS`, the weights digest of the
    model it starts from (``model.path``) and the process count (it sets the global batch)."""
    settings = {k: v for k, v in to_dict(config).items() if k not in BOOKKEEPING_KEYS}
    settings["data"] = {k: v for k, v in settings["data"].items() if k != "num_workers"}
    path = config.model.path
    start = weights_digest(path) if path is not None and Path(path).is_dir() else None
    settings.update(start_model_weights=start, num_processes=num_processes)
    return build_manifest("train", settings, {"output_dir": str(config.output_dir)})
