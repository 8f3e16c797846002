"""Achieved FLOP/s of the book's largest capacity sweep against plain ``torch.matmul``.

The sweep is the largest run of the capacity chapter: ``EpisodicMemory`` with 100 slots,
N = 4, 8, ..., 512 pairs, read after 1, 5, 20 and 100 writes, 8 trials, d = 64 (the
slot budgets' sweep of that chapter, at its 100 slots). Its
matrix-product FLOPs are counted by :func:`costs.capacity_flops` (100 writes and 4 scored
reads per N). The reference does the same number of FLOPs with nothing but batched
``torch.matmul`` of the shape that dominates the sweep, ``(T, N, d) @ (T, d, S)`` for
each N, in the same process and with the same threads. The ratio achieved / matmul is
the fraction of the machine's matmul speed the whole experiment reaches, with its
overhead, elementwise work and scoring included.

Run: ``python benchmarks/flops.py`` (``--help`` for the options).
"""

from __future__ import annotations

import argparse
from functools import partial

import torch
from _timing import interleaved, machine, median, set_threads
from costs import capacity_flops, read_flops, score_flops, write_flops

import memnb
from memnb.experiments import capacity

SWEEP = dict(n_items=(4, 8, 16, 32, 64, 128, 256, 512), steps=(1, 5, 20, 100), trials=8, dim=64)
SLOTS = 100


def run_sweep(sweep: dict) -> None:
    capacity(partial(memnb.EpisodicMemory, memory_size=SLOTS), seed=0, **sweep)


def sweep_flops(sweep: dict) -> float:
    """Matrix-product FLOPs of the sweep (all N, all writes, every scored read)."""
    counts = sweep["steps"]
    return capacity_flops(
        "EpisodicMemory",
        sweep["n_items"],
        sweep["dim"],
        sweep["trials"],
        writes=max(counts),
        reads=len(counts),
        slots=SLOTS,
    )


def matmul_plan(sweep: dict) -> list[tuple[int, int]]:
    """(N, number of matmuls) so that ``(T, N, d) @ (T, d, S)`` does the sweep's FLOPs."""
    d, counts = sweep["dim"], sweep["steps"]
    plan = []
    for n in sweep["n_items"]:
        per_n = max(counts) * write_flops("EpisodicMemory", n, d, SLOTS) + len(counts) * (
            read_flops("EpisodicMemory", n, d, SLOTS) + score_flops(n, d)
        )
        plan.append((n, max(1, round(per_n / (2.0 * n * d * SLOTS)))))
    return plan


def run_matmuls(sweep: dict, plan: list[tuple[int, int]]) -> None:
    t, d = sweep["trials"], sweep["dim"]
    gen = torch.Generator().manual_seed(0)
    b = torch.randn(t, d, SLOTS, generator=gen)
    for n, count in plan:
        a = torch.randn(t, n, d, generator=gen)
        for _ in range(count):
            torch.matmul(a, b)


def measure(repeats: int = 3, sweep: dict | None = None, *, warmup: bool = True) -> dict:
    """Time the sweep and the matmul reference in turn; FLOP/s of each and their ratio."""
    sweep = dict(SWEEP if sweep is None else sweep)
    plan = matmul_plan(sweep)
    flops = sweep_flops(sweep)
    matmul_flops = sum(2.0 * sweep["trials"] * n * sweep["dim"] * SLOTS * c for n, c in plan)
    times, _ = interleaved(
        {"sweep": partial(run_sweep, sweep), "matmul": partial(run_matmuls, sweep, plan)},
        repeats,
        warmup=warmup,
    )
    sweep_s, matmul_s = median(times["sweep"]), median(times["matmul"])
    return dict(
        sweep={k: list(v) if isinstance(v, tuple) else v for k, v in sweep.items()},
        slots=SLOTS,
        flops=flops,
        matmul_flops=matmul_flops,
        sweep_s=sweep_s,
        matmul_s=matmul_s,
        sweep_flop_s=flops / sweep_s,
        matmul_flop_s=matmul_flops / matmul_s,
        ratio=(flops / sweep_s) / (matmul_flops / matmul_s),
    )


def table(r: dict) -> str:
    return "\n".join(
        [
            "| run | GFLOP | seconds | GFLOP/s |",
            "|---|---:|---:|---:|",
            f"| capacity sweep | {r['flops'] / 1e9:.2f} | {r['sweep_s']:.3f} | "
            f"{r['sweep_flop_s'] / 1e9:.2f} |",
            f"| torch.matmul, same shapes | {r['matmul_flops'] / 1e9:.2f} | {r['matmul_s']:.3f} | "
            f"{r['matmul_flop_s'] / 1e9:.2f} |",
            f"| **achieved / matmul** | | | **{r['ratio']:.2f}** |",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args()
    set_threads(args.threads)
    print(__doc__.splitlines()[0])
    print(f"median of {args.repeats} runs, in turn; {machine()}")
    print(table(measure(args.repeats)))


if __name__ == "__main__":
    main()
