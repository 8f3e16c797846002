"""Batched trials against a Python loop over trials and seeds, for three protocols.

For each protocol (adaptation, capacity, forgetting) and memory class, the same
experiment with T trials is run two ways:

- batched: one call ``experiment(cls, trials=T, seed=0)``, which builds one memory with
  ``trials=T`` and runs the T trials as one tensor program;
- looped: what a reader writes when thinking one trial at a time, a Python loop over
  seeds with one single memory each, ``[experiment(cls, trials=1, seed=s) for s in
  1..T]``, and the T frames stacked. Each call builds one memory (a trials axis of 1:
  the operations of a memory without one), draws its own data, writes, reads, scores.

Both do the whole protocol at the same sizes: building the memories, drawing the data,
the writes and reads, the scores and the result frame. They are timed in turn (batched,
looped, batched, ...) and the medians compared. The looped trials draw other data than
the batched ones, so their results are compared statistically: for each score, the
means over trials must agree within four standard errors of their difference.

The ratio splits as ``looped / batched = 1 + added / batched_per_trial``: the batched
time per trial is the arithmetic and data that the loop repeats for every trial (plus
the batched run's own overhead shared by its T trials), and ``added`` is what the loop
adds per trial, ``(looped - batched) / T``: Python calls, dispatching small tensors,
building a memory and a frame per trial. Both are printed.

Run: ``python benchmarks/trials.py`` (``--help`` for the options).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial

import pandas as pd
from _timing import interleaved, machine, median, set_threads

import memnb
from memnb.experiments import adaptation, capacity, forgetting

Experiment = Callable[..., pd.DataFrame]
TARGET = 10.0  # the ratio every pair should reach


@dataclass(frozen=True)
class Protocol:
    """An experiment, the sizes it runs at and the scores compared between the two runs."""

    experiment: Experiment
    settings: dict = field(default_factory=dict)
    scores: tuple[str, ...] = ()


# Each experiment's default sizes (capacity: N = 4 ... 256, d = 64, 5 writes), and the four
# clusters per task of the forgetting chapter.
PROTOCOLS: dict[str, Protocol] = {
    "adaptation": Protocol(adaptation, dict(steps=20, dim=32), ("mse", "cosine")),
    "capacity": Protocol(
        capacity,
        dict(n_items=(4, 8, 16, 32, 64, 128, 256), steps=5, dim=64),
        ("accuracy", "cosine"),
    ),
    "forgetting": Protocol(
        forgetting,
        dict(steps=20, dim=32, kind="clustered", clusters=4),
        ("acc_A1", "acc_A2", "acc_B"),
    ),
}

MEMORIES: dict[str, type] = {
    "EpisodicMemory": memnb.EpisodicMemory,
    "DeltaRuleMemory": memnb.DeltaRuleMemory,
    "MatrixAssociativeMemory": memnb.MatrixAssociativeMemory,
}


def batched(protocol: Protocol, cls: type, trials: int, seed: int = 0) -> pd.DataFrame:
    """All trials as one memory built with ``trials=trials``."""
    return protocol.experiment(cls, trials=trials, seed=seed, **protocol.settings)


def looped(protocol: Protocol, cls: type, trials: int, seed: int = 0) -> pd.DataFrame:
    """One single-trial run per seed ``seed + 1, ..., seed + trials``, stacked."""
    frames = [
        protocol.experiment(cls, trials=1, seed=seed + 1 + t, **protocol.settings).assign(trial=t)
        for t in range(trials)
    ]
    return pd.concat(frames, ignore_index=True)


def agreement(one: pd.DataFrame, other: pd.DataFrame, scores: tuple[str, ...]) -> float:
    """The largest |z| over ``scores`` of the difference between the two runs' means.

    Each score is first averaged per trial (over steps or sizes), so that the trials are
    independent samples; ``z`` is the difference of the means over its standard error,
    with the variance pooled over the trials of both runs (a two-sample t statistic: the
    runs agree when their trials come from one distribution, and pooling keeps the
    error well estimated when one run has few trials; with as many trials in each it is
    the unpooled error). The standard error is at least 1e-6 of the mean (float32
    rounding), so equal deterministic results give ``z = 0`` and nearly equal ones a
    small ``z``. Raises ``AssertionError`` if the frames differ in their columns or in
    their rows per trial.
    """
    shape = [list(f.columns) + sorted(f.groupby("trial").size().unique()) for f in (one, other)]
    if shape[0] != shape[1]:
        raise AssertionError(
            f"the two runs returned different frames: {one.shape} {list(one.columns)} "
            f"and {other.shape} {list(other.columns)}"
        )
    worst = 0.0
    for score in scores:
        a = one.groupby("trial")[score].mean().astype(float)
        b = other.groupby("trial")[score].mean().astype(float)
        diff = abs(a.mean() - b.mean())
        squares = sum((len(x) - 1) * x.var() for x in (a, b) if len(x) > 1)
        pooled = squares / max(1, len(a) + len(b) - 2)
        # float32 rounding sets a floor: closer means than that count as equal.
        error = max(math.sqrt(pooled * (1 / len(a) + 1 / len(b))), 1e-6 * max(1, abs(a.mean())))
        worst = max(worst, diff / error)
    return worst


def measure_pair(
    protocol: Protocol,
    cls: type,
    trials: int,
    repeats: int,
    full_warmup: bool = True,
    loop_sample: int | None = None,
) -> dict:
    """Time one protocol and memory batched and looped; their numbers as a dict.

    With ``full_warmup`` both runs are called once at full size before the timed runs
    (and their results are compared); otherwise a two-trial batched run warms up the
    code (the loop runs the same code with one trial) and the first timed runs are
    compared. With ``loop_sample`` (fewer than ``trials``) the loop runs only its first
    ``loop_sample`` trials and its time is scaled to ``trials`` (``looped_s``;
    ``looped_timed_s`` is the time measured): every looped trial is a run of its own of
    the same size, so the loop's time grows in proportion to its trials. The results of
    those looped trials are compared with all the batched ones (:func:`agreement`).
    """
    sample = trials if loop_sample is None else min(trials, loop_sample)
    runs = {
        "batched": partial(batched, protocol, cls, trials),
        "looped": partial(looped, protocol, cls, sample),
    }
    if not full_warmup:
        batched(protocol, cls, 2)
    times, results = interleaved(runs, repeats, warmup=full_warmup)
    z = agreement(results["batched"], results["looped"], protocol.scores)
    b, timed = median(times["batched"]), median(times["looped"])
    lo = timed * trials / sample
    return dict(
        trials=trials,
        repeats=repeats,
        batched_s=b,
        looped_s=lo,
        looped_trials_timed=sample,
        looped_timed_s=timed,
        ratio=lo / b,
        batched_ms_per_trial=1e3 * b / trials,
        loop_adds_ms_per_trial=1e3 * (lo - b) / trials,
        max_z=z,
        agree=bool(z < 4.0),
    )


def measure(
    trials: int = 64,
    repeats: int = 3,
    *,
    full_warmup: bool = True,
    protocols: dict[str, Protocol] | None = None,
    memories: dict[str, type] | None = None,
    loop_sample: int | None = None,
) -> list[dict]:
    """:func:`measure_pair` for every protocol and memory, with ``protocol, memory`` added."""
    rows = []
    for pname, protocol in (protocols or PROTOCOLS).items():
        for mname, cls in (memories or MEMORIES).items():
            row = measure_pair(protocol, cls, trials, repeats, full_warmup, loop_sample)
            rows.append(dict(protocol=pname, memory=mname, **row))
    return rows


def by_items(
    trials: int = 64,
    repeats: int = 3,
    *,
    full_warmup: bool = True,
    protocol: Protocol | None = None,
    memories: dict[str, type] | None = None,
) -> list[dict]:
    """The capacity pairs again, one N per run: how the ratio changes with the work per trial.

    Each row is :func:`measure_pair` of the capacity protocol with ``n_items=(N,)``, with
    ``memory`` and ``n_items`` added.
    """
    protocol = protocol or PROTOCOLS["capacity"]
    rows = []
    for n in protocol.settings["n_items"]:
        one = replace(protocol, settings=dict(protocol.settings, n_items=(n,)))
        for mname, cls in (memories or MEMORIES).items():
            row = measure_pair(one, cls, trials, repeats, full_warmup)
            rows.append(dict(memory=mname, n_items=n, **row))
    return rows


def items_table(rows: list[dict]) -> str:
    """Ratios of :func:`by_items` as a Markdown table: one row per N, one column per memory."""
    memories = list(dict.fromkeys(r["memory"] for r in rows))
    sizes = list(dict.fromkeys(r["n_items"] for r in rows))
    cell = {(r["n_items"], r["memory"]): r for r in rows}
    lines = [
        "| N | "
        + " | ".join(f"{m}: looped / batched (batched ms / trial)" for m in memories)
        + " |",
        "|---:|" + "---:|" * len(memories),
    ]
    for n in sizes:
        cells = [
            f"{cell[n, m]['ratio']:.1f}x ({cell[n, m]['batched_ms_per_trial']:.2f})"
            for m in memories
        ]
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def table(rows: list[dict]) -> str:
    """The rows as a Markdown table."""
    lines = [
        "| protocol | memory | T | batched s | looped s | looped / batched "
        "| batched ms / trial | loop adds ms / trial | results agree |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        verdict = f"{'yes' if r['agree'] else 'NO'} (max \\|z\\| = {r['max_z']:.1f})"
        timed = r.get("looped_trials_timed", r["trials"])
        sample = f" ({timed} trials timed)" if timed < r["trials"] else ""
        lines.append(
            f"| {r['protocol']} | {r['memory']} | {r['trials']} | {r['batched_s']:.3f} | "
            f"{r['looped_s']:.3f}{sample} | **{r['ratio']:.1f}x** | "
            f"{r['batched_ms_per_trial']:.2f} | {r['loop_adds_ms_per_trial']:.2f} | {verdict} |"
        )
    return "\n".join(lines)


def notes(rows: list[dict]) -> str:
    """A sentence on the smallest ratio and, for each pair under ``TARGET``, why."""
    low = min(rows, key=lambda r: r["ratio"])
    lines = [
        f"Smallest ratio: {low['ratio']:.1f}x ({low['protocol']}, {low['memory']}); "
        f"{sum(r['ratio'] >= TARGET for r in rows)} of {len(rows)} pairs reach {TARGET:g}x."
    ]
    for r in rows:
        if r["ratio"] < TARGET:
            added, per_trial = r["loop_adds_ms_per_trial"], r["batched_ms_per_trial"]
            lines.append(
                f"- {r['protocol']}, {r['memory']}: {r['ratio']:.1f}x = 1 + {added:.1f} / "
                f"{per_trial:.1f}, with {per_trial:.1f} ms the batched time per trial (the "
                f"arithmetic and data that the loop repeats for every trial, plus the batched "
                f"run's own overhead shared by its {r['trials']} trials) and {added:.1f} ms what "
                f"the loop adds per trial."
            )
    return "\n".join(lines)


def settings_text(protocols: dict[str, Protocol] | None = None) -> str:
    """One line per protocol with the sizes it ran at."""
    lines = []
    for name, protocol in (protocols or PROTOCOLS).items():
        args = ", ".join(f"{k}={v}" for k, v in protocol.settings.items())
        lines.append(f"- {name}: {args}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args()
    set_threads(args.threads)
    print(__doc__.splitlines()[0])
    print(f"median of {args.repeats} runs after a warm-up, in turn; {machine()}")
    print(settings_text())
    rows = measure(args.trials, args.repeats)
    print()
    print(table(rows))
    print()
    print(notes(rows))


if __name__ == "__main__":
    main()
