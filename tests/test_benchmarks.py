"""The benchmarks at tiny sizes: the report's structure and honest comparisons (no timing)."""

from __future__ import annotations

import json
import math
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from memnb.experiments import _protocol

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import costs  # noqa: E402
import explorers  # noqa: E402
import growth  # noqa: E402
import run_all  # noqa: E402
import trials  # noqa: E402

TINY_PROTOCOLS = {
    "adaptation": replace(trials.PROTOCOLS["adaptation"], settings=dict(steps=3, dim=4)),
    "capacity": replace(
        trials.PROTOCOLS["capacity"], settings=dict(n_items=(2, 4), steps=2, dim=8)
    ),
    "forgetting": replace(
        trials.PROTOCOLS["forgetting"],
        settings=dict(steps=2, dim=4, kind="clustered", clusters=2, n_train=4, n_test=4),
    ),
}
TINY = run_all.Sizes(
    trials=8,
    protocols=TINY_PROTOCOLS,
    growth_memories=("DeltaRuleMemory",),
    n_range=(2, 4, 8),
    d_range=(4, 8),
    sweep=dict(n_items=(2, 4), steps=(1, 2), trials=2, dim=4),
    explorers=("adaptation",),
)


@pytest.fixture(scope="module")
def report() -> dict:
    return run_all.run(quick=True, sizes=TINY)


def test_every_protocol_and_memory_is_timed_both_ways(report):
    rows = report["trials"]["rows"]
    pairs = {(r["protocol"], r["memory"]) for r in rows}
    assert pairs == {(p, m) for p in TINY_PROTOCOLS for m in trials.MEMORIES}
    for r in rows:
        assert r["trials"] == 8
        assert r["batched_s"] > 0 and r["looped_s"] > 0
        assert r["ratio"] == pytest.approx(r["looped_s"] / r["batched_s"])
        assert r["agree"], r  # batched and looped runs give equivalent results


@pytest.mark.parametrize("protocol", sorted(TINY_PROTOCOLS))
def test_batched_and_looped_runs_do_the_same_work(protocol):
    p = TINY_PROTOCOLS[protocol]
    one = trials.batched(p, trials.MEMORIES["DeltaRuleMemory"], 6)
    other = trials.looped(p, trials.MEMORIES["DeltaRuleMemory"], 6)
    assert list(one.columns) == list(other.columns)
    assert one.shape == other.shape
    assert sorted(other["trial"].unique()) == list(range(6))
    assert trials.agreement(one, other, p.scores) < 4.0


def test_agreement_flags_different_results_and_different_frames():
    a = pd.DataFrame({"trial": range(20), "score": [0.0, 1.0] * 10})
    assert trials.agreement(a, a.copy(), ("score",)) == 0.0
    shifted = a.assign(score=a["score"] + 5.0)
    assert trials.agreement(a, shifted, ("score",)) > 4.0
    with pytest.raises(AssertionError, match="different frames"):
        trials.agreement(a, a.assign(other=1.0), ("score",))
    twice = pd.concat([a, a], ignore_index=True)  # two rows per trial
    with pytest.raises(AssertionError, match="different frames"):
        trials.agreement(a, twice, ("score",))


def test_agreement_pools_the_variance_of_unequal_runs():
    gen = np.random.default_rng(0)
    many = pd.DataFrame({"trial": range(64), "score": gen.normal(0.0, 1.0, 64)})
    few = pd.DataFrame({"trial": range(4), "score": gen.normal(0.0, 1.0, 4)})
    a, b = many["score"], few["score"]
    pooled = (63 * a.var() + 3 * b.var()) / 66
    expected = abs(a.mean() - b.mean()) / math.sqrt(pooled * (1 / 64 + 1 / 4))
    assert trials.agreement(many, few, ("score",)) == pytest.approx(expected)
    assert trials.agreement(many, few.assign(score=few["score"] + 3.0), ("score",)) > 4.0
    # With as many trials on each side it is the unpooled error of the difference.
    same = many.iloc[:4].reset_index(drop=True)
    unpooled = math.sqrt(same["score"].var() / 4 + b.var() / 4)
    z = abs(same["score"].mean() - b.mean()) / unpooled
    assert trials.agreement(same, few, ("score",)) == pytest.approx(z)


def test_growth_fits_and_explains_both_axes(report):
    results = report["growth"]
    assert [(r["memory"], r["axis"]) for r in results] == [
        ("DeltaRuleMemory", "N"),
        ("DeltaRuleMemory", "d"),
    ]
    for r in results:
        assert len(r["seconds"]) == len(r["sizes"]) == len(r["flops"])
        assert set(r["fitted_sizes"]) <= set(r["sizes"]) and len(r["fitted_sizes"]) >= 2
        assert math.isfinite(r["exponent"]) and math.isfinite(r["flop_exponent"])
        assert f"{r['exponent']:.2f}" in r["explanation"]
        assert f"{r['flop_exponent']:.2f}" in r["explanation"]


def test_fit_recovers_a_power_law():
    sizes = [4, 8, 16, 32]
    assert growth.fit(sizes, [3.0 * s**1.5 for s in sizes]) == pytest.approx(1.5)


