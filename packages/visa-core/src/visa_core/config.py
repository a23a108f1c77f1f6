"""Typed training configuration: nested frozen dataclasses, YAML files and command-line overrides.

A config file is the YAML form of :class:`TrainConfig` (every key optional, defaults fill the
rest); ``--section.key value`` arguments override it, the value being parsed as YAML
(``--optim.lr 1e-4``, ``--lora.target_modules '[q_proj, v_proj]'``). An unknown key, a value of
the wrong type or a malformed override raises :class:`ConfigError` naming the key.

Defaults reproduce the original VISA recipe (``train_ds.py`` / ``scripts/train_7b.sh``) except
where a field says otherwise. Importing this module is cheap (no torch).
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml

from visa_core.errors import VisaError

T = TypeVar("T")


class ConfigError(VisaError, ValueError):
    """A configuration key that does not exist, a value of the wrong type, or a bad override."""


# ---------------------------------------------------------------------------------------------
# The schema
# ---------------------------------------------------------------------------------------------


ENCODERS = ("vision_tower", "mm_projector", "sam.image_encoder", "sam.prompt_encoder")
"""The model's encoders (module names): the CLIP tower, the projector, SAM's image and prompt encoders."""


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Which model to train: a saved model folder (``path``) or a named preset built from scratch.

    ``path`` (a ``save_pretrained`` folder with its tokenizer) wins when set; otherwise ``preset``
    (``tiny``, ``visa-7b``, ``visa-13b`` of ``visa_core.model.preset_config``) is built with random
    weights, which only ``tiny`` can train (it has a built-in tokenizer). ``frozen_encoders``: which
    of :data:`ENCODERS` stay frozen (the original: all four); the others train, as a model built
    from random weights needs.
    """

    path: Path | None = None
    preset: str | None = "tiny"
    frozen_encoders: tuple[str, ...] = ENCODERS
    gradient_checkpointing: bool = False

    def __post_init__(self) -> None:
        if self.path is None and self.preset is None:
            raise ConfigError("model: set either model.path (a saved model folder) or model.preset")
        unknown = sorted(set(self.frozen_encoders) - set(ENCODERS))
        if unknown:
            raise ConfigError(f"model.frozen_encoders: unknown {unknown}; the encoders are {list(ENCODERS)}")


@dataclasses.dataclass(frozen=True)
class LoraConfig:
    """LoRA on the LLM (the original: r 8, alpha 16, dropout 0.05 on q_proj/v_proj).

    With ``enabled: false`` the whole LLM is trained instead (the tiny from-scratch run).
    """

    enabled: bool = True
    r: int = 8
    alpha: int = 16
    dropout: float = 0.05
    target_modules: tuple[str, ...] = ("q_proj", "v_proj")


@dataclasses.dataclass(frozen=True)
class LossWeights:
    """``loss = ce * lm_loss + bce * mask_bce_loss + dice * mask_dice_loss`` (original weights)."""

    ce: float = 1.0
    bce: float = 2.0
    dice: float = 0.5


@dataclasses.dataclass(frozen=True)
class OptimConfig:
    """AdamW and gradient clipping (max L2 norm of all gradients; 0 disables)."""

    lr: float = 3e-4
    betas: tuple[float, float] = (0.9, 0.95)
    weight_decay: float = 0.0
    grad_clip: float = 1.0


@dataclasses.dataclass(frozen=True)
class ScheduleConfig:
    """Run length and learning-rate schedule: linear warm-up from 0, then linear decay to 0.

    One *step* is one optimizer update, i.e. ``batch_size * grad_accumulation_steps * processes``
    samples (the original: 1 x 16 x 8 GPUs = 128). ``epochs`` only group steps for checkpoints.
    """

    epochs: int = 10
    steps_per_epoch: int = 1500
    warmup_steps: int = 100
    batch_size: int = 1
    grad_accumulation_steps: int = 16

    @property
    def total_steps(self) -> int:
        return self.epochs * self.steps_per_epoch


