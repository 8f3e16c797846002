"""Fair accuracy numbers: cue noise, the cosine criterion, chance and state size in the
capacity and key-recall frames, and the chance line and criterion label of the figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from readers import HebbianNoTrials, HebbianWithTrials

import memnb
from memnb import AttentionMemory, MatrixAssociativeMemory, summaries
from memnb.data import random_pairs
from memnb.experiments import capacity, key_recall
from memnb.experiments._build import child_seeds

NEW = ["cosine_recall", "chance", "state_size", "cue_noise", "cosine_threshold"]


class Spy(MatrixAssociativeMemory):
    """A Hebbian memory that records the keys it is written and the queries it is read."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.written, self.queries = [], []

    def update(self, keys, values):
        self.written.append(keys.clone())
        return super().update(keys, values)

    def forward(self, queries):
        self.queries.append(queries.clone())
        return super().forward(queries)


def spied(protocol, *args, **kwargs):
    spies = []

    def factory(dim, trials=None):
        spies.append(Spy(dim, trials=trials))
        return spies[-1]

    return protocol(factory, *args, **kwargs), spies


class LookupTable:
    """A reader's lookup table: the value of a stored key that the query equals exactly,
    zeros for any other query (no trials argument, no state_size)."""

    def __init__(self, dim):
        self.keys, self.values = torch.zeros(0, dim), torch.zeros(0, dim)

    def update(self, keys, values):
        self.keys = torch.cat([self.keys, keys])
        self.values = torch.cat([self.values, values])

    def __call__(self, queries):
        match = (queries[:, None, :] == self.keys[None]).all(dim=-1)
        found = self.values[match.float().argmax(dim=-1)]
        return torch.where(match.any(dim=-1, keepdim=True), found, 0.0)


# ---------------------------------------------------------------------------------------------
# without noise, every number is what it was


def test_the_old_columns_keep_their_values():
    """Numbers of the protocols before cue noise and the cosine criterion were added."""
    frame = capacity(memnb.EpisodicMemory, [4, 16], steps=(1, 3), trials=3, dim=8, seed=0)
    accuracy = [0.5, 0.5, 0.5, 0.75, 1.0, 0.75, 0.1875, 0.1875, 0.1875, 0.3125, 0.5, 0.5]
    assert frame["accuracy"].tolist() == accuracy
    mse = [0.72311017, 0.593335991, 1.23634312, 0.457965797, 0.337581956, 0.948595553]
    mse += [0.940584014, 0.864522937, 0.926589601, 0.777995017, 0.69868328, 0.773039014]
    np.testing.assert_allclose(frame["mse"], mse, rtol=1e-5)
    keys = key_recall(memnb.DeltaRuleMemory, "auto", [4, 16], 2, 2, 8, n_unseen=4)
    assert keys["accuracy"].tolist() == [0.5, 1.0, 0.0, 0.5, 0.0, 0.0625, 0.0, 0.0]
    mse = [5.69295183, 0.0418860391, 1.70339578, 0.39481598]
    mse += [24.8177714, 8.7186229, 7.25052988, 4.23969351]
    np.testing.assert_allclose(keys["mse"], mse, rtol=1e-5)


def test_capacity_columns_are_the_old_ones_with_the_new_ones_added():
    frame = capacity(MatrixAssociativeMemory, [2, 8], steps=(1, 2), trials=3, dim=8, seed=1)
    old = ["trial", "n_items", "accuracy", "mse", "cosine", "diverged", "memory", "dim"]
    old += ["steps", "seed"]
    assert [c for c in frame.columns if c not in NEW] == old
    assert set(frame.columns) == set(old + NEW)
    assert (frame["cue_noise"] == 0).all() and (frame["cosine_threshold"] == 0.9).all()


@pytest.mark.parametrize("protocol", ["capacity", "key_recall"])
def test_cue_noise_zero_reads_the_keys_and_moves_no_other_draw(protocol):
    run = dict(n_items=[4, 8], steps=(1, 2), trials=3, dim=8, seed=4)
    if protocol == "key_recall":
        run["n_unseen"] = 4
    function = capacity if protocol == "capacity" else key_recall
    plain, plain_spies = spied(function, **run)
    both, spies = spied(function, **run, cue_noise=(0.0, 0.3))
    zero = both[both["cue_noise"] == 0].reset_index(drop=True)
    pd.testing.assert_frame_equal(zero, plain, check_exact=True)
    for spy, before in zip(spies, plain_spies, strict=True):
        for a, b in zip(spy.written, before.written, strict=True):
            assert torch.equal(a, b)  # the same keys written, whatever the noise
    if protocol == "capacity":  # the keys are those of the data seed, read back as they are
        data_seed = child_seeds(4, 2)[0]
        keys, _ = random_pairs(8, 8, 3, seed=data_seed)
        assert torch.equal(plain_spies[-1].written[0], keys)
        assert all(torch.equal(q, keys) for q in plain_spies[-1].queries)


