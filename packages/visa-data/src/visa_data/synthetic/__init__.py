"""The built-in synthetic reasoning-video dataset: moving shapes, referring, reasoning and no-target queries.

``generate_dataset(out, SyntheticConfig(videos=200, seed=0))`` writes the ReVOS layout (read by the
``revos`` loader) plus still images (``synthetic_images``) and QA conversations (``synthetic_qa``);
``make_video(index, config)`` builds one item in memory. ``visa make-synthetic OUT`` runs it.
"""

from __future__ import annotations

from visa_data.synthetic.generate import (
    SyntheticConfig,
    SyntheticVideo,
    ensure_dataset,
    generate_dataset,
    make_video,
)

__all__ = ["SyntheticConfig", "SyntheticVideo", "ensure_dataset", "generate_dataset", "make_video"]