@dataclasses.dataclass(frozen=True)
class MixtureEntry:
    """One dataset of the training mixture: a registered dataset name, its options, a weight.

    ``options`` go to ``visa_core.build("dataset", dataset, **options)`` (e.g. ``root``,
    ``split``). ``weight`` is relative: a sample comes from this dataset with probability
    ``weight / sum(weights)``.
    """

    dataset: str
    weight: float = 1.0
    options: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.weight > 0:
            raise ConfigError(f"data.mixture: dataset {self.dataset!r} has weight {self.weight}; must be > 0")


@dataclasses.dataclass(frozen=True)
class ClipSamplerConfig:
    """How a training clip is drawn from a sample (the original's ``RVOSDataset``).

    ``min_frames``..``max_frames`` reference frames (inclusive, uniform choice), picked by
    ``policy``: ``uniform`` (one random frame per equal segment) or ``random`` (distinct random
    frames, sorted). The target frame is a random annotated frame among them. With probability
    ``absent_target_prob`` the target frame is replaced by a frame of another video and the mask
    emptied (an "object absent" negative). ``queries_per_sample``: up to this many queries of the
    same video share those frames, one conversation each (the original's ``num_classes_per_sample``,
    3); the frames are encoded once for all of them.
    """

    min_frames: int = 8
    max_frames: int = 12
    policy: Literal["uniform", "random"] = "uniform"
    absent_target_prob: float = 0.05
    queries_per_sample: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.min_frames <= self.max_frames:
            raise ConfigError(
                f"data.clip: need 1 <= min_frames <= max_frames, got {self.min_frames}, {self.max_frames}"
            )
        if not 0.0 <= self.absent_target_prob <= 1.0:
            raise ConfigError(
                f"data.clip.absent_target_prob must lie in [0, 1], got {self.absent_target_prob}"
            )
        if self.queries_per_sample < 1:
            raise ConfigError(f"data.clip.queries_per_sample must be >= 1, got {self.queries_per_sample}")


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """The weighted dataset mixture, the clip sampler and DataLoader workers."""

    mixture: tuple[MixtureEntry, ...] = ()
    clip: ClipSamplerConfig = dataclasses.field(default_factory=ClipSamplerConfig)
    num_workers: int = 0


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything a training run needs; saved as ``config.yaml`` in the run folder.

    ``mixed_precision``: ``bf16`` / ``fp16`` on GPU; on CPU the run always uses fp32 (``no``).
    ``cpu_threads``: torch's intra-op threads per process on CPU runs (None: torch's default);
    a tiny model's tensors are small enough that one thread per process can be the faster choice.
    The thread count changes the order of float sums, so runs that differ in it differ in their
    last digits, and a long from-scratch run can end far apart: pin it to reproduce a run.
    ``save_every`` / ``log_every`` are in optimizer steps (``save_every`` 0: an epoch);
    ``keep_last`` checkpoints are kept. ``resume``: ``auto`` continues from the newest checkpoint
    in ``output_dir`` when there is one, ``never`` starts afresh (refusing a folder that holds
    checkpoints), or a checkpoint folder to continue from.
    """

    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    lora: LoraConfig = dataclasses.field(default_factory=LoraConfig)
    loss: LossWeights = dataclasses.field(default_factory=LossWeights)
    optim: OptimConfig = dataclasses.field(default_factory=OptimConfig)
    schedule: ScheduleConfig = dataclasses.field(default_factory=ScheduleConfig)
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    output_dir: Path = Path("runs/visa")
    seed: int = 0
    mixed_precision: Literal["bf16", "fp16", "no"] = "bf16"
    cpu: bool = False
    cpu_threads: int | None = None
    save_every: int = 0
    keep_last: int = 2
    log_every: int = 1
    resume: str = "auto"

    def __post_init__(self) -> None:
        for name in ("keep_last", "log_every"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.cpu_threads is not None and self.cpu_threads < 1:
            raise ConfigError(f"cpu_threads must be >= 1 (or null), got {self.cpu_threads}")

    @property
    def checkpoint_interval(self) -> int:
        return self.save_every or self.schedule.steps_per_epoch


# ---------------------------------------------------------------------------------------------
# Dataclass <-> plain data
# ---------------------------------------------------------------------------------------------


def from_dict(cls: type[T], data: Mapping[str, Any], *, where: str = "") -> T:
    """Build the dataclass ``cls`` from plain data (as loaded from YAML), checking every key and type.

    Missing keys take their defaults. Raises ConfigError naming the dotted key on any mismatch.
    """
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where or 'config'}: expected a mapping of keys, got {_describe(data)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    for key in data:
        if key not in fields:
            raise ConfigError(_unknown_key_message(_join(where, str(key)), str(key), list(fields)))
    values = {key: _convert(hints[key], value, _join(where, key)) for key, value in data.items()}
    try:
        return cls(**values)
    except ConfigError:
        raise
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{where or 'config'}: {error}") from error


def to_dict(config: Any) -> Any:
    """Plain YAML-ready data of a config: dataclasses -> dicts, tuples -> lists, paths -> strings."""
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        return {f.name: to_dict(getattr(config, f.name)) for f in dataclasses.fields(config) if f.init}
    if isinstance(config, Mapping):
        return {str(key): to_dict(value) for key, value in config.items()}
    if isinstance(config, (list, tuple)):
        return [to_dict(value) for value in config]
    if isinstance(config, Path):
        return str(config)
    return config


def load_config(path: str | Path | None = None, overrides: Sequence[str] = ()) -> TrainConfig:
    """A TrainConfig from a YAML file (or the defaults) with ``--key value`` overrides applied."""
    data: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        try:
            loaded = yaml.safe_load(path.read_text())
        except FileNotFoundError as error:
            raise ConfigError(f"config file {path} does not exist") from error
        except yaml.YAMLError as error:
            raise ConfigError(f"config file {path} is not valid YAML: {error}") from error
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"config file {path}: expected a mapping at the top, got {_describe(loaded)}")
        data = loaded or {}
    data = apply_overrides(TrainConfig, data, overrides)
    try:
        return from_dict(TrainConfig, data)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}" if path else str(error)) from None


def save_config(config: Any, path: str | Path) -> None:
    """Write ``config`` as YAML (the form :func:`load_config` reads back)."""
    Path(path).write_text(yaml.safe_dump(to_dict(config), sort_keys=False))


def apply_overrides(cls: type, data: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Merge ``["--optim.lr", "1e-4", "--seed=3", ...]`` into the plain data of a ``cls`` config.

    Values are parsed as YAML. The dotted key must name a field of ``cls`` (nested sections
    included); a section is replaced only where the override names it whole.
    """
    data = _deep_copy(data)
    for key, raw in _pairs(overrides):
        target = data
        owner: Any = cls
        parts = key.split(".")
        for depth, part in enumerate(parts):
            names = [f.name for f in dataclasses.fields(owner)] if _is_dataclass_type(owner) else None
            if names is None:
                raise ConfigError(f"override --{key}: {'.'.join(parts[:depth])} has no sub-keys")
            if part not in names:
                raise ConfigError(_unknown_key_message(".".join(parts[: depth + 1]), part, names))
            owner = typing.get_type_hints(owner)[part]
            if depth == len(parts) - 1:
                target[part] = _parse_value(raw, key)
            else:
                section = target.get(part)
                if not isinstance(section, dict):
                    section = {}
                    target[part] = section
                target = section
    return data


