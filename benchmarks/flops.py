"""Achieved FLOP/s of the book's largest capacity sweep against plain ``torch.matmul``.

The sweep is the largest run of the capacity chapter: ``EpisodicMemory`` with 100 slots,
N = 4, 8, ..., 512 pairs, read after 1, 5, 20 and 100 writes, 8 trials, d = 64 (the
slot budgets' sweep of that chapter, at its 100 slots). Its matrix-product FLOPs are
counted by :func:`costs.capacity_flops` (100 writes and 4 scored reads per N). The
reference replays those matrix products and nothing else, with ``torch.matmul`` on
tensors of the same shapes and memory layouts (a transposed operand stays a transposed
view, as in the memory's code): per N, the five products of each write (the read's two,
then the gradients of the scores, of the slot values and of the slot keys), and per
read its two products and the N x N cosine scores. Both are timed in the same process,
in turn and with the same threads, in CPU seconds (one thread: the time an idle machine
would take). The ratio achieved / matmul is the fraction of the machine's speed on these
very products that the whole experiment keeps, with its overhead, elementwise work
(softmax, the optimizer step, norms) and scoring included.

Run: ``python benchmarks/flops.py`` (``--help`` for the options).
"""

from __future__ import annotations

import argparse
import time
from functools import partial

import torch
from _timing import interleaved, machine, median, set_threads
from costs import capacity_flops

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


Product = tuple[tuple[int, int, int], tuple[int, int, int], bool, bool, int]


def products(sweep: dict) -> list[Product]:
    """Every matrix product of the sweep per trial batch: ``(a shape, b shape, a transposed,
    b transposed, count)``; an operand marked transposed is made as the transposed view of
    a contiguous tensor, as the memory makes it."""
    t, d, counts, s = sweep["trials"], sweep["dim"], sweep["steps"], SLOTS
    writes, reads = max(counts), len(counts)
    plan = []
    for n in sweep["n_items"]:
        read = [((t, n, d), (t, d, s), False, True), ((t, n, s), (t, s, d), False, False)]
        gradients = [
            ((t, n, d), (t, d, s), False, True),  # d_read V^T (scores' gradient)
            ((t, s, n), (t, n, d), True, False),  # W^T d_read (slot values)
            ((t, s, n), (t, n, d), True, False),  # G^T k (slot keys)
        ]
        score = ((t, n, d), (t, d, n), False, True)  # reads against stored values
        plan += [(*p, writes) for p in read + gradients]
        plan += [(*p, reads) for p in read] + [(*score, reads)]
    return plan


def product_flops(plan: list) -> float:
    return sum(2.0 * a[0] * a[1] * a[2] * b[2] * count for a, b, _, _, count in plan)


def operand(shape: tuple[int, int, int], transposed: bool, gen: torch.Generator) -> torch.Tensor:
    if not transposed:
        return torch.randn(shape, generator=gen)
    return torch.randn(shape[0], shape[2], shape[1], generator=gen).transpose(-2, -1)


def run_matmuls(plan: list) -> None:
    gen = torch.Generator().manual_seed(0)
    for a_shape, b_shape, a_t, b_t, count in plan:
        a, b = operand(a_shape, a_t, gen), operand(b_shape, b_t, gen)
        for _ in range(count):
            torch.matmul(a, b)


def measure(repeats: int = 3, sweep: dict | None = None, *, warmup: bool = True) -> dict:
    """Time the sweep and the matmul reference in turn; FLOP/s of each and their ratio."""
    sweep = dict(SWEEP if sweep is None else sweep)
    plan = products(sweep)
    flops, matmul_flops = sweep_flops(sweep), product_flops(plan)
    times, _ = interleaved(
        {"sweep": partial(run_sweep, sweep), "matmul": partial(run_matmuls, plan)},
        repeats,
        warmup=warmup,
        clock=time.process_time,
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
            f"| torch.matmul, the same products | {r['matmul_flops'] / 1e9:.2f} | "
            f"{r['matmul_s']:.3f} | "
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
    print(f"median of {args.repeats} runs, in turn, CPU seconds; {machine()}")
    print(table(measure(args.repeats)))


if __name__ == "__main__":
    main()
