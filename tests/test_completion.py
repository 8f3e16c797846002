"""Hopfield networks (classical, dense and modern) and the pattern-completion experiment,
checked against plain step-by-step references written here."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

import memnb
from memnb import (
    AttentionMemory,
    DenseAssociativeMemory,
    HopfieldMemory,
    MatrixAssociativeMemory,
    ModernHopfieldMemory,
    data,
    experiments,
    theory,
)
from memnb.memories import state_size

F64 = torch.float64


def signs(*shape, seed=0):
    return data.binary_patterns(shape[-2], shape[-1], *shape[:-2], seed=seed, dtype=F64)


def flipped(patterns, count, seed=1):
    """``patterns`` with ``count`` units of each row flipped, chosen at random."""
    draw = torch.rand(patterns.shape, generator=torch.Generator().manual_seed(seed))
    chosen = draw.argsort(dim=-1).argsort(dim=-1) < count
    return torch.where(chosen, -patterns, patterns)


# --- plain references: one query, one unit at a time, every unit visited ------------------


def reference_settle(gain, cue, seed, iterations):
    """Asynchronous updates of one cue (a 1-d float64 tensor), as a plain loop.

    ``gain(state, i)`` is the local field of unit ``i``. Each sweep visits every unit in
    the order of fresh uniform keys drawn from a generator seeded with ``seed`` (the
    memory's order), sets it to the sign of its field (a zero field keeps it, a unit at 0
    becomes +1), and the loop stops after a sweep that changes nothing, or after
    ``iterations`` sweeps that changed something. Returns the state and those sweeps.
    """
    generator = torch.Generator().manual_seed(seed)
    state = torch.sign(cue).clone()
    sweeps = 0
    while True:
        keys = torch.rand(1, len(state), generator=generator, dtype=F64)[0]
        changed = False
        for i in keys.argsort().tolist():
            h = gain(state, i)
            new = 1.0 if h > 0 else -1.0 if h < 0 else (1.0 if state[i] == 0 else float(state[i]))
            if new != state[i]:
                state[i] = new
                changed = True
        if not changed:
            return state, sweeps
        sweeps += 1
        if sweeps >= iterations:
            return state, sweeps


def hopfield_field(patterns):
    """d times the field of unit i in the classical network, W = sum xi xi^T / d with
    W_ii = 0 (whole numbers: a zero field is exactly zero)."""
    couplings = patterns.T @ patterns
    couplings.fill_diagonal_(0)
    return lambda state, i: float(couplings[i] @ state)


def dense_field(patterns, n, rectified):
    """The energy difference that decides unit i of a dense memory, from its definition."""

    def f(x):
        return max(x, 0.0) ** n if rectified else x**n

    def field(state, i):
        up, down = state.clone(), state.clone()
        up[i], down[i] = 1.0, -1.0
        return sum(f(float(p @ up)) - f(float(p @ down)) for p in patterns)

    return field


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda d, s: HopfieldMemory(d, seed=s, dtype=F64), lambda p: hopfield_field(p)),
        (
            lambda d, s: DenseAssociativeMemory(d, n=3, seed=s, dtype=F64),
            lambda p: dense_field(p, 3, False),
        ),
        (
            lambda d, s: DenseAssociativeMemory(d, n=4, rectified=True, seed=s, dtype=F64),
            lambda p: dense_field(p, 4, True),
        ),
    ],
    ids=["hopfield", "dense-3", "dense-4-rectified"],
)
@pytest.mark.parametrize(("n_patterns", "flips"), [(3, 6), (12, 10)])
def test_a_read_is_the_plain_asynchronous_loop(build, field, n_patterns, flips):
    dim = 40
    patterns = signs(n_patterns, dim, seed=n_patterns)
    for case in range(4):
        memory = build(dim, 10 + case)
        memory.update(patterns, patterns)
        cue = flipped(patterns[case % 3 : case % 3 + 1], flips, seed=case)
        cue[0, :3] = 0.0  # masked units start at 0
        state, steps, settled = memory.settle(cue)
        expected, sweeps = reference_settle(field(patterns), cue[0], 10 + case, 100)
        assert torch.equal(state[0], expected)
        assert int(steps[0]) == sweeps
        assert bool(settled[0])


def test_one_stored_pattern_is_recalled_exactly_from_a_few_flipped_bits():
    pattern = signs(1, 64).float()
    memory = HopfieldMemory(64, trials=None, seed=0)
    memory.update(pattern, pattern)
    for count in (1, 5, 20):
        assert torch.equal(memory(flipped(pattern, count)), pattern)


def test_a_few_patterns_at_low_load_are_recalled_exactly_in_every_trial():
    patterns = signs(8, 5, 200)  # load 0.025
    for memory in (
        HopfieldMemory(200, trials=8, seed=1),
        DenseAssociativeMemory(200, n=3, trials=8, seed=1),
    ):
        memory.update(patterns.float(), patterns.float())
        state, steps, settled = memory.settle(flipped(patterns.float(), 20))
        assert torch.equal(state, patterns.float())
        assert bool(settled.all()) and bool((steps == 1).all())
        half = torch.where(torch.arange(200) < 100, patterns.float(), 0.0)  # half masked
        assert torch.equal(memory(half), patterns.float())


@pytest.mark.parametrize(
    "memory",
    [
        HopfieldMemory(120, trials=4, seed=0, dtype=F64),
        DenseAssociativeMemory(120, n=3, trials=4, seed=0, dtype=F64),
        DenseAssociativeMemory(120, n=2, rectified=True, trials=4, seed=0, dtype=F64),
    ],
    ids=["hopfield", "dense-3", "dense-2-rectified"],
)
def test_the_energy_never_increases_at_any_asynchronous_update(memory):
    patterns = signs(4, 30, 120)  # load 0.25: long descents from random and noisy cues
    memory.update(patterns, patterns)
    cues = torch.cat([flipped(patterns[:, :10], 40), signs(4, 10, 120, seed=9)], dim=1)
    if isinstance(memory, HopfieldMemory):  # masked units start at 0; F convex for the rest
        cues[:, :5, :30] = 0.0
    states, energies = memory.descent(cues)
    assert energies.dtype == F64 and energies.shape[:2] == (4, 20)
    assert energies.shape[-1] > 20  # many updates changed a unit
    steps = energies.diff(dim=-1)
    assert bool((steps <= 1e-9).all())
    assert bool((steps < -1e-9).any(dim=-1).all())  # every read went down
    assert torch.allclose(energies[..., -1], memory.energy(states))
    assert torch.allclose(energies[..., 0], memory.energy(torch.sign(cues)))


def test_hopfield_energy_and_weights_follow_their_definitions():
    patterns = signs(2, 3, 10)
    memory = HopfieldMemory(10, trials=2, dtype=F64)
    memory.update(patterns, patterns)
    weights = patterns.transpose(-2, -1) @ patterns / 10
    weights.diagonal(dim1=-2, dim2=-1).zero_()
    assert torch.allclose(memory.weights, weights)
    states = signs(2, 4, 10, seed=3)
    expected = -0.5 * torch.einsum("tni,tij,tnj->tn", states, weights, states)
    assert torch.allclose(memory.energy(states), expected)
    assert state_size(memory) == 100


def test_dense_energy_follows_its_definition_and_state_grows():
    patterns = signs(5, 8)
    memory = DenseAssociativeMemory(8, n=3)
    assert state_size(memory) == 0
    memory.update(patterns.float(), patterns.float())
    assert state_size(memory) == 5 * 8
    state = signs(1, 8, seed=4).float()
    expected = -sum(float(p @ state[0]) ** 3 for p in patterns.float())
    assert math.isclose(float(memory.energy(state)[0]), expected)


def test_the_dense_memory_with_n_2_makes_the_updates_of_the_classical_network():
    patterns = signs(6, 14, 100)  # load 0.14: long, order-dependent descents
    cues = flipped(patterns, 25)
    classical = HopfieldMemory(100, trials=6, seed=3)
    dense = DenseAssociativeMemory(100, n=2, trials=6, seed=3)
    for memory in (classical, dense):
        memory.update(patterns.float(), patterns.float())
    one, other = classical.settle(cues.float()), dense.settle(cues.float())
    assert all(torch.equal(a, b) for a, b in zip(one, other, strict=True))
    assert bool((one[1] > 1).any())  # some reads took several sweeps


def test_reads_stop_after_the_sweeps_allowed():
    patterns = signs(2, 40, 60)  # load 0.67: far beyond capacity
    memory = HopfieldMemory(60, iterations=1, trials=2, seed=0)
    memory.update(patterns.float(), patterns.float())
    _, steps, settled = memory.settle(signs(2, 40, 60, seed=5).float())
    assert int(steps.max()) == 1
    assert not bool(settled.all())  # one sweep was not enough for some


def test_an_empty_network_returns_the_signs_of_its_cue():
    cue = torch.tensor([[0.5, -2.0, 0.0, 3.0]])
    for memory in (HopfieldMemory(4), DenseAssociativeMemory(4)):
        assert torch.equal(memory(cue), torch.tensor([[1.0, -1.0, 1.0, 1.0]]))


def test_the_write_reports_the_units_that_disagree_with_their_field():
    first = signs(1, 50).float()
    memory = HopfieldMemory(50)
    assert float(memory.update(first, first)) == 0.0  # an empty network: zero fields
    # agreeing with the first on 30 of 50 units: the field of unit i is xi_i (10 -+ 1) / d,
    # of the first pattern's sign, so the 20 units that differ from it disagree
    second = torch.where(torch.arange(50) < 30, first, -first)
    assert math.isclose(float(memory.update(second, second)), 20 / 50, rel_tol=1e-6)


def test_the_orders_repeat_with_the_seed():
    patterns = signs(3, 20, 80)
    cues = flipped(patterns, 20).float()
    reads = []
    for _ in range(2):
        memory = HopfieldMemory(80, trials=3, seed=7)
        memory.update(patterns.float(), patterns.float())
        reads.append(memory.settle(cues))
    assert all(torch.equal(a, b) for a, b in zip(*reads, strict=True))


# --- the modern network -------------------------------------------------------------------


def test_one_iteration_is_the_attention_read():
    keys, values = torch.randn(3, 20, 16), torch.randn(3, 20, 16)
    queries = torch.randn(3, 7, 16)
    modern, attention = ModernHopfieldMemory(16, 0.5, 1, trials=3), AttentionMemory(16, 0.5, 3)
    for memory in (modern, attention):
        memory.update(keys, values)
    assert torch.equal(modern(queries), attention(queries))


def test_several_iterations_repeat_the_update_among_the_keys():
    patterns = torch.randn(2, 12, 8, dtype=F64)
    values = torch.randn(2, 12, 5, dtype=F64)
    memory = ModernHopfieldMemory(8, beta=0.3, iterations=4, trials=2, value_dim=5, dtype=F64)
    memory.update(patterns, values)
    x = torch.randn(2, 3, 8, dtype=F64)
    expected = x
    for _ in range(3):  # Ramsauer et al.'s update, written out
        expected = torch.softmax(0.3 * expected @ patterns.transpose(-2, -1), -1) @ patterns
    expected = torch.softmax(0.3 * expected @ patterns.transpose(-2, -1), -1) @ values
    assert torch.allclose(memory(x), expected)
    reads, steps, settled = memory.settle(x)
    assert torch.allclose(reads, expected)
    assert steps.shape == settled.shape == (2, 3) and bool((steps <= 4).all())


def test_the_modern_energy_falls_at_every_update():
    patterns = signs(4, 30, 16)  # many patterns in a few dimensions: blends
    energies = []
    for iterations in range(1, 6):
        memory = ModernHopfieldMemory(16, beta=0.1, iterations=iterations, trials=4, dtype=F64)
        memory.update(patterns, patterns)
        state = memory(flipped(patterns[:, :8], 5))
        energies.append(memory.energy(state))
    steps = torch.stack(energies).diff(dim=0)
    assert bool((steps <= 1e-12).all()) and bool((steps < -1e-9).any())


def test_a_sharp_modern_network_recalls_a_pattern_in_one_update_and_settles():
    patterns = signs(16, 16)
    memory = ModernHopfieldMemory(16, beta=8.0, iterations=2)
    memory.update(patterns.float(), patterns.float())
    reads, steps, settled = memory.settle(flipped(patterns[:4].float(), 2))
    assert torch.allclose(reads, patterns[:4].float(), atol=1e-4)
    assert steps.tolist() == [1, 1, 1, 1] and bool(settled.all())


# --- the experiment -----------------------------------------------------------------------


def test_completion_frame_and_cues():
    frame = experiments.completion(
        HopfieldMemory, (2, 8), dim=50, noise=(0.0, 0.1, 0.5), trials=3, cues=4
    )
    assert list(frame.columns) == [
        "trial", "n_patterns", "load", "noise", "cue_overlap", "overlap", "exact", "steps",
        "settled", "diverged", "memory", "dim", "kind", "correlation", "cues", "iterations",
        "seed",
    ]  # fmt: skip
    assert len(frame) == 3 * 2 * 3
    assert np.allclose(frame["cue_overlap"], 1 - 2 * (frame["noise"] * 50).round() / 50)
    assert np.allclose(frame["load"], frame["n_patterns"] / 50)
    assert frame.groupby("n_patterns")["cues"].first().tolist() == [2, 4]
    low = frame[(frame["n_patterns"] == 2) & (frame["noise"] <= 0.1)]
    assert (low["exact"] == 1).all() and np.allclose(low["overlap"], 1)
    assert (frame["iterations"] == 100).all() and not frame["diverged"].any()


def test_masked_cues_and_the_noise_levels_are_nested():
    frame = experiments.completion(
        MatrixAssociativeMemory, 6, dim=40, noise=(0.25, 0.5), kind="mask", trials=2
    )
    assert np.allclose(frame["cue_overlap"], 1 - frame["noise"])
    assert (frame["steps"] == 1).all() and (frame["settled"] == 1).all()
    assert frame["iterations"].isna().all()
    means = frame.groupby("noise")["overlap"].mean()
    assert means[0.25] > means[0.5]


class Echo:
    """A memory that stores nothing and returns its cue."""

    def __init__(self, dim):
        pass

    def update(self, keys, values):
        return None

    def __call__(self, queries):
        return queries


def test_a_memory_that_returns_its_cue_scores_the_cue_overlap():
    frame = experiments.completion(Echo, (3, 5), dim=30, noise=(0.0, 0.2), trials=2)
    assert np.allclose(frame["overlap"], frame["cue_overlap"])
    assert np.allclose(frame["exact"], (frame["noise"] == 0).astype(float))


def test_the_load_decides_the_classical_recall():
    frame = experiments.completion(HopfieldMemory, (5, 40), dim=100, noise=0.1, trials=8)
    overlap = frame.groupby("n_patterns")["overlap"].mean()
    assert overlap[5] > 1 - 1e-9 and overlap[40] < 0.5  # loads 0.05 and 0.4


def test_iterations_go_to_the_memory_and_only_to_one_that_takes_them():
    frame = experiments.completion(ModernHopfieldMemory, 4, dim=16, iterations=3, trials=2)
    assert (frame["iterations"] == 3).all()
    frame = experiments.completion(HopfieldMemory, 4, dim=16, iterations=2, trials=2)
    assert (frame["iterations"] == 2).all()
    with pytest.raises(TypeError, match=r"iterations=3.*MatrixAssociativeMemory.*no 'iterations'"):
        experiments.completion(MatrixAssociativeMemory, 4, dim=16, iterations=3)


def test_letters_and_correlated_patterns():
    letters = data.letter_images("AEHK")
    frame = experiments.completion(HopfieldMemory, (1, 4), 256, noise=0.0, patterns=letters)
    assert (frame[frame["n_patterns"] == 1]["exact"] == 1).all()
    same = experiments.completion(HopfieldMemory, (1, 4), 256, noise=0.0, patterns=letters)
    pd.testing.assert_frame_equal(frame, same)
    correlated = experiments.completion(HopfieldMemory, 10, 100, correlation=0.3, trials=4)
    plain = experiments.completion(HopfieldMemory, 10, 100, trials=4)
    assert correlated["overlap"].mean() < plain["overlap"].mean()


def test_binary_patterns_have_the_correlation_asked_for():
    patterns = data.binary_patterns(100, 400, 4, correlation=0.25, seed=2, dtype=F64)
    overlaps = patterns @ patterns.transpose(-2, -1) / 400
    off = overlaps[:, ~torch.eye(100, dtype=torch.bool)]
    assert abs(float(off.mean()) - 0.25) < 0.02
    assert set(patterns.unique().tolist()) == {-1.0, 1.0}
    assert abs(float(data.binary_patterns(100, 400, seed=1).mean())) < 0.02


def test_letter_images_are_distinct_binary_glyphs():
    images = data.letter_images()
    assert images.shape == (len(data.LETTERS), 256)
    assert set(images.unique().tolist()) == {-1.0, 1.0}
    assert len({tuple(row.tolist()) for row in images}) == len(data.LETTERS)
    ink = (images > 0).double().mean(dim=-1)
    assert bool(((ink > 0.1) & (ink < 0.6)).all())
    small = data.letter_images("T", size=8).view(8, 8)
    assert bool((small[0] > 0).sum() >= 5) and bool((small[:, 3:5] > 0).all())  # bar and stem


def test_sweep_runs_completion_over_the_three_networks():
    factories = memnb.memories.pick("HopfieldMemory", "DenseAssociativeMemory")
    factories["ModernHopfieldMemory"] = ModernHopfieldMemory
    frame = experiments.sweep(experiments.completion, factories, n_patterns=2, dim=32, trials=2)
    assert frame["memory"].unique().tolist() == list(factories)
    assert (frame["exact"] == 1).all()


# --- where reads end, the closed forms, the figures ---------------------------------------


def test_at_low_load_random_cues_end_at_patterns_or_mixtures_and_mixtures_are_kept():
    frame = experiments.attractors(HopfieldMemory, (2, 3, 30), 200, cues=16, trials=4)
    assert np.allclose(frame[["at_pattern", "at_mixture", "elsewhere"]].sum(axis=1), 1)
    low, high = (frame[frame["n_patterns"] == n] for n in (3, 30))
    assert frame[frame["n_patterns"] == 2]["mixture_kept"].isna().all()  # no three to mix
    assert (low["elsewhere"] == 0).all() and (low["mixture_kept"] == 1).all()
    assert low["at_mixture"].mean() > 0  # some random cues settle in a mixture
    assert high["mixture_kept"].mean() < 0.2 and high["elsewhere"].mean() > 0.5  # load 0.15


def test_a_memory_that_returns_its_cue_ends_elsewhere_and_keeps_every_mixture():
    frame = experiments.attractors(Echo, 5, 100, cues=8, trials=2)
    assert (frame["elsewhere"] == 1).all() and (frame["mixture_kept"] == 1).all()


def test_the_classical_theory_gives_0_138_and_the_retrieval_overlap():
    critical = theory.hopfield_critical_load()
    assert abs(critical - 0.1379) < 1e-4
    m = theory.hopfield_overlap([0.01, 0.1, critical - 1e-6, critical + 1e-3])
    assert m[0] > 0.9999 and 0.99 < m[1] < 1 and abs(m[2] - 0.9674) < 2e-3
    assert np.isnan(m[3])
    # the overlap solves the equations it comes from: m = erf(y), load = f(y)
    y = float(torch.special.erfinv(torch.tensor(m[1], dtype=F64)))
    load = 0.5 * (math.erf(y) / y - 2 / math.sqrt(math.pi) * math.exp(-y * y)) ** 2
    assert abs(load - 0.1) < 1e-8


def test_the_dense_and_modern_capacities_follow_their_formulas():
    assert np.isclose(theory.dense_capacity(100, 2), 100 / (2 * math.log(100)))
    assert np.isclose(theory.dense_capacity(100, 4), 100**3 / (2 * 5 * 3 * math.log(100)))
    # exact cues: another pattern matches with probability 2^-d
    p = 2.0**-20
    assert math.isclose(theory.modern_capacity(20, 0), 1 + math.log(0.95) / math.log1p(-p))
    rates = np.diff(np.log([theory.modern_capacity(d, 2) for d in (40, 50, 60)]))
    assert np.all(rates > 5) and np.all(rates < 50 * math.log(2))  # exponential in d


def test_the_completion_figures_draw(tmp_path):
    frame = experiments.completion(HopfieldMemory, (4, 8), 40, (0.0, 0.2), trials=2)
    fig, axes = memnb.plots.completion_panels(frame, hue="n_patterns", title="t")
    assert len(axes) == 2 and axes[0].get_legend() is not None
    letters = data.letter_images("HT")
    fig, axes = memnb.plots.pattern_images({"a": letters, "b": -letters})
    assert axes.shape == (2, 2)
    assert memnb.widgets.completion_figure("ModernHopfieldMemory", 0.3, "mask", 50, trials=2)
