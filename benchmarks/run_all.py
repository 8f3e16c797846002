"""Run every benchmark and write their numbers as a Markdown report and a JSON file.

1. Batched trials against a Python loop over trials and seeds (:mod:`trials`), for
   adaptation, capacity and forgetting at T = 64 (32 with ``--quick``), with the ratio of
   each pair.
2. Cost growth of the capacity experiment with N and with d (:mod:`growth`): the fitted
   exponents next to the ones the FLOP count predicts, and why they differ or agree.
3. Achieved FLOP/s of the book's largest capacity sweep against plain ``torch.matmul``
   of the same shapes and FLOPs (:mod:`flops`).
4. Every explorer's redraw at its default settings, in CPU seconds (:mod:`explorers`),
   against the target of half a second.

Every ratio is measured in this one run. All runs use one torch thread by default: the
loop's small operations run on one core anyway, so the ratio measures batching alone,
and on a machine shared with other work torch's multi-threaded kernels slow down by
unpredictable factors (``--threads`` changes it). ``--quick`` keeps the protocols' sizes
but batches ``QUICK_TRIALS`` trials, times each run once (after a small warm-up), times
the loop over ``QUICK_LOOP`` of its trials and scales its time to all of them, measures
the growth at fewer sizes without a warm-up run at each, reads the largest sweep after up
to 20 writes instead of 100 and leaves out the explorers; it is meant to run while the
book builds. The Markdown goes to stdout and to ``--out``; the JSON, with every number,
next to it (same name, ``.json``).

Run: ``python benchmarks/run_all.py [--quick] [--out _build/benchmarks.md]``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import explorers
import flops
import growth
import trials
from _timing import machine, set_threads

QUICK_TRIALS = 32  # trials of the batched runs with --quick (64 otherwise)
QUICK_LOOP = 4  # looped trials timed by --quick, their time scaled to QUICK_TRIALS
# --quick times the book's largest capacity sweep read after up to 20 writes, not 100.
QUICK_SWEEP = dict(flops.SWEEP, steps=(1, 5, 20))
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "_build" / "benchmarks.md"


@dataclass(frozen=True)
class Sizes:
    """What the benchmarks run: the defaults are the report's; tests pass tiny ones."""

    trials: int | None = None  # None: 64, or QUICK_TRIALS with --quick
    protocols: dict = field(default_factory=lambda: dict(trials.PROTOCOLS))
    memories: dict = field(default_factory=lambda: dict(trials.MEMORIES))
    growth_memories: tuple[str, ...] = tuple(growth.MEMORIES)
    n_range: tuple[int, ...] | None = None  # None: growth's full or quick range
    d_range: tuple[int, ...] | None = None
    sweep: dict | None = None  # None: flops.SWEEP, or QUICK_SWEEP with --quick
    by_items: bool | None = None  # capacity one N at a time; None: unless quick
    explorers: tuple[str, ...] | None = None  # None: every explorer, unless quick


def run(quick: bool = False, threads: int | None = 1, sizes: Sizes | None = None) -> dict:
    """Run the three benchmarks; every number in one dict (what the JSON file holds)."""
    sizes = sizes or Sizes()
    n_trials = sizes.trials or (QUICK_TRIALS if quick else 64)
    set_threads(threads)
    start = time.perf_counter()
    repeats = 1 if quick else 3
    rows = trials.measure(
        n_trials,
        repeats,
        full_warmup=not quick,
        protocols=sizes.protocols,
        memories=sizes.memories,
        loop_sample=QUICK_LOOP if quick else None,
    )
    items = None
    if sizes.by_items or (sizes.by_items is None and not quick):
        items = trials.by_items(
            n_trials,
            repeats,
            full_warmup=not quick,
            protocol=sizes.protocols["capacity"],
            memories=sizes.memories,
        )
    lap = time.perf_counter()
    costs = growth.measure(
        repeats,
        memories=sizes.growth_memories,
        n_range=sizes.n_range or (growth.QUICK_N_RANGE if quick else growth.N_RANGE),
        d_range=sizes.d_range or (growth.QUICK_D_RANGE if quick else growth.D_RANGE),
        warmup=not quick,
    )
    growth_s, lap = time.perf_counter() - lap, time.perf_counter()
    trials_s = lap - start - growth_s
    sweep = sizes.sweep or (QUICK_SWEEP if quick else flops.SWEEP)
    speed = flops.measure(repeats, sweep, warmup=not quick)
    flops_s, lap = time.perf_counter() - lap, time.perf_counter()
    names = sizes.explorers if sizes.explorers is not None else ((), explorers.EXPLORERS)[not quick]
    redraws = explorers.measure(names) if names else None
    end = time.perf_counter()
    return dict(
        quick=quick,
        machine=machine(),
        seconds=end - start,
        section_seconds=dict(trials=trials_s, growth=growth_s, flops=flops_s, explorers=end - lap),
        trials=dict(
            trials=n_trials,
            settings={name: p.settings for name, p in sizes.protocols.items()},
            target=trials.TARGET,
            rows=rows,
            all_at_target=all(r["ratio"] >= trials.TARGET for r in rows),
            all_agree=all(r["agree"] for r in rows),
            capacity_by_items=items,
        ),
        growth=costs,
        flops=speed,
        explorers=redraws,
    )


