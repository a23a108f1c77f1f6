"""Checking a model folder before loading it: config, weights (present, intact, every tensor the
model has with its shape, none else) and tokenizer (present, with ``[SEG]`` at the config's id).

The weights are checked from their safetensors headers against the model built on the ``meta``
device, so nothing is read or allocated at full size; a problem is a ``CheckpointError`` naming the
file and the tensors, instead of a transformers traceback or a random re-initialisation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from visa_core.errors import CheckpointError
from visa_core.model.templates import SEG_TOKEN
from visa_core.weight_files import read_safetensors_header

TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model")
SHOWN_NAMES = 5


def validate_model_folder(model_dir: str | Path) -> None:
    """Raise :class:`CheckpointError` naming what makes ``model_dir`` unusable as a VISA model folder."""
    folder = Path(model_dir)
    if not folder.is_dir():
        raise CheckpointError(f"{folder}: no such model folder")
    config = _read_config(folder)
    found = _saved_tensor_shapes(folder)
    if found is not None:
        _compare_tensors(folder, found, _expected_tensor_shapes(config))
    _check_tokenizer(folder, config)


def _read_config(folder: Path) -> Any:
    from visa_core.model.configuration import VisaConfig

    path = folder / "config.json"
    if not path.is_file():
        hint = (
            "; it is a training checkpoint folder: use the run's model/ folder"
            if (folder / "trainer_state.json").is_file()
            else ""
        )
        raise CheckpointError(f"{folder} is not a VISA model folder (no config.json){hint}")
    try:
        raw = json.loads(path.read_text())
    except ValueError as error:
        raise CheckpointError(f"{path}: invalid JSON ({error})") from None
    if not isinstance(raw, dict) or raw.get("model_type") != VisaConfig.model_type:
        kind = raw.get("model_type") if isinstance(raw, dict) else None
        raise CheckpointError(
            f"{path}: model_type {kind!r}, not {VisaConfig.model_type!r}; convert the checkpoint with "
            "visa convert-checkpoint"
        )
    try:
        return VisaConfig.from_pretrained(str(folder))
    except (TypeError, ValueError, KeyError) as error:
        raise CheckpointError(f"{path}: not a valid VISA configuration ({error})") from None


def _saved_tensor_shapes(folder: Path) -> dict[str, tuple[int, ...]] | None:
    """Tensor name -> shape over the folder's safetensors files (None: only ``.bin`` weights,
    whose names cannot be read without loading them)."""
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        try:
            files = sorted({folder / name for name in json.loads(index.read_text())["weight_map"].values()})
        except (ValueError, KeyError, TypeError) as error:
            raise CheckpointError(f"{index}: not a safetensors shard index ({error})") from None
    else:
        files = sorted(folder.glob("*.safetensors"))
    if not files:
        if any(folder.glob("*.bin")):
            return None
        raise CheckpointError(f"{folder}: no weight files (model.safetensors or *.bin)")
    shapes: dict[str, tuple[int, ...]] = {}
    for file in files:
        if not file.is_file():
            raise CheckpointError(f"{file}: listed in {index.name} but missing")
        try:
            header = read_safetensors_header(file)
        except (OSError, ValueError, KeyError, TypeError, IndexError) as error:
            raise CheckpointError(f"{file}: cannot read weights ({error})") from None
        shapes.update((name, tuple(entry["shape"])) for name, entry in header.items())
    return shapes


def _expected_tensor_shapes(config: Any) -> dict[str, tuple[int, ...]]:
    """The state-dict shapes of the model ``config`` describes (built on the meta device)."""
    import torch

    from visa_core.model.modeling import VisaForSegmentation

    with torch.device("meta"):
        model = VisaForSegmentation(config)
    shapes = {name: tuple(tensor.shape) for name, tensor in model.state_dict().items()}
    if config.text_config.tie_word_embeddings:
        shapes.pop("language_model.lm_head.weight", None)
    return shapes


def _compare_tensors(
    folder: Path, found: dict[str, tuple[int, ...]], expected: dict[str, tuple[int, ...]]
) -> None:
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    reshaped = [
        f"{name} {list(found[name])} (the config needs {list(expected[name])})"
        for name in sorted(set(found) & set(expected))
        if found[name] != expected[name]
    ]
    problems = [
        f"{len(names)} {what}: {_names(names)}"
        for what, names in (
            ("tensors missing", missing),
            ("tensors the model does not have", extra),
            ("tensors of the wrong shape", reshaped),
        )
        if names
    ]
    if problems:
        raise CheckpointError(f"{folder}: the weights do not match config.json: " + "; ".join(problems))


def _check_tokenizer(folder: Path, config: Any) -> None:
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise CheckpointError(
            f"{folder}: no tokenizer ({' or '.join(TOKENIZER_FILES)}); copy the tokenizer of the "
            "checkpoint into the folder (visa export and visa convert-checkpoint write it)"
        )
    from transformers import AutoTokenizer

    try:
        vocab = AutoTokenizer.from_pretrained(str(folder)).get_vocab()
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise CheckpointError(f"{folder}: cannot load the tokenizer ({error})") from None
    if SEG_TOKEN not in vocab:
        raise CheckpointError(
            f"{folder}: the tokenizer has no {SEG_TOKEN} token, so the model could never segment; "
            f"write the folder with visa init-model, visa export or visa convert-checkpoint"
        )
    if vocab[SEG_TOKEN] != config.seg_token_id:
        raise CheckpointError(
            f"{folder}: the tokenizer's {SEG_TOKEN} is token {vocab[SEG_TOKEN]} but config.json's "
            f"seg_token_id is {config.seg_token_id}"
        )


def _names(names: list[str]) -> str:
    more = f", ... ({len(names)} in all)" if len(names) > SHOWN_NAMES else ""
    return ", ".join(names[:SHOWN_NAMES]) + more
