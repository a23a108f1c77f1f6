"""XMem (Cheng & Schwing, ECCV 2022): the propagator the original VISA used, implemented here.

``XMemPropagator`` is importable without torch; the network, memory and inference modules
(``network``, ``memory``, ``inference``, ``checkpoint``) import torch.
"""

from visa_propagate.xmem.propagator import XMemPropagator

__all__ = ["XMemPropagator"]
