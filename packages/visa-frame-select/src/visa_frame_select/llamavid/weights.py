"""Reading LLaMA-VID's published weights and loading them by their key names.

* the model folder (``llama-vid-13b-full-224-video-fps-1``): ``config.json``, the LLaMA
  tokenizer, and ``pytorch_model.bin.index.json`` + ``pytorch_model-*.bin`` shards (also a single
  ``pytorch_model.bin``, or ``model.safetensors`` [+ index]); keys ``model.embed_tokens``,
  ``model.layers.*``, ``model.norm``, ``lm_head`` (LLaMA), ``model.mm_projector.*`` and
  ``model.vlm_att_{encoder,query,projector,key_projector,val_projector,ln}*``;
* the vision tower file ``eva_vit_g.pth`` (a flat state dict, keys of :mod:`.eva_vit`);
* the Q-Former geometry and tokenizer come from a ``bert-base-uncased`` folder.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import torch

from visa_core import CheckpointError

LANGUAGE_PREFIXES = ("model.embed_tokens.", "model.layers.", "model.norm.", "lm_head.")
VIDEO_PREFIXES = ("model.mm_projector.", "model.vlm_att_")
IGNORED_KEYS = (
    re.compile(r"^model\.layers\.\d+\.self_attn\.rotary_emb\.inv_freq$"),  # transformers 4.31 buffers
    re.compile(r"^model\.vlm_att_encoder\.bert\.embeddings\.position_ids$"),  # BERT buffer
    re.compile(r"^model\.vision_tower\."),  # a tower saved with the model; the tower file is used
)
"""Keys a published file may hold that carry no weights this implementation needs."""

LISTED_KEYS = 12
"""Key names quoted in an error message before "... and N more"."""


def shard_files(folder: Path) -> list[Path]:
    """The weight files of a model folder, from its index when there is one."""
    for index_name in ("pytorch_model.bin.index.json", "model.safetensors.index.json"):
        index = folder / index_name
        if index.is_file():
            try:
                weight_map = json.loads(index.read_text())["weight_map"]
            except (OSError, ValueError, KeyError) as error:
                raise CheckpointError(f"LLaMA-VID: cannot read the weight index {index}: {error}") from error
            files = [folder / name for name in sorted(set(weight_map.values()))]
            absent = [str(path) for path in files if not path.is_file()]
            if absent:
                raise CheckpointError(f"LLaMA-VID: {index} names missing shards: {', '.join(absent)}")
            return files
    for name in ("model.safetensors", "pytorch_model.bin"):
        if (folder / name).is_file():
            return [folder / name]
    raise CheckpointError(
        f"LLaMA-VID: {folder} has no weights "
        "(pytorch_model.bin[.index.json] or model.safetensors[.index.json])"
    )


def read_tensors(path: Path) -> dict[str, torch.Tensor]:
    """One weights file (``.safetensors``, or a torch pickle read with ``weights_only``)."""
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(path)
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as error:  # torch and safetensors raise many types for a bad file
        raise CheckpointError(f"LLaMA-VID: cannot read weights from {path}: {error}") from error
    if isinstance(state, Mapping) and "model" in state and not isinstance(state["model"], torch.Tensor):
        state = state["model"]
    if not isinstance(state, Mapping):
        raise CheckpointError(f"LLaMA-VID: {path} does not hold a state dict")
    return dict(state)


def model_tensors(folder: Path) -> Iterator[tuple[str, torch.Tensor]]:
    """Every tensor of the model folder's weight files, shard after shard."""
    for path in shard_files(folder):
        yield from read_tensors(path).items()


def _listed(keys: Iterable[str]) -> str:
    keys = sorted(keys)
    shown = ", ".join(keys[:LISTED_KEYS])
    return shown + (f" ... and {len(keys) - LISTED_KEYS} more" if len(keys) > LISTED_KEYS else "")


def load_exact(
    module: torch.nn.Module,
    tensors: Mapping[str, torch.Tensor],
    source: str,
    *,
    dtype: torch.dtype,
    device: str | torch.device,
) -> None:
    """Load ``tensors`` into ``module`` (built on the meta device) by exact names and shapes.

    Raises CheckpointError naming ``source`` and listing missing keys, unexpected keys and shape
    mismatches. Tensors are assigned (cast to ``dtype`` when floating) without a second copy.
    """
    expected = module.state_dict()
    missing = set(expected) - set(tensors)
    unexpected = set(tensors) - set(expected)
    wrong = [
        f"{key} {tuple(tensors[key].shape)} (expected {tuple(expected[key].shape)})"
        for key in set(expected) & set(tensors)
        if tensors[key].shape != expected[key].shape
    ]
    problems = []
    if missing:
        problems.append(f"missing keys: {_listed(missing)}")
    if unexpected:
        problems.append(f"unexpected keys: {_listed(unexpected)}")
    if wrong:
        problems.append(f"shape mismatches: {_listed(wrong)}")
    if problems:
        raise CheckpointError(f"LLaMA-VID: {source} does not fit the network; " + "; ".join(problems))
    cast = {
        key: value.to(device=device, dtype=dtype if value.is_floating_point() else value.dtype)
        for key, value in tensors.items()
    }
    module.load_state_dict(cast, strict=True, assign=True)


def split_model_tensors(
    tensors: Iterable[tuple[str, torch.Tensor]], source: Path
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """``(language_model, video_tokenizer)`` state dicts from the model folder's tensors
    (the video ones without their ``model.`` prefix); unknown keys raise CheckpointError."""
    language: dict[str, torch.Tensor] = {}
    video: dict[str, torch.Tensor] = {}
    unknown = []
    for key, value in tensors:
        if any(pattern.match(key) for pattern in IGNORED_KEYS):
            continue
        if key.startswith(LANGUAGE_PREFIXES):
            language[key] = value
        elif key.startswith(VIDEO_PREFIXES):
            video[key.removeprefix("model.")] = value
        else:
            unknown.append(key)
    if unknown:
        raise CheckpointError(f"LLaMA-VID: {source} has unexpected keys: {_listed(unknown)}")
    return language, video


def vision_tower_tensors(path: Path, depth: int) -> tuple[dict[str, torch.Tensor], list[str]]:
    """The EVA tower state dict for ``depth`` blocks, and the block keys past it that are left out
    (LLaMA-VID builds 39 blocks and loads the file non-strictly)."""
    if not path.is_file():
        raise CheckpointError(f"LLaMA-VID: vision tower file {path} does not exist")
    state = read_tensors(path)
    for required in ("cls_token", "pos_embed", "patch_embed.proj.weight", "blocks.0.mlp.fc1.weight"):
        if required not in state:
            raise CheckpointError(
                f"LLaMA-VID: {path} is not an EVA ViT state dict (no {required}); keys: {_listed(state)}"
            )
    block = re.compile(r"^blocks\.(\d+)\.")
    dropped = [key for key in state if (m := block.match(key)) and int(m.group(1)) >= depth]
    return {k: v for k, v in state.items() if k not in set(dropped)}, dropped
