"""Loading a VISA model folder for inference on a chosen device, dtype and quantisation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from visa_core.errors import VisaError

DTYPES = ("float32", "bfloat16", "float16")


def load_model(
    model_dir: str | Path, *, device: str = "cpu", dtype: str = "float32", quantization: str | None = None
) -> tuple[Any, Any]:
    """Return ``(model, processor)`` from a folder written by ``save_pretrained`` / ``visa init-model``.

    Args:
        device: ``cpu``, ``cuda`` or ``cuda:N``.
        dtype: one of ``float32``, ``bfloat16``, ``float16``.
        quantization: None, ``8bit`` or ``4bit`` (bitsandbytes; CUDA only).

    Raises:
        CheckpointError: the folder is no complete VISA model folder (see
            :func:`~visa_core.model.validation.validate_model_folder`), checked before loading.
        VisaError: an unknown dtype, or CUDA asked for on a machine without it.
    """
    import torch

    from visa_core.model import VisaForSegmentation, VisaProcessor
    from visa_core.model.validation import validate_model_folder

    check_load_options(device=device, dtype=dtype)
    validate_model_folder(model_dir)
    options: dict[str, Any] = {"dtype": getattr(torch, dtype)}
    if quantization is not None:
        options["quantization_config"] = _quantization_config(quantization, device)
        options["device_map"] = {"": device}
    model = VisaForSegmentation.from_pretrained(model_dir, **options)
    if quantization is None:
        model = model.to(device)
    model.eval()
    return model, VisaProcessor.from_pretrained(model_dir)


def check_load_options(*, device: str, dtype: str) -> None:
    """Raise :class:`VisaError` for an unknown ``dtype`` or a CUDA ``device`` this machine lacks."""
    import torch

    if dtype not in DTYPES:
        raise VisaError(f"--dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise VisaError(f"device {device!r} was asked for, but this machine has no CUDA device")


def _quantization_config(quantization: str, device: str) -> Any:
    import torch

    if quantization not in ("8bit", "4bit"):
        raise VisaError(f"quantization must be '8bit' or '4bit', got {quantization!r}")
    if not (device.startswith("cuda") and torch.cuda.is_available()):
        raise VisaError(
            f"--load-in-{quantization} needs a CUDA GPU (bitsandbytes); "
            "on CPU, use --dtype float32 or bfloat16"
        )
    try:
        import bitsandbytes  # noqa: F401
    except ImportError as error:
        raise VisaError(
            f"--load-in-{quantization} needs bitsandbytes: pip install 'visa-core[quantization]'"
        ) from error
    from transformers import BitsAndBytesConfig

    if quantization == "8bit":
        return BitsAndBytesConfig(
            load_in_8bit=True, llm_int8_skip_modules=["sam", "text_hidden_fcs", "vision_tower"]
        )
    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_compute_dtype=torch.bfloat16,
        llm_int8_skip_modules=["sam", "text_hidden_fcs", "vision_tower"],
    )
