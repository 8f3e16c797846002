"""How the time of the capacity experiment grows with the number of items N and with d.

For each memory, ``capacity`` is timed with one N per call, over a range of N at fixed
d and over a range of d at fixed N (16 trials, 5 writes, as in the capacity chapter).
The exponent p of ``time ~ size^p`` is fitted by least squares on log(time) against
log(size), over the points whose time is at least ``FLOOR_FACTOR`` times the fixed
overhead (the same call with one item, where almost nothing is computed). The FLOP
count of :mod:`costs` is fitted the same way over the same points, which gives the
exponent the arithmetic predicts. A plain batched matmul measured in the same run
tells how long those FLOPs alone would take; the printed explanation compares it all.

Run: ``python benchmarks/growth.py`` (``--help`` for the options).
"""

from __future__ import annotations

import argparse
import math
from functools import partial

import torch
from _timing import interleaved, machine, median, set_threads
from costs import MATRIX, capacity_flops, score_flops

import memnb
from memnb.experiments import capacity

MEMORIES: dict[str, type] = {
    "EpisodicMemory": memnb.EpisodicMemory,
    "DeltaRuleMemory": memnb.DeltaRuleMemory,
}
TRIALS, WRITES, SLOTS = 16, 5, 100
N_DIM, D_ITEMS = 64, 256  # d while N varies, N while d varies
N_RANGE = (4, 8, 16, 32, 64, 128, 256, 512, 1024)
D_RANGE = (8, 16, 32, 64, 128, 256, 512)
QUICK_N_RANGE, QUICK_D_RANGE = (4, 32, 256, 512), (16, 64, 128)
FLOOR_FACTOR = 4.0
AGREE = 0.15  # exponents closer than this agree


def fit(sizes: list[float], values: list[float]) -> float:
    """Least-squares slope of log(value) against log(size)."""
    x = [math.log(s) for s in sizes]
    y = [math.log(v) for v in values]
    mx, my = sum(x) / len(x), sum(y) / len(y)
    sxx = sum((a - mx) ** 2 for a in x)
    return sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True)) / sxx


def time_capacity(cls: type, n: int, d: int, repeats: int, warmup: bool = True) -> float:
    """Median time of ``capacity`` at one N, with ``TRIALS`` trials and ``WRITES`` writes
    (after an untimed run at the same size, with ``warmup``)."""
    run = partial(capacity, cls, n_items=[n], steps=WRITES, trials=TRIALS, dim=d, seed=0)
    times, _ = interleaved({"run": run}, repeats, warmup=warmup)
    return median(times["run"])


def matmul_rate(repeats: int = 3) -> float:
    """FLOP/s of a plain float32 batched matmul ``(T, 256, 64) @ (T, 64, 100)``."""
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(TRIALS, 256, 64, generator=gen)
    b = torch.randn(TRIALS, 64, SLOTS, generator=gen)
    count = 50

    def run() -> None:
        for _ in range(count):
            torch.matmul(a, b)

    times, _ = interleaved({"matmul": run}, repeats)
    return count * 2.0 * TRIALS * 256 * 64 * SLOTS / median(times["matmul"])


def grow(
    name: str, axis: str, sizes: tuple[int, ...], repeats: int, rate: float, warmup: bool = True
) -> dict:
    """Time one memory along one axis (``"N"`` or ``"d"``) and fit the exponents (each
    size warmed up by an untimed run first, with ``warmup``)."""
    cls = MEMORIES[name]
    fixed = N_DIM if axis == "N" else D_ITEMS

    def shape(size: int) -> tuple[int, int]:
        return (size, fixed) if axis == "N" else (fixed, size)

    floor = time_capacity(cls, 1, fixed if axis == "N" else min(sizes), repeats, warmup)
    times = [time_capacity(cls, *shape(s), repeats, warmup) for s in sizes]
    flops = [capacity_flops(name, [shape(s)[0]], shape(s)[1], TRIALS, WRITES) for s in sizes]
    used = [i for i, t in enumerate(times) if t >= FLOOR_FACTOR * floor]
    if len(used) < 2:  # every point is close to the overhead: fit the two largest
        used = list(range(len(sizes)))[-2:]
    pick = [sizes[i] for i in used]
    net = [times[i] - floor for i in used]
    result = dict(
        memory=name,
        axis=axis,
        fixed=fixed,
        sizes=list(sizes),
        seconds=times,
        flops=flops,
        overhead_s=floor,
        fitted_sizes=pick,
        exponent=fit(pick, [times[i] for i in used]),
        exponent_without_overhead=fit(pick, net) if min(net) > 0 else float("nan"),
        flop_exponent=fit(pick, [flops[i] for i in used]),
        end_exponent=fit(sizes[-2:], times[-2:]),
        end_flop_exponent=fit(sizes[-2:], flops[-2:]),
        matmul_flop_s=rate,
        arithmetic_share=flops[-1] / rate / times[-1],
    )
    result["explanation"] = explain(result)
    return result


