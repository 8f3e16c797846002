"""Tests of the sequence experiments: probes, chaining, free recall and the lag-CRP."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import pytest
import torch
from readers import HebbianNoTrials

import memnb
from memnb import summaries
from memnb.data import human_lag_crp
from memnb.experiments import chain_recall, context_vectors, free_recall, probe
from memnb.summaries import crp_at, lag_crp


def test_hebbian_algebra_float64():
    gen = torch.Generator().manual_seed(1)
    a, b, c = torch.randn(3, 32, generator=gen, dtype=torch.float64)
    memory = memnb.MatrixAssociativeMemory(32, dtype=torch.float64)
    memory.update(torch.stack([a, b]), torch.stack([b, c]))
    read = memory(b[None])[0]
    torch.testing.assert_close(read, c * b.dot(b) + b * a.dot(b), rtol=1e-12, atol=1e-12)


def test_probe_shape_and_determinism():
    frame = probe(memnb.MatrixAssociativeMemory, trials=4, dim=16, unstored=["D"])
    assert len(frame) == 4 * 4 * 4
    assert set(frame["cue"]) == set(frame["target"]) == {"A", "B", "C", "D"}
    again = probe(memnb.MatrixAssociativeMemory, trials=4, dim=16, unstored=["D"])
    pd.testing.assert_frame_equal(frame, again)
    other = probe(memnb.MatrixAssociativeMemory, trials=4, dim=16, unstored=["D"], seed=1)
    assert not frame["cosine"].equals(other["cosine"])


def test_probe_self_cosine_is_one_and_hebbian_returns_c():
    frame = probe(memnb.MatrixAssociativeMemory, trials=8, dim=256).set_index(["cue", "target"])
    assert (frame.loc[("B", "C"), "cosine"] > 0.9).all()


def test_probe_transpose_reads_backwards_and_needs_a_matrix():
    frame = probe(memnb.MatrixAssociativeMemory, trials=8, dim=256, transpose=True)
    back = frame[(frame["cue"] == "C") & (frame["target"] == "B")]
    assert (back["cosine"] > 0.9).all()
    with pytest.raises(TypeError, match="transpose"):
        probe(memnb.AttentionMemory, trials=2, dim=8, transpose=True)


def test_chain_on_orthonormal_items_is_exact_for_hebbian():
    # Orthonormal items: M x_i = x_{i+1} exactly, so every chained read is right.
    # In high dimension random unit items are nearly orthonormal: chain_recall is near exact.
    frame = chain_recall(memnb.MatrixAssociativeMemory, 6, 3, dim=2048, kind="unit")
    assert frame["correct"].all() and (frame["cosine"] > 0.95).all()
    q = torch.linalg.qr(torch.randn(6, 6, dtype=torch.float64))[0].T  # rows orthonormal
    memory = memnb.MatrixAssociativeMemory(6, dtype=torch.float64)
    memory.update(q[:-1], q[1:])
    x = q[:1]
    for i in range(1, 6):
        x = memory(x)
        torch.testing.assert_close(x, q[i : i + 1], rtol=1e-12, atol=1e-12)


def test_chain_recall_shape_and_determinism():
    frame = chain_recall(memnb.DeltaRuleMemory, length=5, trials=3, dim=16)
    assert len(frame) == 3 * 4
    assert sorted(frame["position"].unique()) == [2, 3, 4, 5]
    pd.testing.assert_frame_equal(frame, chain_recall(memnb.DeltaRuleMemory, 5, 3, 16))


def test_reader_memory_runs_through_every_experiment():
    assert len(probe(HebbianNoTrials, trials=2, dim=8)) == 2 * 9
    assert len(chain_recall(HebbianNoTrials, length=4, trials=2, dim=8)) == 2 * 3
    for model in ("chain", "context"):
        table = free_recall(HebbianNoTrials, model, length=5, trials=2, dim=16)
        assert (table["trial_type"] == "recall").sum() == 2 * 5


def test_context_vectors_are_unit_and_drift():
    items = memnb.data.random_vectors(6, 32, 2, kind="unit", seed=0)
    start = memnb.data.random_vectors(1, 32, 2, kind="unit", seed=1)[:, 0]
    ctx = context_vectors(items, 0.5, start)
    assert ctx.shape == (2, 6, 32)
    torch.testing.assert_close(ctx.norm(dim=-1), torch.ones(2, 6))
    sims = (ctx[:, :, None] * ctx[:, None]).sum(-1).mean(0)
    assert sims[0, 1] > sims[0, 3]  # neighbours are more alike than distant positions
    with pytest.raises(ValueError, match="rho"):
        context_vectors(items, 1.0, start)


def test_free_recall_recalls_each_item_once_and_is_deterministic():
    table = free_recall(memnb.MatrixAssociativeMemory, "context", length=8, trials=4, dim=64)
    recalls = table[table["trial_type"] == "recall"]
    for _, group in recalls.groupby("subject"):
        assert sorted(group["item"]) == list(range(1, 9))
    again = free_recall(memnb.MatrixAssociativeMemory, "context", length=8, trials=4, dim=64)
    pd.testing.assert_frame_equal(table, again)


def test_free_recall_table_is_psifr_s():
    from psifr import fr

    table = free_recall(memnb.MatrixAssociativeMemory, "chain", length=5, trials=3, dim=32)
    recalls = table[table["trial_type"] == "recall"].groupby("subject")["item"].agg(list)
    built = fr.table_from_lists([1, 2, 3], [[1, 2, 3, 4, 5]] * 3, recalls.tolist())
    pd.testing.assert_frame_equal(table.drop(columns="diverged"), built)
    assert table["diverged"].dtype == bool


def test_lag_crp_on_a_hand_made_sequence():
    # One list of 4 items recalled in order 1, 2, 4, 3:
    # from 1 lags +1, +2, +3 possible, +1 made; from 2 lags +1, +2 possible, +2 made;
    # from 4 only lag -1 (item 3) is possible and is made.
    from psifr import fr

    table = fr.table_from_lists([1], [[1, 2, 3, 4]], [[1, 2, 4, 3]])
    crp = lag_crp(table)
    prob = crp.set_index("lag")["prob"]
    assert prob[1.0] == pytest.approx(1 / 2)
    assert prob[2.0] == pytest.approx(1 / 2)
    assert prob[3.0] == pytest.approx(0.0)
    assert prob[-1.0] == pytest.approx(1.0)
    assert crp_at(crp, (-1, 1)).tolist() == pytest.approx([1.0, 0.5])


def test_chain_model_is_all_forward():
    crp = lag_crp(free_recall(memnb.MatrixAssociativeMemory, "chain", 8, 16, 128, tau=0.05))
    at = crp_at(crp, (-1, 1))
    assert at[1.0] > 0.95 and at[-1.0] < 0.05


def test_human_data_bundled_offline():
    crp = human_lag_crp("peers_notask")
    assert {"subject", "lag", "prob"} <= set(crp.columns)
    with pytest.raises(ValueError, match="study"):
        human_lag_crp("Nobody2099")
    with pytest.raises(ValueError, match="list_type"):
        human_lag_crp("peers_notask", list_type="pure")
    with pytest.raises(ValueError, match="list_type.*'mixed', 'pure'"):
        human_lag_crp("Morton2013", list_type="blocked")


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: chain_recall(memnb.MatrixAssociativeMemory, length=1), "length"),
        (lambda: free_recall(memnb.MatrixAssociativeMemory, length=1), "length"),
        (lambda: free_recall(memnb.MatrixAssociativeMemory, model="markov"), "model"),
        (lambda: free_recall(memnb.MatrixAssociativeMemory, rho=1.5), "rho"),
        (lambda: free_recall(memnb.MatrixAssociativeMemory, tau=0), "tau"),
        (lambda: probe(memnb.MatrixAssociativeMemory, pairs=[]), "pairs"),
        (lambda: probe(memnb.MatrixAssociativeMemory, pairs=[("A", "B", "C")]), "pairs"),
        (lambda: probe(memnb.MatrixAssociativeMemory, unstored=["A"]), "unstored"),
        (lambda: probe(memnb.MatrixAssociativeMemory, trials=0), "trials"),
        (lambda: lag_crp(pd.DataFrame({"subject": [1]})), "table lacks column"),
    ],
)
def test_bad_input_names_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_lag_crp_needs_a_frame():
    with pytest.raises(TypeError, match="table"):
        lag_crp([1, 2, 3])


def test_chain_recall_reports_fit_error_and_chance():
    # Near-orthonormal unit items: one Hebbian write stores each transition almost exactly,
    # and DeltaNet's pass fits them; a delta-rule step far past 2 / |k|^2 blows the fit up.
    exact = chain_recall(memnb.MatrixAssociativeMemory, 6, 3, dim=2048, steps=1, kind="unit")
    assert (exact["fit_error"] < 0.1).all() and (exact["chance"] == 1 / 6).all()
    fitted = chain_recall(memnb.DeltaNetMemory, 6, 3, dim=64, steps=3)
    assert (fitted["fit_error"] < 0.05).all()
    wild = chain_recall(partial(memnb.DeltaRuleMemory, lr=1.0), 6, 3, dim=16, steps=3)
    assert not (wild["fit_error"] < 1).any()  # far off, or NaN where a read is not finite


def test_chance_line_joins_the_legend():
    import matplotlib.pyplot as plt

    from memnb import plots

    frame = chain_recall(memnb.MatrixAssociativeMemory, length=4, trials=2, dim=16)
    ax = plots.chance_line(plots.chain_curve(frame), frame)
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts[-1] == "chance" and "MatrixAssociativeMemory" in texts
    assert ax.lines[-1].get_ydata()[0] == pytest.approx(1 / 4)
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="chance"):
        plots.chance_line(plt.subplots()[1], frame.drop(columns="chance"))
    plt.close("all")


def _psifr_lag_crp(table):
    from psifr import fr

    return fr.lag_crp(fr.merge_free_recall(table)).reset_index()


@pytest.mark.parametrize(("length", "trials", "seed"), [(2, 1, 0), (5, 3, 1), (16, 40, 2)])
def test_the_lag_crp_of_whole_lists_is_psifr_s(length, trials, seed):
    from psifr import fr

    rng = np.random.default_rng(seed)
    subjects = sorted(rng.choice(1000, trials, replace=False) + 1)
    study = [list(range(1, length + 1))] * trials
    recall = [list(rng.permutation(length) + 1) for _ in range(trials)]
    table = fr.table_from_lists(subjects, study, recall)
    assert summaries._whole_list_lag_crp(table) is not None
    pd.testing.assert_frame_equal(summaries.lag_crp(table), _psifr_lag_crp(table))
    shuffled = table.sample(frac=1.0, random_state=seed).assign(diverged=False)
    pd.testing.assert_frame_equal(summaries.lag_crp(shuffled), _psifr_lag_crp(table))


def test_the_lag_crp_of_a_simulation_is_psifr_s_and_other_tables_go_to_psifr():
    from psifr import fr

    table = free_recall(memnb.MatrixAssociativeMemory, "context", 8, 6, 32, seed=3)
    assert summaries._whole_list_lag_crp(table) is not None
    pd.testing.assert_frame_equal(summaries.lag_crp(table), _psifr_lag_crp(table))
    others = [
        fr.table_from_lists([1, 2], [[1, 2, 3]] * 2, [[3, 1], [2, 1, 3]]),  # one not recalled
        fr.table_from_lists([1, 2], [[1, 2, 3]] * 2, [[3, 1, 1], [2, 1, 3]]),  # a repeat
        fr.table_from_lists([1, 2], [[1, 2, 3]] * 2, [[3, 1, 9], [2, 1, 3]]),  # an intrusion
        fr.table_from_lists([1, 1], [[1, 2, 3]] * 2, [[3, 1, 2], [2, 1, 3]]),  # two lists
        fr.table_from_lists([1, 2], [[2, 1, 3]] * 2, [[3, 1, 2], [2, 1, 3]]),  # items renamed
    ]
    for table in others:
        assert summaries._whole_list_lag_crp(table) is None
        pd.testing.assert_frame_equal(summaries.lag_crp(table), _psifr_lag_crp(table))
