"""Run manifests: what made the files of an output folder, so that a resumed run can check it.

``OUT/visa-run.json``::

    {"command": "predict",
     "settings": {...},      compared on resume: model weights digest, selector, propagator, ...
     "recorded": {...}}      kept for the record only: model folder, package versions

A run resumes only when ``command`` and every ``settings`` field equal the earlier run's.
"""

from __future__ import annotations

import hashlib
import json
from importlib import metadata
from pathlib import Path
from typing import Any

from visa_core.errors import OutputFolderError

MANIFEST_FILE = "visa-run.json"
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pth", ".pt")
PACKAGES = (
    "visa-core", "visa-data", "visa-frame-select", "visa-propagate", "visa-eval",
    "torch", "transformers", "accelerate", "peft", "numpy", "segment-anything",
)  # fmt: skip
_CHUNK = 1 << 22


def package_version(distribution: str) -> str | None:
    """The installed version of ``distribution``, None when it is not installed."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def package_versions() -> dict[str, str | None]:
    """Versions of the VISA packages and the libraries their results depend on."""
    return {name: package_version(name) for name in PACKAGES}


def weights_digest(model_dir: str | Path) -> str | None:
    """BLAKE2b (hex, 32 characters) over the names and bytes of a folder's weight files, in name
    order; None when ``model_dir`` holds none. Reads every byte (about 1 s per GB)."""
    folder = Path(model_dir)
    files = sorted(p for p in folder.iterdir() if p.suffix in WEIGHT_SUFFIXES and p.is_file())
    if not files:
        return None
    digest = hashlib.blake2b(digest_size=16)
    for file in files:
        digest.update(file.name.encode() + b"\0")
        with file.open("rb") as stream:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()


def build_manifest(command: str, settings: dict[str, Any], recorded: dict[str, Any]) -> dict[str, Any]:
    """A manifest with the package versions added to ``recorded``; values must be JSON data."""
    return json.loads(
        json.dumps(
            {
                "command": command,
                "settings": settings,
                "recorded": {**recorded, "packages": package_versions()},
            }
        )
    )


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of ``folder``, None when it has none.

    Raises:
        OutputFolderError: the manifest is not a JSON object with ``command`` and ``settings``.
    """
    path = folder / MANIFEST_FILE
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise OutputFolderError(f"{path}: unreadable run manifest ({error})") from error
    if not isinstance(manifest, dict) or not isinstance(manifest.get("settings"), dict):
        raise OutputFolderError(f"{path}: not a run manifest (no 'command' and 'settings')")
    return manifest


def differing_fields(previous: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """``["propagator: was 'identity', now 'seg_token'", "schedule.epochs: was 2, now 3", ...]`` for
    the command and every setting that differs (nested settings by dotted key; settings present in
    only one manifest included)."""
    old = {"command": previous.get("command"), **_flat(previous.get("settings", {}))}
    new = {"command": current.get("command"), **_flat(current.get("settings", {}))}
    return [
        f"{key}: was {_short(old.get(key))}, now {_short(new.get(key))}"
        for key in sorted(set(old) | set(new), key=lambda k: (k != "command", k))
        if old.get(key) != new.get(key)
    ]


def _flat(settings: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in settings.items():
        if isinstance(value, dict) and value:
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
