"""The one output policy of every command that writes a folder.

* A new or empty folder is used (created with its parents).
* A non-empty folder is refused, naming what is in it, unless it holds a resumable run of the same
  settings (its ``visa-run.json`` manifest equals this run's, see :mod:`visa_core.run_manifest`).
* ``overwrite=True`` (``--overwrite``) empties the folder first: the only way a command deletes or
  replaces files it did not write in this run.
* A path that is a file, or that cannot be written, is refused before any work.

Multi-process runs check on every process (:func:`inspect_output_folder`, read-only, so every
process refuses alike) and let one process :meth:`OutputPlan.apply` the plan.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from visa_core.errors import ManifestMismatchError, OutputFolderError
from visa_core.run_manifest import MANIFEST_FILE, differing_fields, read_manifest

SHOWN_ENTRIES = 5
"""Entries of a refused folder named in the message."""


@dataclass(frozen=True)
class OutputPlan:
    """What claiming an output folder does: ``create`` (new or empty), ``resume`` (an earlier run
    of the same settings) or ``replace`` (``--overwrite``: its contents are deleted first)."""

    path: Path
    action: Literal["create", "resume", "replace"]
    manifest: dict[str, Any] | None

    @property
    def resumed(self) -> bool:
        return self.action == "resume"

    def apply(self) -> OutputPlan:
        """Carry the plan out: empty the folder when replacing, create it, write the manifest."""
        if self.action == "replace":
            for entry in self.path.iterdir():
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
        self.path.mkdir(parents=True, exist_ok=True)
        if self.manifest is not None and self.action != "resume":
            (self.path / MANIFEST_FILE).write_text(json.dumps(self.manifest, indent=2) + "\n")
        return self


def check_writable_folder(path: Path, option: str = "--out") -> None:
    """Raise :class:`OutputFolderError` when ``path`` is a file or cannot be created or written
    (a folder without any write permission bit counts as read-only, also for root)."""
    if path.exists() and not path.is_dir():
        raise OutputFolderError(f"{option} {path} is a file, not a folder")
    existing = next(p for p in (path, *path.parents) if p.exists() or p == p.parent)
    if not existing.is_dir():
        raise OutputFolderError(f"{option} {path}: {existing} is a file, so the folder cannot be created")
    if not os.access(existing, os.W_OK | os.X_OK) or not existing.stat().st_mode & 0o222:
        where = "is read-only" if existing == path else f"cannot be created: {existing} is read-only"
        raise OutputFolderError(f"{option} {path} {where}")


def describe_contents(path: Path, limit: int = SHOWN_ENTRIES) -> str:
    """``"a.json, masks/, ... (12 entries)"``: the first ``limit`` entries of a folder, sorted."""
    entries = sorted(path.iterdir())
    names = [f"{e.name}/" if e.is_dir() else e.name for e in entries[:limit]]
    more = f", ... ({len(entries)} entries)" if len(entries) > limit else ""
    return ", ".join(names) + more


def inspect_output_folder(
    path: str | Path,
    *,
    overwrite: bool = False,
    manifest: dict[str, Any] | None = None,
    option: str = "--out",
    restart_hint: str = "--overwrite",
) -> OutputPlan:
    """Decide, without writing, how a command may use ``path`` (see the module docstring).

    Args:
        manifest: this run's manifest for a resumable command (None: the command never resumes).
        option: how the user named the folder, for the messages (``--out``, ``OUT``, ``output_dir``).
        restart_hint: how the user says ``overwrite`` (``--overwrite``, ``--resume restart``).

    Raises:
        OutputFolderError: a file, an unwritable path, or a non-empty folder without ``overwrite``.
        ManifestMismatchError: the folder holds a run of other settings (the fields are named).
    """
    path = Path(path)
    check_writable_folder(path, option)
    if not path.is_dir() or not any(path.iterdir()):
        return OutputPlan(path, "create", manifest)
    if overwrite:
        _refuse_replacing_a_parent_of_the_working_folder(path, option)
        return OutputPlan(path, "replace", manifest)
    previous = read_manifest(path) if manifest is not None else None
    if previous is None:
        resumable = "" if manifest is None else " and holds no run of this command to resume"
        raise OutputFolderError(
            f"{option} {path} is not empty ({describe_contents(path)}){resumable}; choose a new or "
            f"empty folder, or pass {restart_hint} to delete its contents first"
        )
    assert manifest is not None
    fields = differing_fields(previous, manifest)
    if fields:
        raise ManifestMismatchError(
            f"{option} {path} holds a run made with other settings ({'; '.join(fields)}); rerun with "
            f"the same settings to resume it, pass {restart_hint} to start over, or choose another folder"
        )
    return OutputPlan(path, "resume", manifest)


def claim_output_folder(path: str | Path, **options: Any) -> OutputPlan:
    """:func:`inspect_output_folder` (same keyword options) and apply the plan (one process)."""
    return inspect_output_folder(path, **options).apply()


def _refuse_replacing_a_parent_of_the_working_folder(path: Path, option: str) -> None:
    resolved = path.resolve()
    protected = [Path.cwd().resolve(), Path.home().resolve()]
    if any(resolved == p or resolved in p.parents for p in protected):
        raise OutputFolderError(
            f"{option} {path} holds the current or home folder; --overwrite would delete it: "
            "choose a dedicated output folder"
        )