def format_schema(cls: type = TrainConfig, prefix: str = "") -> list[str]:
    """Lines ``--key (type, default value)`` for every leaf field of a config class, for ``--help``."""
    lines: list[str] = []
    hints = typing.get_type_hints(cls)
    instance = cls() if all(_has_default(f) for f in dataclasses.fields(cls)) else None
    for field in dataclasses.fields(cls):
        annotation = hints[field.name]
        name = _join(prefix, field.name)
        if _is_dataclass_type(annotation):
            lines.extend(format_schema(annotation, name))
            continue
        default = to_dict(getattr(instance, field.name)) if instance is not None else "required"
        lines.append(f"--{name} ({_type_name(annotation)}, default {default!r})")
    return lines


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _convert(annotation: Any, value: Any, where: str) -> Any:
    """Check ``value`` against ``annotation`` and convert it (lists -> tuples, str -> Path, ...)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return _convert(option, value, where)
            except ConfigError as error:
                errors.append(str(error))
        raise ConfigError(
            errors[0] if len(errors) == 1 else f"{where}: {_describe(value)} fits no allowed type"
        )
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{where}: {value!r} is not one of {', '.join(map(repr, args))}")
        return value
    if _is_dataclass_type(annotation):
        return from_dict(annotation, value, where=where)
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {_describe(value)}")
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                raise ConfigError(f"{where}: expected {len(args)} values, got {len(value)}")
            pairs = enumerate(zip(args, value, strict=True))
            items = [_convert(a, v, f"{where}[{i}]") for i, (a, v) in pairs]
        else:
            item_type = args[0] if args else Any
            items = [_convert(item_type, v, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a mapping, got {_describe(value)}")
        return {str(k): _convert(args[1] if args else Any, v, f"{where}.{k}") for k, v in value.items()}
    if annotation is Path:
        if not isinstance(value, (str, Path)):
            raise ConfigError(f"{where}: expected a path, got {_describe(value)}")
        return Path(value)
    if annotation is float:
        if isinstance(value, str):  # YAML 1.1 reads "3e-4" (no dot) as a string
            value = _float_or_none(value) if _float_or_none(value) is not None else value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {_describe(value)}")
        return float(value)
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {_describe(value)}")
        return value
    if annotation in (bool, str):
        if not isinstance(value, annotation):
            raise ConfigError(f"{where}: expected {annotation.__name__}, got {_describe(value)}")
        return value
    raise ConfigError(f"{where}: unsupported config type {annotation!r}")


def _float_or_none(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _pairs(overrides: Sequence[str]) -> list[tuple[str, str]]:
    """``["--a.b", "1", "--c=2"]`` -> ``[("a.b", "1"), ("c", "2")]``."""
    pairs = []
    items = list(overrides)
    index = 0
    while index < len(items):
        item = items[index]
        if not item.startswith("--") or len(item) == 2:
            raise ConfigError(f"override {item!r}: expected --section.key VALUE (e.g. --optim.lr 1e-4)")
        if "=" in item:
            key, raw = item[2:].split("=", 1)
            index += 1
        else:
            if index + 1 >= len(items):
                raise ConfigError(f"override {item!r} has no value")
            key, raw = item[2:], items[index + 1]
            index += 2
        pairs.append((key.replace("-", "_"), raw))
    return pairs


def _parse_value(raw: str, key: str) -> Any:
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError as error:
        raise ConfigError(f"override --{key}: {raw!r} is not a valid YAML value ({error})") from error


def _unknown_key_message(dotted: str, key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown config key {dotted!r}{hint} (known here: {', '.join(known)})"


def _is_dataclass_type(annotation: Any) -> bool:
    return isinstance(annotation, type) and dataclasses.is_dataclass(annotation)


def _has_default(field: dataclasses.Field[Any]) -> bool:
    return field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING


def _type_name(annotation: Any) -> str:
    if typing.get_origin(annotation) is None and hasattr(annotation, "__name__"):
        return annotation.__name__
    return str(annotation).replace("typing.", "").replace("pathlib.", "")


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _describe(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"


def _deep_copy(data: Any) -> Any:
    if isinstance(data, dict):
        return {key: _deep_copy(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_deep_copy(value) for value in data]
    return data
