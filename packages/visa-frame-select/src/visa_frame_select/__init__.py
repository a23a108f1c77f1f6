"""visa-frame-select: keyframe selectors registered with the `visa` plugin system.

``uniform`` (target by rule), ``clip`` (CLIP text-frame similarity) and ``llamavid`` (the
original's text-guided frame sampler protocol over a pluggable video LLM).
"""