def test_flop_counts_follow_the_code():
    # Hebbian write: a read (2 N d^2) and the outer-product sum (2 N d^2).
    assert costs.write_flops("MatrixAssociativeMemory", 3, 4) == 4 * 3 * 4 * 4
    # Slots: forward 4 N S d, backward 6 N S d.
    assert costs.write_flops("EpisodicMemory", 3, 4, slots=5) == 10 * 3 * 5 * 4
    total = costs.capacity_flops("DeltaRuleMemory", [2, 4], 4, trials=3, writes=2, reads=1)
    per_n = [
        2 * costs.write_flops("DeltaRuleMemory", n, 4) + 2 * n * 4 * 4 + 2 * n * n * 4
        for n in (2, 4)
    ]
    assert total == 3 * sum(per_n)
    with pytest.raises(ValueError, match="no FLOP count"):
        costs.write_flops("AttentionMemory", 2, 2)


def test_flops_compares_with_matmul_of_the_same_flops(report):
    f = report["flops"]
    assert f["matmul_flops"] == pytest.approx(f["flops"], rel=0.25)
    assert f["ratio"] == pytest.approx(f["sweep_flop_s"] / f["matmul_flop_s"])


def test_report_is_written_as_markdown_and_json(report, tmp_path):
    out = tmp_path / "deep" / "benchmarks.md"
    text = run_all.write(report, out)
    assert out.read_text() == text
    for heading in ("# Benchmarks", "## 1.", "## 2.", "## 3."):
        assert heading in text
    for r in report["trials"]["rows"]:
        assert f"| {r['protocol']} | {r['memory']} | 8 |" in text
        assert f"**{r['ratio']:.1f}x**" in text
    saved = json.loads(out.with_suffix(".json").read_text())
    assert set(saved) == {
        "quick",
        "machine",
        "seconds",
        "section_seconds",
        "trials",
        "growth",
        "flops",
        "explorers",
    }
    assert len(saved["trials"]["rows"]) == len(report["trials"]["rows"])
    assert saved["trials"]["settings"]["capacity"]["n_items"] == [2, 4]
    assert saved["flops"]["ratio"] == pytest.approx(report["flops"]["ratio"])


def test_capacity_one_n_per_run_gives_a_ratio_per_n_and_memory(report):
    assert report["trials"]["capacity_by_items"] is None  # skipped by --quick
    rows = trials.by_items(
        8, 1, full_warmup=False, protocol=TINY_PROTOCOLS["capacity"], memories=trials.MEMORIES
    )
    assert [(r["n_items"], r["memory"]) for r in rows] == [
        (n, m) for n in (2, 4) for m in trials.MEMORIES
    ]
    assert all(r["agree"] for r in rows)
    text = trials.items_table(rows)
    assert text.count("\n") == 3  # header, rule, one line per N
    assert all(f"{r['ratio']:.1f}x" in text for r in rows)


@pytest.mark.parametrize("trials_", [1, 2, 7])
def test_scoring_capacity_reads_in_groups_of_trials_changes_no_number(monkeypatch, trials_):
    gen = torch.Generator().manual_seed(3)
    values = torch.randn(trials_, 5, 4, generator=gen)
    reads = values + torch.randn(trials_, 5, 4, generator=gen)
    reads[-1, 0, 0] = float("inf")
    monkeypatch.setattr(_protocol, "SCORE_BYTES", 1 << 40)  # one group
    whole = _protocol.score(reads, values, 5)
    monkeypatch.setattr(_protocol, "SCORE_BYTES", 1)  # groups of two or three trials
    assert _protocol.score(reads, values, 5).equals(whole)


def test_explorers_are_timed_at_their_defaults(report):
    (row,) = report["explorers"]
    assert row["explorer"] == "adaptation" and row["seconds"] > 0
    assert row["settings"] == explorers.defaults("adaptation")
    assert row["settings"]["memory"] == "EpisodicMemory"
    text = run_all.markdown(report)
    assert "## 4. Explorers" in text and f"| {row['seconds']:.2f} |" in text
    assert f"{report['flops']['ratio']:.2f} of the FLOP rate" in text
    assert "slowest adaptation" in text


def test_every_explorer_of_the_widgets_is_benchmarked():
    import memnb.widgets

    names = {n[: -len("_explorer")] for n in dir(memnb.widgets) if n.endswith("_explorer")}
    assert names == set(explorers.EXPLORERS)


def test_quick_loops_are_timed_over_a_sample_and_scaled():
    p = TINY_PROTOCOLS["adaptation"]
    row = trials.measure_pair(p, trials.MEMORIES["DeltaRuleMemory"], 8, 1, False, loop_sample=4)
    assert row["looped_trials_timed"] == 4
    assert row["looped_s"] == pytest.approx(2 * row["looped_timed_s"])
    assert row["ratio"] == pytest.approx(row["looped_s"] / row["batched_s"])
    assert "(4 trials timed)" in trials.table([dict(row, protocol="a", memory="m")])
