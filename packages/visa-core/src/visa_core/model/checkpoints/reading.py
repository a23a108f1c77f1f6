"""Reading state dicts from a file or a model folder (safetensors or torch ``.bin``, sharded or not)."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from visa_core.errors import CheckpointError

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pth", ".pt")


def weight_files(path: Path) -> list[Path]:
    """The weight files of a folder (from its shard index when there is one) or the file itself."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise CheckpointError(f"{path}: no such checkpoint file or folder")
    for index_name in ("model.safetensors.index.json", "pytorch_model.bin.index.json"):
        index = path / index_name
        if index.is_file():
            shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
            return [path / shard for shard in shards]
    files = sorted(p for p in path.iterdir() if p.suffix in WEIGHT_SUFFIXES and p.is_file())
    safetensors = [p for p in files if p.suffix == ".safetensors"]
    files = safetensors or files
    if not files:
        raise CheckpointError(f"{path}: no weight files (*.safetensors, *.bin, *.pth)")
    return files


def load_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Every tensor of a checkpoint file or folder, merged over its shards (CPU)."""
    state: dict[str, torch.Tensor] = {}
    for file in weight_files(Path(path)):
        try:
            if file.suffix == ".safetensors":
                from safetensors.torch import load_file

                part = load_file(str(file))
            else:
                part = torch.load(file, map_location="cpu", weights_only=True, mmap=True)
        except Exception as error:  # corrupt or foreign files: name the file
            raise CheckpointError(f"{file}: cannot read weights ({error})") from error
        if isinstance(part, dict) and "state_dict" in part and isinstance(part["state_dict"], dict):
            part = part["state_dict"]
        if not isinstance(part, dict):
            raise CheckpointError(f"{file}: expected a state dict, got {type(part).__name__}")
        state.update(part)
    return state


def read_json(path: Path) -> dict:
    """A JSON object, or an empty dict when the file does not exist."""
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise CheckpointError(f"{path}: invalid JSON ({error})") from error
