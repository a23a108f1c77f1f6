"""Peak dense bf16 matrix rate and memory bandwidth of known GPUs, keyed by the name CUDA reports.

Numbers are NVIDIA's datasheet figures without sparsity (H200, H100 and A100 Tensor Core GPU
datasheets). They are ceilings, not what a kernel reaches: on this workplace's H200 an 8192^3
bf16 matrix product ran at about 790 TFLOP/s and a device-to-device copy at about 4.3 TB/s.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

SOURCE = "NVIDIA datasheets (H200, H100, A100 Tensor Core GPU), dense bf16, no sparsity"


@dataclass(frozen=True)
class GpuPeak:
    """``bf16_flops`` FLOP/s and ``bandwidth`` bytes/s of a GPU model."""

    model: str
    bf16_flops: float
    bandwidth: float

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "source": SOURCE}


PEAKS: tuple[tuple[tuple[str, ...], GpuPeak], ...] = (
    (("H200", "NVL"), GpuPeak("H200 NVL", 835e12, 4.8e12)),
    (("H200",), GpuPeak("H200 SXM", 989e12, 4.8e12)),
    (("H100", "NVL"), GpuPeak("H100 NVL", 835e12, 3.9e12)),
    (("H100", "PCIE"), GpuPeak("H100 PCIe", 756e12, 2.0e12)),
    (("H100",), GpuPeak("H100 SXM", 989e12, 3.35e12)),
    (("A100", "80GB", "PCIE"), GpuPeak("A100 80GB PCIe", 312e12, 1.935e12)),
    (("A100", "80GB"), GpuPeak("A100 80GB SXM", 312e12, 2.039e12)),
    (("A100",), GpuPeak("A100 40GB", 312e12, 1.555e12)),
)
"""Name fragments (all must appear, case-insensitive) -> peaks; the first match wins."""


def gpu_peak(device_name: str) -> GpuPeak | None:
    """The peaks of the GPU CUDA names ``device_name`` (e.g. "NVIDIA H200"), None when unknown."""
    name = device_name.upper()
    for fragments, peak in PEAKS:
        if all(fragment in name for fragment in fragments):
            return peak
    return None
