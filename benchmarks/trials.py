"""Batched trials against a Python loop over single memories, in the adaptation protocol.

For each memory class, time ``memnb.experiments.adaptation`` with all trials as one
memory built with ``trials=T`` (the class itself is the factory), and with a factory that
has no ``trials`` argument, which makes the experiment build T single memories and loop
over them (a :class:`memnb.LoopedMemory`). Both measure the whole protocol: building the
memories, drawing the data, the writes and reads, and the result frame.

Run: ``python benchmarks/trials.py`` (about 10 s on two idle CPU cores). Other work on
the machine slows the many small operations of both runs, so time on an idle machine.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable

import torch

import memnb
from memnb import LoopedMemory
from memnb.experiments import adaptation, build_memory

MEMORIES: dict[str, type] = {
    "EpisodicMemory": memnb.EpisodicMemory,
    "DeltaRuleMemory": memnb.DeltaRuleMemory,
    "MatrixAssociativeMemory": memnb.MatrixAssociativeMemory,
}


def looped_factory(cls: type) -> Callable[[int], object]:
    def factory(dim: int) -> object:  # no trials argument: one memory per trial
        return cls(dim)

    return factory


def seconds(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def median_seconds(
    batched: Callable[[], object], looped: Callable[[], object], repeats: int
) -> tuple[float, float]:
    """Median wall times of the two runs, timed in turn so that both see the same load."""
    batched(), looped()  # warm-up
    times = [(seconds(batched), seconds(looped)) for _ in range(repeats)]
    return statistics.median(t[0] for t in times), statistics.median(t[1] for t in times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--dim", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's)"
    )
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    settings = {"steps": args.steps, "trials": args.trials, "dim": args.dim, "seed": 0}
    print(
        f"adaptation protocol: trials={args.trials}, steps={args.steps}, dim={args.dim}; "
        f"median of {args.repeats} runs after one warm-up, batched and looped in turn"
    )
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{platform.processor() or platform.machine()}, CPU"
    )
    print()
    print("| memory | batched s | looped s | ratio |")
    print("|---|---:|---:|---:|")
    for name, cls in MEMORIES.items():
        # The two set-ups really differ: one memory with a trials axis, or a loop of singles.
        assert not isinstance(build_memory(cls, dim=4, trials=2, seed=0), LoopedMemory)
        assert isinstance(build_memory(looped_factory(cls), dim=4, trials=2, seed=0), LoopedMemory)
        batched, looped = median_seconds(
            lambda c=cls: adaptation(c, **settings),
            lambda c=cls: adaptation(looped_factory(c), **settings),
            args.repeats,
        )
        print(f"| {name} | {batched:.4f} | {looped:.4f} | {looped / batched:.1f}x |")


if __name__ == "__main__":
    main()
