"""visa-propagate: mask propagators registered with the `visa` plugin system.

``identity`` (nearest key frame copied), ``seg_token`` (the model's own decoder on every frame),
``sam2`` (SAM 2 video via transformers) and ``xmem`` (the original's propagator).
"""
