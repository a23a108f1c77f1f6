"""Which of the project's distributions provides each built-in component, so that a name whose
package is not installed gets an error that says what to install."""

from __future__ import annotations

PROVIDERS: dict[str, dict[str, tuple[str, ...]]] = {
    "dataset": {
        "visa-data": (
            "ade20k",
            "chat_univi",
            "cocostuff",
            "davis17",
            "llava_instruct",
            "lvvis",
            "mapillary",
            "mevis",
            "paco_lvis",
            "pascal_part",
            "reasonseg",
            "ref_youtube_vos",
            "refclef",
            "refcoco",
            "refcoco+",
            "refcocog",
            "revos",
            "synthetic_images",
            "synthetic_qa",
            "synthetic_text",
        ),
    },
    "frame_selector": {"visa-core": ("uniform",), "visa-frame-select": ("clip", "llamavid")},
    "propagator": {"visa-core": ("seg_token",), "visa-propagate": ("identity", "sam2", "xmem")},
    "metric": {"visa-eval": ("a", "ciou", "f", "giou", "j", "j_and_f", "r")},
    "command": {
        "visa-core": ("convert-checkpoint", "export", "init-model", "plugins", "predict", "segment"),
        "visa-data": ("data", "make-synthetic"),
        "visa-eval": ("eval",),
    },
}
"""Component kind -> distribution -> the names it registers (a test checks this against the
installed packages)."""


def providing_distribution(kind: str, name: str) -> str | None:
    """The project distribution that registers ``name`` as a ``kind``, or None."""
    for distribution, names in PROVIDERS.get(kind, {}).items():
        if name in names:
            return distribution
    return None


def install_hint(kind: str, name: str) -> str | None:
    """``"the frame selector 'clip' is provided by visa-frame-select: pip install visa-frame-select"``
    for a built-in name, else None."""
    distribution = providing_distribution(kind, name)
    if distribution is None:
        return None
    label = kind.replace("_", " ")
    return f"the {label} {name!r} is provided by {distribution}: pip install {distribution}"