def plain(value: object) -> object:
    """``value`` with NaN and infinities replaced by None and tuples by lists (valid JSON)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _sections(report: dict) -> str:
    return ", ".join(f"{k} {v:.0f} s" for k, v in report["section_seconds"].items())


def markdown(report: dict) -> str:
    """The report as Markdown: one section per benchmark, tables and explanations."""
    m = report["machine"]
    mode = "quick (each run timed once)" if report["quick"] else "full (median of 3 runs)"
    settings = "\n".join(
        f"- {name}: " + ", ".join(f"{k}={v}" for k, v in s.items())
        for name, s in report["trials"]["settings"].items()
    )
    rows, speed, t = report["trials"]["rows"], report["flops"], report["trials"]["trials"]
    parts = [
        "# Benchmarks",
        f"Measured in one run of `benchmarks/run_all.py`, {mode}, in "
        f"{report['seconds']:.0f} s ({_sections(report)}): torch {m['torch']}, "
        f"{m['threads']} thread(s), "
        f"{m['cpus']} CPUs ({m['processor']}), Python {m['python']}.",
        "## 1. Batched trials against a Python loop",
        f"One memory built with `trials={t}` against a loop of {t} single-trial runs "
        "(`experiment(cls, trials=1, seed=s)`), both running the whole protocol at these "
        "sizes:",
        settings,
        trials.table(rows),
        trials.notes(rows),
        "### Capacity, one N per run",
        (
            f"The capacity pairs again with one N per run, T = {t}: the larger N, the more work "
            "each trial does that batching cannot share, and the smaller the ratio.\n\n"
            + trials.items_table(report["trials"]["capacity_by_items"])
            if report["trials"]["capacity_by_items"]
            else "Not run with `--quick`."
        ),
        "## 2. Cost growth of the capacity experiment",
        f"T = {growth.TRIALS}, {growth.WRITES} writes, one N per call; exponents of "
        f"time ~ size^p fitted over the points at least {growth.FLOOR_FACTOR:g}x the "
        "overhead of a one-item call.",
        growth.table(report["growth"]),
        "\n\n".join(r["explanation"] for r in report["growth"]),
        "## 3. Achieved FLOP/s of the largest sweep",
        f"`capacity` of EpisodicMemory ({speed['slots']} slots), N = "
        f"{', '.join(str(n) for n in speed['sweep']['n_items'])}, read after "
        f"{', '.join(str(s) for s in speed['sweep']['steps'])} writes, "
        f"{speed['sweep']['trials']} trials, d = {speed['sweep']['dim']}; matrix-product FLOPs "
        "counted from the code (see `benchmarks/costs.py`).",
        flops.table(speed),
        "## 4. Explorers: redraw at default settings",
        (
            "Each explorer's drawing function at the explorer's defaults (its first draw), "
            "with the figure rendered to PNG as a notebook shows it; the fastest of two, in "
            f"CPU seconds of one thread. Target: under {explorers.TARGET} s.\n\n"
            + explorers.table(report["explorers"])
            if report["explorers"]
            else "Not run with `--quick`."
        ),
        "## Summary",
        summary(report),
    ]
    return "\n\n".join(parts) + "\n"


def summary(report: dict) -> str:
    """The two headline numbers: the largest sweep's share of the matmul rate, and the
    slowest explorer's redraw."""
    lines = [
        f"- largest sweep: {report['flops']['ratio']:.2f} of the FLOP rate of torch.matmul "
        "on its own shapes"
    ]
    if report["explorers"]:
        slowest = max(report["explorers"], key=lambda r: r["seconds"])
        under = sum(r["seconds"] < explorers.TARGET for r in report["explorers"])
        lines.append(
            f"- explorers: {under} of {len(report['explorers'])} redraw in under "
            f"{explorers.TARGET} s; slowest {slowest['explorer']} ({slowest['seconds']:.2f} s)"
        )
    return "\n".join(lines)


def write(report: dict, out: Path) -> str:
    """Write the Markdown to ``out`` and the JSON next to it; return the Markdown."""
    text = markdown(report)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    out.with_suffix(".json").write_text(json.dumps(plain(report), indent=2, allow_nan=False) + "\n")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="time each run once (~20 s)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the Markdown file")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads for every run (default 1)"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit with status 1 unless every ratio reaches 10x and all results agree",
    )
    args = parser.parse_args(argv)
    report = run(args.quick, args.threads)
    print(write(report, args.out))
    ok = report["trials"]["all_at_target"] and report["trials"]["all_agree"]
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
