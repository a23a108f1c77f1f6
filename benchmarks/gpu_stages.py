"""Timing the stages inside one end-to-end call: wrapped methods and forward hooks record seconds
per stage, synchronising the device around each so that queued GPU work is counted where it runs."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch


class StageClock:
    """Seconds spent in named stages, grouped by the current ``phase`` (``answer``, ``propagation``)."""

    def __init__(self, device: torch.device) -> None:
        self.synchronize: Callable[[], None] = (
            torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
        )
        self.phase = "answer"
        self.seconds: dict[str, list[float]] = defaultdict(list)

    def now(self) -> float:
        """Wall-clock seconds once the device has finished its queued work."""
        self.synchronize()
        return time.perf_counter()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block as ``<phase>/<name>``."""
        started = self.now()
        try:
            yield
        finally:
            self.seconds[f"{self.phase}/{name}"].append(self.now() - started)

    def wrap(self, owner: Any, attribute: str, name: str) -> None:
        """Time every call of ``owner.attribute`` (an instance attribute shadows the method)."""
        method = getattr(owner, attribute)

        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.stage(name):
                return method(*args, **kwargs)

        setattr(owner, attribute, timed)

    def time_forwards(self, module: torch.nn.Module, first: str, rest: str) -> None:
        """Time each forward of ``module``: the first of a sequence (longer than one token: the
        prefill) as ``first``, one-token steps as ``rest``."""
        started: list[float] = []

        def before(_module: Any, args: tuple, kwargs: dict) -> None:
            started.append(self.now())

        def after(_module: Any, args: tuple, kwargs: dict, _output: Any) -> None:
            given = [kwargs.get("inputs_embeds"), kwargs.get("input_ids"), *args[:1]]
            length = next(t.shape[1] for t in given if t is not None and t.numel())
            name = first if length > 1 else rest
            self.seconds[f"{self.phase}/{name}"].append(self.now() - started.pop())

        module.register_forward_pre_hook(before, with_kwargs=True)
        module.register_forward_hook(after, with_kwargs=True)

    def total(self, key: str) -> float:
        """Seconds summed over the calls of ``key`` (0 when it never ran)."""
        return float(sum(self.seconds.get(key, [])))

    def calls(self, key: str) -> int:
        return len(self.seconds.get(key, []))


class ForcedAnswer:
    """Make greedy generation emit ``token_ids`` whatever the weights (a forward hook on
    ``lm_head`` lifts the next forced token's logit), so the answer has a fixed length."""

    def __init__(self, lm_head: torch.nn.Module, token_ids: list[int]) -> None:
        self.token_ids = token_ids
        self.step = 0
        self.handle = lm_head.register_forward_hook(self._lift)

    def _lift(self, _module: Any, _inputs: Any, logits: torch.Tensor) -> torch.Tensor:
        token = self.token_ids[min(self.step, len(self.token_ids) - 1)]
        self.step += 1
        logits = logits.clone()
        logits[:, -1, token] += 1e4
        return logits

    def reset(self) -> None:
        """Start the forced answer again (call before each generation)."""
        self.step = 0