def test_cue_noise_has_the_relative_norm_asked_and_shares_its_directions():
    levels = (0.1, 0.5)
    frame, spies = spied(capacity, [4, 8], steps=(1, 2), trials=3, dim=16, cue_noise=levels)
    assert list(frame["cue_noise"].drop_duplicates()) == list(levels)
    first, last = spies
    keys = last.written[0]
    # reads: per count, one per level
    assert len(last.queries) == 2 * len(levels)
    units = []
    for level, queries in zip(levels, last.queries[: len(levels)], strict=True):
        noise = queries - keys
        ratio = noise.norm(dim=-1) / keys.norm(dim=-1)
        torch.testing.assert_close(ratio, torch.full_like(ratio, level), rtol=1e-5, atol=0)
        units.append(noise / noise.norm(dim=-1, keepdim=True))
    torch.testing.assert_close(units[0], units[1], rtol=0, atol=1e-5)  # one direction
    assert torch.equal(last.queries[0], last.queries[len(levels)])  # the same after each count
    # nested over N: the cues of the first 4 pairs are the same at N = 4 and N = 8
    torch.testing.assert_close(first.queries[0], last.queries[0][:, :4])
    # a different direction for every item and trial
    cosines = units[0] @ units[0].transpose(-2, -1)
    assert (cosines - torch.eye(8)).abs().max() < 0.99


def test_key_recall_perturbs_the_stored_queries_only():
    run = dict(pairs="auto", n_items=[8], steps=1, trials=3, dim=16, n_unseen=4)
    frame, (spy,) = spied(key_recall, **run, cue_noise=(0.0, 0.4))
    stored, unseen_keys = spy.queries[0], spy.queries[1]  # level 0: stored, then unseen
    assert len(spy.queries) == 3  # the unseen contexts are read once
    noise = spy.queries[2] - stored
    ratio = noise.norm(dim=-1) / stored.norm(dim=-1)
    torch.testing.assert_close(ratio, torch.full_like(ratio, 0.4), rtol=1e-5, atol=0)
    assert unseen_keys.shape[1] == 4
    unseen = frame[frame["tested"] == "unseen"]
    numbers = unseen.drop(columns="cue_noise").groupby(unseen["cue_noise"])
    zero, noisy = (group.reset_index(drop=True) for _, group in numbers)
    pd.testing.assert_frame_equal(zero, noisy)  # the same rows at every level


# ---------------------------------------------------------------------------------------------
# what noise does: a memory degrades gracefully, a lookup table collapses


def test_an_exact_store_falls_from_full_recall_as_the_cue_noise_grows():
    levels = (0.0, 0.5, 1.0, 2.0)
    frame = capacity(AttentionMemory, [32], steps=1, trials=8, dim=32, cue_noise=levels)
    means = frame.groupby("cue_noise")["accuracy"].mean()
    assert (frame.loc[frame["cue_noise"] == 0, "accuracy"] == 1).all()
    assert means.is_monotonic_decreasing and means[2.0] < 0.9
    assert means[2.0] > 1 / 32  # still far above chance


def test_a_lookup_table_falls_to_chance_as_soon_as_there_is_noise():
    levels = (0.0, 0.01, 0.3)
    frame = capacity(LookupTable, [4, 16], steps=1, trials=3, dim=8, cue_noise=levels)
    assert "state_size" not in frame.columns  # a reader's class without state_size()
    exact = frame[frame["cue_noise"] == 0]
    assert (exact["accuracy"] == 1).all() and (exact["cosine_recall"] == 1).all()
    noisy = frame[frame["cue_noise"] > 0]
    assert (noisy["accuracy"] <= noisy["chance"]).all()  # zero reads: misses
    assert (noisy["cosine_recall"] == 0).all()
    keys = key_recall(LookupTable, "hetero", [8], 1, 2, 8, n_unseen=4, cue_noise=levels)
    stored = keys[keys["tested"] == "stored"].groupby("cue_noise")["accuracy"].mean()
    assert stored[0.0] == 1 and stored[0.01] == 0 and stored[0.3] == 0


