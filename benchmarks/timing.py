"""Timing and the printed comparison shared by the benchmarks that race two implementations of the
same computation in one process."""

from __future__ import annotations

import time
from collections.abc import Callable


def seconds_per_call(call: Callable[[], object], repeats: int, warmup: int) -> float:
    """Mean seconds of ``call()`` over ``repeats`` calls, after ``warmup`` untimed ones."""
    for _ in range(warmup):
        call()
    started = time.perf_counter()
    for _ in range(repeats):
        call()
    return (time.perf_counter() - started) / repeats


def print_comparison(seconds: dict[str, float], baseline: str, unit: str, note: str) -> None:
    """One line per implementation (milliseconds ``unit``), then ``baseline``'s time over the
    other's as ``ratio Nx (note)``; ``seconds`` holds exactly two entries."""
    (candidate,) = (name for name in seconds if name != baseline)
    width = max(len(name) for name in seconds) + 2
    for name, value in seconds.items():
        print(f"{name:<{width}}{value * 1e3:8.2f} ms {unit}")
    print(f"ratio {seconds[baseline] / seconds[candidate]:.2f}x ({note})")
