"""Timing helpers of the benchmarks: runs timed in turn, medians, the machine they ran on."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable, Mapping

import torch


def interleaved(
    runs: Mapping[str, Callable[[], object]],
    repeats: int,
    *,
    warmup: bool = True,
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[dict[str, list[float]], dict[str, object]]:
    """Time every run ``repeats`` times, taking them in turn (a, b, a, b, ...).

    Timed in turn, all runs see the same load from whatever else the machine is doing,
    so their ratio is fair even when the absolute times are not. With ``warmup`` each
    run is called once first, untimed. Returns the times of each run, in order, and
    what each run returned the first time it was called. ``clock`` reads the time (wall
    seconds by default; ``time.process_time`` for this process's CPU seconds).
    """
    first: dict[str, object] = {}
    if warmup:
        first = {name: run() for name, run in runs.items()}
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start = clock()
            result = run()
            times[name].append(clock() - start)
            first.setdefault(name, result)
    return times, first


def median(times: list[float]) -> float:
    return statistics.median(times)


def set_threads(threads: int | None) -> int:
    """Set torch's intra-op threads (None: leave torch's default); return the count in use."""
    if threads is not None:
        torch.set_num_threads(threads)
    return torch.get_num_threads()


def machine() -> dict[str, object]:
    """What the numbers were measured on."""
    return {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
    }