# ---------------------------------------------------------------------------------------------
# the cosine criterion, chance and state size


def test_cosine_recall_is_the_fraction_of_reads_near_their_value():
    n, trials, dim, threshold = 16, 4, 16, 0.5
    frame = capacity(
        MatrixAssociativeMemory, [n], steps=1, trials=trials, dim=dim, cosine_threshold=threshold
    )
    keys, values = random_pairs(n, dim, trials, seed=child_seeds(0, 2)[0])
    memory = MatrixAssociativeMemory(dim, trials=trials)
    memory.update(keys, values)
    cos = torch.nn.functional.cosine_similarity(memory(keys).double(), values.double(), dim=-1)
    expected = (cos >= threshold).double().mean(dim=1).numpy()
    np.testing.assert_array_equal(frame["cosine_recall"].to_numpy(), expected)
    assert ((frame["cosine_recall"] >= 0) & (frame["cosine_recall"] <= 1)).all()
    assert 0 < frame["cosine_recall"].mean() < 1  # the threshold decides some items
    assert (frame["cosine_threshold"] == threshold).all()


@pytest.mark.parametrize("memory", ["MatrixAssociativeMemory", "DeltaRuleMemory", "EpisodicMemory"])
def test_cosine_recall_falls_as_the_threshold_rises(memory):
    run = dict(n_items=[8, 32], steps=2, trials=3, dim=16)
    factory = memnb.memories.MEMORIES[memory]
    loose = capacity(factory, **run, cosine_threshold=0.0)
    strict = capacity(factory, **run, cosine_threshold=0.99)
    assert (loose["cosine_recall"] >= strict["cosine_recall"]).all()
    assert (strict["cosine_recall"] <= 1).all()
    pd.testing.assert_series_equal(loose["accuracy"], strict["accuracy"])  # same reads


def test_chance_is_one_over_the_number_of_candidates():
    frame = capacity(MatrixAssociativeMemory, [2, 8, 32], steps=1, trials=2, dim=8)
    np.testing.assert_array_equal(frame["chance"], 1 / frame["n_items"])
    keys = key_recall(MatrixAssociativeMemory, "hetero", [4, 8], 1, 2, 8, n_unseen=6)
    stored, unseen = keys[keys["tested"] == "stored"], keys[keys["tested"] == "unseen"]
    np.testing.assert_array_equal(stored["chance"], 1 / stored["n_items"])
    np.testing.assert_array_equal(unseen["chance"], 1 / (unseen["n_items"] + 6))


def test_state_size_is_that_of_the_memory_after_the_writes():
    frame = capacity(AttentionMemory, [4, 8], steps=(1, 3), trials=2, dim=8)
    np.testing.assert_array_equal(frame["state_size"], frame["n_items"] * frame["steps"] * 16)
    matrix = capacity(MatrixAssociativeMemory, [4, 8], steps=1, trials=2, dim=8)
    assert (matrix["state_size"] == memnb.state_size(MatrixAssociativeMemory(8))).all()
    keys = key_recall(memnb.EpisodicMemory, "auto", [4], 1, 2, 8, n_unseen=4)
    assert (keys["state_size"] == memnb.state_size(memnb.EpisodicMemory(8))).all()
    for reader in (HebbianNoTrials, HebbianWithTrials):  # no state_size(): no column
        assert "state_size" not in capacity(reader, [4], steps=1, trials=2, dim=8).columns
        assert "state_size" not in key_recall(reader, "auto", [4], 1, 2, 8, n_unseen=2).columns


# ---------------------------------------------------------------------------------------------
# capacity under either criterion


def test_capacity_at_reads_either_criterion():
    frame = capacity(MatrixAssociativeMemory, [4, 8, 16, 32], steps=1, trials=8, dim=16)
    by_cosine = summaries.capacity_at(frame, y="cosine_recall", ci=0.9, n_boot=50)
    renamed = frame.drop(columns="accuracy").rename(columns={"cosine_recall": "accuracy"})
    pd.testing.assert_frame_equal(by_cosine, summaries.capacity_at(renamed, ci=0.9, n_boot=50))
    assert {"capacity", "lower_bound", "low", "high"} <= set(by_cosine.columns)


# ---------------------------------------------------------------------------------------------
# figures: chance as a dotted grey line, the criterion on the y axis


def _chance_lines(ax):
    return [line for line in ax.lines if line.get_label() == "chance"]