def explain(r: dict) -> str:
    """Why the time grows as it does: the FLOP terms against the measured exponents."""
    axis, other = r["axis"], "d" if r["axis"] == "N" else "N"
    big = r["sizes"][-1]
    n, d = (big, r["fixed"]) if axis == "N" else (r["fixed"], big)
    memory_terms = (
        f"{WRITES} writes and a read, 2·({2 * WRITES}+1)·N·d²"
        if r["memory"] in MATRIX
        else f"{WRITES} writes and a read, ({10 * WRITES}+4)·N·S·d with S = {SLOTS} slots"
    )
    scores = score_flops(n, d) * TRIALS / r["flops"][-1]
    text = (
        f"{r['memory']}, {other} = {r['fixed']}: time ~ {axis}^{r['exponent']:.2f}, fitted over "
        f"{axis} = {r['fitted_sizes'][0]}..{r['fitted_sizes'][-1]} ({len(r['fitted_sizes'])} "
        f"points at least {FLOOR_FACTOR:g}x the {r['overhead_s'] * 1e3:.0f} ms of a one-item "
        f"call). The code's matrix products per trial ({memory_terms}, plus 2·N²·d for the "
        f"cosine scores of the read, {scores:.0%} of the FLOPs at {axis} = {big}) grow as "
        f"{axis}^{r['flop_exponent']:.2f} over the same points. At {axis} = {big} these FLOPs "
        f"would take {r['arithmetic_share']:.0%} of the measured time at the speed of a plain "
        f"float32 matmul ({r['matmul_flop_s'] / 1e9:.0f} GFLOP/s here). "
    )
    end = (
        f" Between the two largest sizes the time grows as {axis}^{r['end_exponent']:.2f} and "
        f"the FLOPs as {axis}^{r['end_flop_exponent']:.2f}."
    )
    return _verdict(r, text) + end


def _verdict(r: dict, text: str) -> str:
    """``text`` and whether (and why) the measured exponent differs from the FLOP count's."""
    axis = r["axis"]
    n = r["sizes"][-1] if axis == "N" else r["fixed"]
    gap = r["exponent"] - r["flop_exponent"]
    first, last = r["fitted_sizes"][0], r["fitted_sizes"][-1]
    rates = (
        f"the run achieves {_rate(r, first) / 1e9:.1f} GFLOP/s at {axis} = {first} and "
        f"{_rate(r, last) / 1e9:.1f} GFLOP/s at {axis} = {last}"
    )
    if abs(gap) <= AGREE:
        if r["arithmetic_share"] >= 0.5:
            return text + "The measured exponent agrees with the FLOP count."
        return text + (
            f"The measured exponent agrees with the FLOP count although the FLOPs are a "
            f"minority of the time ({rates}): the rest of the work grows at about the same "
            f"rate over this range."
        )
    if gap < 0:
        net = r["exponent_without_overhead"]
        rest = (
            f" Without the fixed overhead the exponent is {net:.2f}." if math.isfinite(net) else ""
        )
        return text + (
            f"The measured exponent is lower by {-gap:.2f} ({rates}): much of the time does not "
            f"grow as fast as the FLOPs, the fixed overhead of the call and the work that grows "
            f"only as N·d (drawing the keys and values, elementwise passes over reads "
            f"and values, and for slots the optimizer step, which grows as S·d).{rest}"
        )
    held = (
        f"the T·N² float32 score matrix ({TRIALS * n * n * 4 / 2**20:.0f} MiB at the largest "
        f"point; the count leaves out its argmax and memory traffic) no longer fits"
        if axis == "N"
        else "the (T, N, d) reads and values and the memory's state no longer fit"
    )
    return text + (
        f"The measured exponent is higher by {gap:.2f} ({rates}): each FLOP costs more at "
        f"the larger sizes, where {held} in the caches, so elementwise passes are bound by "
        f"memory bandwidth."
    )


def _rate(r: dict, size: int) -> float:
    """Achieved FLOP/s of the call at one size (overhead included)."""
    i = r["sizes"].index(size)
    return r["flops"][i] / r["seconds"][i]


def measure(
    repeats: int = 3,
    *,
    memories: tuple[str, ...] = tuple(MEMORIES),
    n_range: tuple[int, ...] = N_RANGE,
    d_range: tuple[int, ...] = D_RANGE,
    warmup: bool = True,
) -> list[dict]:
    """Both axes for every memory: one result per memory and axis (see :func:`grow`)."""
    rate = matmul_rate(repeats)
    results = []
    for name in memories:
        results.append(grow(name, "N", n_range, repeats, rate, warmup))
        results.append(grow(name, "d", d_range, repeats, rate, warmup))
    return results


def table(results: list[dict]) -> str:
    lines = [
        "| memory | varied | fixed | sizes | seconds | fitted over | exponent | FLOP exponent |",
        "|---|---|---|---|---|---|---:|---:|",
    ]
    for r in results:
        fixed = f"{'d' if r['axis'] == 'N' else 'N'} = {r['fixed']}"
        sizes = ", ".join(str(s) for s in r["sizes"])
        secs = ", ".join(f"{t:.3f}" for t in r["seconds"])
        span = f"{r['fitted_sizes'][0]}..{r['fitted_sizes'][-1]}"
        lines.append(
            f"| {r['memory']} | {r['axis']} | {fixed} | {sizes} | {secs} | {span} | "
            f"**{r['exponent']:.2f}** | {r['flop_exponent']:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="fewer sizes")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args()
    set_threads(args.threads)
    print(__doc__.splitlines()[0])
    print(f"T = {TRIALS}, {WRITES} writes, median of {args.repeats} runs; {machine()}")
    ranges = (QUICK_N_RANGE, QUICK_D_RANGE) if args.quick else (N_RANGE, D_RANGE)
    results = measure(args.repeats, n_range=ranges[0], d_range=ranges[1])
    print(table(results))
    for r in results:
        print()
        print(r["explanation"])


if __name__ == "__main__":
    main()
