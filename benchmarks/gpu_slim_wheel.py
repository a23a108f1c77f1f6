"""Rewrite a bitsandbytes wheel keeping only the native libraries of the named CUDA versions.

The full wheel (43 MB for 0.50.2) carries one library per CUDA and ROCm release; the GPU
machine's torch needs one (``libbitsandbytes_cuda130.so`` for a cu130 build, 3.9 MB). RECORD is
rewritten to list exactly the files kept.

    python benchmarks/gpu_slim_wheel.py WHEEL 130 132
"""

from __future__ import annotations

import argparse
import re
import zipfile
from pathlib import Path

NATIVE = re.compile(r"libbitsandbytes_(\w+)\.so$")


def keep(name: str, cuda_versions: set[str]) -> bool:
    """Whether a wheel member stays: everything but native libraries of other back-ends."""
    match = NATIVE.search(name)
    return match is None or match.group(1) in {f"cuda{v}" for v in cuda_versions} | {"cpu"}


def slim(wheel: Path, cuda_versions: set[str]) -> int:
    """Rewrite ``wheel`` in place; returns the bytes saved."""
    before = wheel.stat().st_size
    slimmed = wheel.with_suffix(".slim")
    with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(slimmed, "w", zipfile.ZIP_DEFLATED) as target:
        kept = [info for info in source.infolist() if keep(info.filename, cuda_versions)]
        names = {info.filename for info in kept}
        for info in kept:
            data = source.read(info)
            if info.filename.endswith(".dist-info/RECORD"):
                rows = [row for row in data.decode().splitlines() if row.split(",")[0] in names]
                data = ("\n".join(rows) + "\n").encode()
            target.writestr(info, data)
    slimmed.replace(wheel)
    return before - wheel.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("wheel", type=Path)
    parser.add_argument("cuda_versions", nargs="+", help="CUDA versions to keep, as in the file names (130)")
    args = parser.parse_args()
    if not args.wheel.is_file() or args.wheel.suffix != ".whl":
        parser.error(f"{args.wheel}: not a wheel file")
    saved = slim(args.wheel, set(args.cuda_versions))
    print(f"{args.wheel.name}: {saved / 2**20:.1f} MiB of other back-ends' libraries removed")


if __name__ == "__main__":
    main()