def test_capacity_figures_draw_chance_and_name_the_criterion():
    from memnb import plots

    frame = capacity(MatrixAssociativeMemory, [2, 8, 32], steps=1, trials=3, dim=8)
    ax = plots.capacity_curve(frame, threshold=0.95)
    (line,) = _chance_lines(ax)
    np.testing.assert_allclose(line.get_ydata(), [1 / 2, 1 / 8, 1 / 32])
    assert line.get_linestyle() == ":" and line.get_color() == plots.CHANCE_STYLE["color"]
    assert ax.get_ylabel() == "recall, nearest of N values"
    assert "chance" in [t.get_text() for t in ax.get_legend().get_texts()]
    cosine = plots.capacity_curve(frame, "cosine_recall")
    assert cosine.get_ylabel() == "recall, cosine >= 0.9" and not _chance_lines(cosine)
    _, axes = plots.capacity_panels(frame, y="cosine_recall")
    assert axes[0].get_ylabel() == "recall, cosine >= 0.9"
    old = plots.capacity_curve(frame.drop(columns="chance"))  # a frame without chance
    assert not _chance_lines(old) and old.get_ylabel() == plots.CAPACITY_LABELS["accuracy"]
    sweep = plots.sweep_curve(frame, "n_items", "accuracy", logx=True)
    assert len(_chance_lines(sweep)) == 1 and sweep.get_ylabel() == plots.NEAREST


def test_key_figures_draw_chance_for_each_kind_of_query():
    from memnb import plots

    frame = key_recall(MatrixAssociativeMemory, "hetero", [4, 16], 1, 3, 8, n_unseen=8)
    _, axes = plots.key_panels(frame)
    for ax, tested in zip(axes, ("stored", "unseen"), strict=True):
        (line,) = _chance_lines(ax)
        part = frame[frame["tested"] == tested].groupby("n_items")["chance"].mean()
        np.testing.assert_allclose(line.get_ydata(), part.to_numpy())
    assert axes[0].get_ylabel() == "recall, nearest of N values"
    assert axes[1].get_ylabel() == "recall, nearest of N + 8 values"
    _, axes = plots.key_panels(frame, "cosine_recall")
    assert axes[0].get_ylabel() == "recall, cosine >= 0.9" and not _chance_lines(axes[0])
    _, axes = plots.key_recall_panels(frame)
    chance = [line for line in axes[0].lines if line.get_linestyle() == ":"]
    assert len(chance) == 2 and len(_chance_lines(axes[0])) == 1
    assert axes[0].get_ylabel() == "recall, nearest of N values\n(N + 8 for unseen contexts)"


def test_forgetting_figures_draw_chance_dotted_grey():
    from memnb import plots
    from memnb.experiments import forgetting, forgetting_trace

    frame = forgetting(MatrixAssociativeMemory, trials=2, dim=8)
    ax = plots.task_accuracies(frame)
    (line,) = _chance_lines(ax)
    assert line.get_linestyle() == ":" and ax.get_xlabel() == plots.ACCURACY
    trace = forgetting_trace(MatrixAssociativeMemory, trials=2, dim=8)
    ax = plots.forgetting_trace(trace)
    (line,) = _chance_lines(ax)
    assert line.get_linestyle() == ":" and "nearest" in ax.get_ylabel()


def test_dimension_figures_draw_chance_on_every_recall_panel():
    from memnb import plots
    from memnb.experiments import projection_trace, token_dimensions

    trace = projection_trace(16, 4, steps=(0, 1, 3), n_items=5, trials=2)
    assert (trace["chance"] == 1 / 5).all()
    _, axes = plots.projection_panels(trace)
    assert [len(_chance_lines(ax)) for ax in axes] == [0, 0, 1]
    (line,) = _chance_lines(axes[2])
    np.testing.assert_allclose(line.get_ydata(), [1 / 5] * 3)
    assert "nearest of N" in axes[2].get_ylabel()
    assert "chance" in [t.get_text() for t in axes[2].get_legend().get_texts()]
    sweep = token_dimensions(MatrixAssociativeMemory, dims=(8, 16), n_items=5, trials=2)
    one = projection_trace(16, 4, ["frozen"], steps=(0, 1), n_items=5, trials=2)
    _, axes = plots.dimension_panels(sweep, one)
    assert [len(_chance_lines(ax)) for ax in axes] == [1, 0, 1]
    assert [t.get_text() for t in axes[2].get_legend().get_texts()] == ["chance"]
