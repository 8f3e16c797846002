"""Capacity: the attention memory, the capacity protocol, the capacity number and its theory."""

from __future__ import annotations

import math
import re
from functools import partial

import numpy as np
import pandas as pd
import pytest
import torch
from readers import HebbianNoTrials

import memnb
from memnb import AttentionMemory, MatrixAssociativeMemory, summaries, theory
from memnb.data import random_pairs, random_vectors
from memnb.experiments import _protocol, attention_weights, capacity, sweep

F64 = torch.float64
COLUMNS = [
    "trial",
    "n_items",
    "accuracy",
    "mse",
    "cosine",
    "diverged",
    "cosine_recall",
    "chance",
    "state_size",
    "memory",
    "dim",
    "cue_noise",
    "cosine_threshold",
    "steps",
    "seed",
]


# ---------------------------------------------------------------------------------------------
# AttentionMemory


@pytest.mark.parametrize("trials", [None, 3])
@pytest.mark.parametrize("value_dim", [None, 5])
def test_attention_shapes(trials, value_dim):
    dim, n = 7, 4
    memory = AttentionMemory(dim, beta=2.0, trials=trials, value_dim=value_dim)
    vdim = dim if value_dim is None else value_dim
    keys, values = random_pairs(n, dim, trials, value_dim=vdim, seed=1)
    lead = () if trials is None else (trials,)
    assert memory.n_stored == 0
    assert memory(keys).shape == (*lead, n, vdim)
    assert memory.weights(keys).shape == (*lead, n, 0)
    loss = memory.update(keys, values)
    assert loss.shape == lead
    memory.update(keys[..., :2, :], values[..., :2, :])
    assert memory.n_stored == n + 2
    assert memory(keys[..., :3, :]).shape == (*lead, 3, vdim)
    weights = memory.weights(keys)
    assert weights.shape == (*lead, n, n + 2)
    torch.testing.assert_close(weights.sum(dim=-1), torch.ones(*lead, n))
    assert isinstance(memory, memnb.Memory)


def test_attention_reads_zeros_before_any_write_and_returns_the_error_of_that_read():
    memory = AttentionMemory(6, trials=2, dtype=F64)
    keys, values = random_pairs(3, 6, 2, seed=0, dtype=F64)
    assert torch.equal(memory(keys), torch.zeros(2, 3, 6, dtype=F64))
    loss = memory.update(keys, values)
    torch.testing.assert_close(loss, values.pow(2).mean(dim=(1, 2)))
    # The second write reports the error of the read after the first.
    expected = (memory(keys) - values).pow(2).mean(dim=(1, 2))
    torch.testing.assert_close(memory.update(keys, values), expected)


def test_attention_read_is_the_softmax_over_raw_dot_products():
    memory = AttentionMemory(5, beta=0.7, dtype=F64)
    keys, values = random_pairs(6, 5, seed=2, dtype=F64)
    memory.update(keys, values)
    queries = random_vectors(3, 5, seed=3, dtype=F64)
    weights = torch.softmax(0.7 * queries @ keys.T, dim=-1)
    torch.testing.assert_close(memory.weights(queries), weights)
    torch.testing.assert_close(memory(queries), weights @ values)


def test_attention_trials_equal_separately_built_memories():
    dim, trials = 5, 3
    batched = AttentionMemory(dim, beta=1.5, trials=trials, dtype=F64)
    singles = [AttentionMemory(dim, beta=1.5, dtype=F64) for _ in range(trials)]
    for step, n in enumerate([3, 1, 4]):
        keys, values = random_pairs(n, dim, trials, seed=10 + step, dtype=F64)
        batched_loss = batched.update(keys, values)
        single_losses = torch.stack(
            [m.update(k, v) for m, k, v in zip(singles, keys, values, strict=True)]
        )
        torch.testing.assert_close(batched_loss, single_losses, rtol=1e-10, atol=1e-12)
        queries = random_vectors(2, dim, trials, seed=20 + step, dtype=F64)
        single_reads = torch.stack([m(q) for m, q in zip(singles, queries, strict=True)])
        torch.testing.assert_close(batched(queries), single_reads, rtol=1e-10, atol=1e-12)


def test_attention_recalls_orthonormal_keys_exactly_at_large_beta():
    dim, n = 16, 16
    keys = torch.linalg.qr(torch.randn(dim, dim, generator=torch.Generator().manual_seed(0)))[0]
    values = random_vectors(n, dim, seed=1)
    memory = AttentionMemory(dim, beta=60.0)
    memory.update(keys[:n].contiguous(), values)
    torch.testing.assert_close(memory(keys[:n].contiguous()), values, atol=1e-6, rtol=0)


def test_attention_repeating_every_pair_leaves_the_read_unchanged():
    memory = AttentionMemory(8, beta=0.5, trials=2, dtype=F64)
    keys, values = random_pairs(5, 8, 2, seed=4, dtype=F64)
    queries = random_vectors(3, 8, 2, seed=5, dtype=F64)
    memory.update(keys, values)
    once = memory(queries)
    memory.update(keys, values)
    torch.testing.assert_close(memory(queries), once)
    assert memory.n_stored == 10


def test_attention_appends_in_place_and_earlier_stores_keep_their_values():
    memory = AttentionMemory(4, trials=2)
    keys, values = random_pairs(40, 4, 2, seed=8)
    held = []
    for i in range(40):  # one pair per write: the store grows in place, not by copies
        memory.update(keys[:, i : i + 1], values[:, i : i + 1])
        held.append(memory.stored_keys)
    assert torch.equal(memory.stored_keys, keys) and torch.equal(memory.stored_values, values)
    assert all(torch.equal(h, keys[:, : i + 1]) for i, h in enumerate(held))
    blocks = {h.untyped_storage().data_ptr() for h in held}
    assert len(blocks) <= 6  # a new block only when one is full: 2, 6, 14, 30, 62 rows
    moved = memory.double()  # a buffer that is no longer a window of its block
    moved.update(keys[:, :3].double(), values[:, :3].double())
    assert moved.n_stored == 43 and torch.equal(moved.stored_keys[:, 40:], keys[:, :3].double())


def test_attention_beta_zero_reads_the_mean_value():
    memory = AttentionMemory(4, beta=0.0, dtype=F64)
    keys, values = random_pairs(6, 4, seed=6, dtype=F64)
    memory.update(keys, values)
    torch.testing.assert_close(memory(keys), values.mean(dim=0).expand(6, 4))


def test_attention_write_builds_no_autograd_graph_and_reading_changes_nothing():
    memory = AttentionMemory(4, trials=2)
    keys, values = random_pairs(3, 4, 2, seed=7)
    memory.update(keys.requires_grad_(True), values)
    assert not memory.stored_keys.requires_grad and memory.stored_keys.grad_fn is None
    before = memory.stored_values.clone()
    memory(keys)
    assert torch.equal(before, memory.stored_values) and memory.n_stored == 3


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_attention_weights_hold_no_subnormal_numbers_and_reads_do_not_change(dtype):
    """Sharp reads of many pairs give weights under the smallest normal float; they are
    zeroed (subnormal numbers slow the CPU's products) without changing a read."""
    keys, values = random_pairs(300, 16, 2, seed=0, dtype=dtype)
    memory = AttentionMemory(16, beta=40.0, trials=2, dtype=dtype)
    memory.update(keys, values)
    weights = memory.weights(keys)
    tiny = torch.finfo(dtype).tiny
    assert ((weights > 0) & (weights < tiny)).sum() == 0 and (weights == 0).any()
    scores = 40.0 * keys @ keys.transpose(-2, -1)
    plain = torch.softmax(scores, dim=-1)
    assert ((plain > 0) & (plain < tiny)).any()  # the case arises
    torch.testing.assert_close(weights, plain, rtol=1e-5, atol=tiny)
    torch.testing.assert_close(memory(keys), plain @ values, rtol=1e-5, atol=1e-6)


def test_attention_float64_end_to_end():
    memory = AttentionMemory(4, trials=2, dtype=F64)
    keys, values = random_pairs(3, 4, 2, seed=8, dtype=F64)
    assert memory.update(keys, values).dtype == F64 and memory(keys).dtype == F64
    assert memory.dtype == F64 and memory.device.type == "cpu"


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: AttentionMemory(4, beta=-1.0), ValueError, r"beta.*-1"),
        (lambda: AttentionMemory(4, beta=float("inf")), ValueError, r"beta"),
        (lambda: AttentionMemory(0), ValueError, r"dim.*0"),
        (lambda: AttentionMemory(4, trials=0), ValueError, r"trials.*0"),
        (lambda: AttentionMemory(4, value_dim=-2), ValueError, r"value_dim.*-2"),
        (lambda: AttentionMemory(4, dtype=torch.int64), TypeError, r"dtype"),
        (lambda: AttentionMemory(4)(torch.zeros(2, 5)), ValueError, r"queries.*last dimension 4"),
        (
            lambda: AttentionMemory(4).update(torch.zeros(2, 4), torch.zeros(3, 4)),
            ValueError,
            r"values.*2 items",
        ),
        (
            lambda: AttentionMemory(4, trials=2).update(torch.zeros(3, 2, 4), torch.zeros(3, 2, 4)),
            ValueError,
            r"keys has 3 trials.*trials=2",
        ),
        (
            lambda: AttentionMemory(4).update(
                torch.zeros(2, 4, dtype=F64), torch.zeros(2, 4, dtype=F64)
            ),
            TypeError,
            r"float64.*float32",
        ),
    ],
)
def test_attention_rejects_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_attention_and_capacity_on_cuda():
    memory = AttentionMemory(8, trials=3, device="cuda")
    keys, values = random_pairs(4, 8, 3, seed=0, device="cuda")
    assert memory.update(keys, values).device.type == "cuda"
    assert memory(keys).device.type == "cuda" and memory.device.type == "cuda"
    on_gpu = capacity(partial(AttentionMemory, device="cuda"), [2, 8], trials=3, dim=8)
    on_cpu = capacity(AttentionMemory, [2, 8], trials=3, dim=8)
    pd.testing.assert_series_equal(on_gpu["accuracy"], on_cpu["accuracy"])


# ---------------------------------------------------------------------------------------------
# the capacity protocol


def test_capacity_frame_layout():
    frame = capacity(MatrixAssociativeMemory, [2, 8, 4], steps=3, trials=5, dim=8, seed=1)
    assert list(frame.columns) == COLUMNS
    assert len(frame) == 3 * 5
    assert frame["n_items"].tolist() == [2] * 5 + [8] * 5 + [4] * 5
    assert frame["trial"].tolist() == list(range(5)) * 3
    assert (frame["memory"] == "MatrixAssociativeMemory").all()
    assert (frame["dim"] == 8).all() and (frame["steps"] == 3).all() and (frame["seed"] == 1).all()
    assert frame["accuracy"].between(0, 1).all() and not frame["diverged"].any()
    assert (
        capacity(MatrixAssociativeMemory, 4, trials=2, dim=8, label="hebb")["memory"]
        .eq("hebb")
        .all()
    )


def test_capacity_accuracy_is_the_nearest_value_fraction():
    class Permuted:
        """Returns, for item i, the value of item (i + 1) mod N for the first half of items."""

        def __init__(self, dim, trials=None):
            self.values = None

        def update(self, keys, values):
            self.values = values.clone()

        def __call__(self, queries):
            out = self.values.clone()
            half = out.shape[1] // 2
            out[:, :half] = torch.roll(self.values, -1, dims=1)[:, :half]
            return out

    frame = capacity(Permuted, [2, 8], steps=1, trials=3, dim=6)
    assert frame.groupby("n_items")["accuracy"].mean().tolist() == [0.5, 0.5]


def test_capacity_zero_and_non_finite_reads_are_misses():
    class Broken:
        def __init__(self, dim, trials=None):
            pass

        def update(self, keys, values):
            pass

        def __call__(self, queries):
            out = torch.zeros_like(queries)
            out[0] = float("nan")  # trial 0 diverged, the others read zeros
            return out

    frame = capacity(Broken, [3], steps=1, trials=2, dim=4)
    assert frame["accuracy"].tolist() == [0.0, 0.0]
    assert frame["diverged"].tolist() == [True, False]
    assert math.isnan(frame["mse"][0]) and frame["cosine"][1] == 0


def test_capacity_is_reproducible_and_seed_dependent():
    run = partial(capacity, memnb.EpisodicMemory, [4, 16], steps=2, trials=3, dim=8)
    pd.testing.assert_frame_equal(run(seed=3), run(seed=3))
    assert not run(seed=3)["mse"].equals(run(seed=4)["mse"])


def test_capacity_leaves_the_global_generator_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    capacity(memnb.EpisodicMemory, [4], steps=1, trials=2, dim=8)
    assert torch.equal(torch.rand(3), expected)


def test_a_memory_written_outside_memnb_runs_through_capacity():
    HebbianNoTrials.built = 0
    frame = capacity(HebbianNoTrials, [2, 6], steps=2, trials=4, dim=8, seed=5)
    assert HebbianNoTrials.built == 2 * 4  # a fresh memory per trial and per N
    reference = capacity(MatrixAssociativeMemory, [2, 6], steps=2, trials=4, dim=8, seed=5)
    assert (frame["memory"] == "HebbianNoTrials").all()
    assert "state_size" not in frame.columns  # the reader's class does not tell its size
    pd.testing.assert_frame_equal(
        frame.drop(columns="memory"),
        reference.drop(columns=["memory", "state_size"]),
        rtol=1e-5,
    )


@pytest.mark.parametrize(
    "cls, options",
    [
        (memnb.EpisodicMemory, {}),
        (memnb.ProjectingEpisodicMemory, {"memory_dim": 6}),
        (memnb.NeuralMemory, {}),
    ],
)
def test_capacity_copies_memnb_memories_into_the_same_state_as_rebuilding_them(cls, options):
    """Each N starts from one initial state: copied for memnb's classes, rebuilt for a
    class of any other module. A copy must share nothing with the memory it came from."""
    built = []

    def __init__(self, *args, **kwargs):
        built.append(1)
        cls.__init__(self, *args, **kwargs)

    outside = type("Outside", (cls,), {"__init__": __init__, "__module__": __name__})
    run = partial(capacity, n_items=[3, 7, 12], steps=(1, 4), trials=3, dim=8, seed=4)
    rebuilt = run(partial(outside, **options), label="m")
    assert len(built) == 3  # once per N
    copied = run(partial(cls, **options), label="m")
    pd.testing.assert_frame_equal(copied, rebuilt, check_exact=True)


class Spy(MatrixAssociativeMemory):
    log: list = []

    def update(self, keys, values):
        type(self).log.append(("update", keys.clone()))
        return super().update(keys, values)

    def forward(self, queries):
        type(self).log.append(("read", queries.clone()))
        return super().forward(queries)


def test_capacity_writes_all_pairs_steps_times_and_nests_them():
    Spy.log = []
    capacity(Spy, [2, 5], steps=(1, 3), trials=2, dim=4)
    kinds = [kind for kind, _ in Spy.log]
    assert kinds == ["update", "read", "update", "update", "read"] * 2
    first, second = Spy.log[0][1], Spy.log[5][1]
    assert first.shape == (2, 2, 4) and second.shape == (2, 5, 4)
    assert torch.equal(second[:, :2], first)  # the pairs for N = 2 are the first of N = 5
    assert torch.equal(Spy.log[1][1], first)  # and those are the keys read back


def test_capacity_steps_as_a_sequence_matches_separate_runs():
    run = partial(capacity, memnb.EpisodicMemory, [4, 8], trials=3, dim=8, seed=2)
    both = run(steps=(2, 5))
    for steps in (2, 5):
        alone = run(steps=steps)
        pd.testing.assert_frame_equal(
            both[both["steps"] == steps].reset_index(drop=True), alone, check_exact=False
        )


def test_capacity_counts_and_noise_levels_together_match_separate_runs_exactly():
    """Reads of a small N are scored in one batch (large N one by one): no number moves."""
    run = partial(capacity, memnb.DeltaNetMemory, [4, 80], trials=3, dim=8, seed=2)
    both = run(steps=(1, 3), cue_noise=(0.0, 0.2))
    for steps in (1, 3):
        for level in (0.0, 0.2):
            alone = run(steps=steps, cue_noise=level)
            mask = (both["steps"] == steps) & (both["cue_noise"] == level)
            pd.testing.assert_frame_equal(
                both[mask].reset_index(drop=True), alone, check_exact=True
            )


def test_capacity_reads_a_large_store_in_chunks(monkeypatch):
    whole = capacity(AttentionMemory, [10], steps=1, trials=2, dim=4, seed=1)
    monkeypatch.setattr(_protocol, "READ_CHUNK", 3)
    chunked = capacity(AttentionMemory, [10], steps=1, trials=2, dim=4, seed=1)
    pd.testing.assert_frame_equal(whole, chunked)


def test_every_memory_recalls_a_few_pairs_and_attention_recalls_them_all():
    memories = {
        "slot": partial(memnb.EpisodicMemory, seed=0),
        "hebbian": MatrixAssociativeMemory,
        "delta": memnb.DeltaRuleMemory,
        "attention": AttentionMemory,
    }
    frame = sweep(capacity, memories, n_items=[2, 64], steps=5, trials=8, dim=32)
    small = frame[frame["n_items"] == 2].groupby("memory")["accuracy"].mean()
    assert (small > 0.9).all()
    attention = frame[frame["memory"] == "attention"]
    assert (attention["accuracy"] == 1).all() and attention["mse"].max() < 1e-3


def test_attention_weights_frame_and_limits():
    frame = attention_weights([1, 4], [0.0, 3.0], dim=8, trials=2, seed=0)
    assert list(frame.columns) == ["trial", "n_items", "beta", "weight", "dim", "seed"]
    assert len(frame) == 2 * 2 * 2
    one = frame[frame["n_items"] == 1]["weight"]
    np.testing.assert_allclose(one, 1.0)  # a single pair gets all the weight
    flat = frame[(frame["n_items"] == 4) & (frame["beta"] == 0.0)]["weight"]
    np.testing.assert_allclose(flat, 0.25)  # beta = 0: uniform over the stored pairs


def test_attention_weight_theory_matches_the_measurement():
    frame = attention_weights([8, 64, 256], [4.0], dim=64, trials=16, seed=0)
    measured = frame.groupby("n_items")["weight"].mean()
    predicted = theory.attention_weight(measured.index, 4.0, 64)
    np.testing.assert_allclose(measured, predicted, atol=0.02)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: capacity(AttentionMemory, []), ValueError, r"n_items.*empty"),
        (lambda: capacity(AttentionMemory, [4, 0]), ValueError, r"n_items.*0"),
        (lambda: capacity(AttentionMemory, [-3]), ValueError, r"n_items.*-3"),
        (lambda: capacity(AttentionMemory, [4, 4]), ValueError, r"n_items.*repeat"),
        (lambda: capacity(AttentionMemory, [2.5]), TypeError, r"n_items.*2\.5"),
        (lambda: capacity(AttentionMemory, "abc"), TypeError, r"n_items.*str"),
        (lambda: capacity(AttentionMemory, [4], steps=0), ValueError, r"steps.*0"),
        (lambda: capacity(AttentionMemory, [4], steps=()), ValueError, r"steps.*empty"),
        (lambda: capacity(AttentionMemory, [4], steps=(5, 2)), ValueError, r"steps.*increasing"),
        (lambda: capacity(AttentionMemory, [4], trials=0), ValueError, r"trials.*0"),
        (lambda: capacity(AttentionMemory, [4], dim=-1), ValueError, r"dim.*-1"),
        (lambda: capacity(AttentionMemory, [4], kind="nope"), ValueError, r"kind.*'nope'"),
        (lambda: capacity(AttentionMemory, [4], seed=-1), ValueError, r"seed.*-1"),
        (lambda: capacity(42, [4]), TypeError, r"factory.*int"),
        (lambda: attention_weights([4], []), ValueError, r"betas"),
        (lambda: attention_weights([4], [-1.0]), ValueError, r"betas.*-1"),
        (lambda: attention_weights([0], [1.0]), ValueError, r"n_items.*0"),
    ],
)
def test_capacity_rejects_bad_input(call, error, message):
    with pytest.raises(error) as caught:
        call()
    assert re.search(message, str(caught.value)), str(caught.value)


# ---------------------------------------------------------------------------------------------
# the capacity number


def curves(**accuracy: list[float]) -> pd.DataFrame:
    """A capacity frame with one trial per memory and the given mean accuracies."""
    n = [1, 2, 4, 8]
    rows = [
        {"memory": name, "trial": 0, "n_items": k, "accuracy": a}
        for name, values in accuracy.items()
        for k, a in zip(n, values, strict=True)
    ]
    return pd.DataFrame(rows)


def test_capacity_at_interpolates_between_the_two_n_around_the_crossing():
    found = summaries.capacity_at(curves(a=[1.0, 0.96, 0.9, 0.5]))
    assert found.loc["a", "capacity"] == pytest.approx(2 + 2 * 0.01 / 0.06)
    assert not found.loc["a", "lower_bound"]
    exact = summaries.capacity_at(curves(a=[1.0, 1.0, 0.95, 0.5]))
    assert exact.loc["a", "capacity"] == pytest.approx(4 + 4 * 0.0 / 0.45)


def test_capacity_at_reports_a_lower_bound_and_nan():
    found = summaries.capacity_at(curves(always=[1.0] * 4, never=[0.9, 0.5, 0.2, 0.1]))
    assert found.loc["always", "capacity"] == 8 and found.loc["always", "lower_bound"]
    assert math.isnan(found.loc["never", "capacity"]) and not found.loc["never", "lower_bound"]
    assert list(found.index) == ["always", "never"]  # order of appearance


def test_capacity_at_uses_the_first_crossing_and_treats_nan_as_below():
    found = summaries.capacity_at(curves(dip=[1.0, 0.9, 1.0, 1.0], gap=[1.0, 1.0, np.nan, 1.0]))
    assert found.loc["dip", "capacity"] == pytest.approx(1 + 0.05 / 0.1)
    assert found.loc["gap", "capacity"] == 2


def test_capacity_at_averages_over_trials_and_groups_by_several_columns():
    frame = pd.concat(
        [curves(a=[1.0, 1.0, 1.0, 0.8]).assign(trial=0), curves(a=[1.0, 1.0, 0.9, 0.6])]
    ).assign(trial=lambda f: [0] * 4 + [1] * 4, dim=8)
    found = summaries.capacity_at(frame, by=["memory", "dim"])
    # mean accuracy: 1, 1, 0.95, 0.7 -> the crossing is at N = 4 exactly
    assert found.loc[("a", 8), "capacity"] == pytest.approx(4.0)
    single = summaries.capacity_at(frame, by=None)
    assert list(single.index) == ["all"] and single.loc["all", "capacity"] == pytest.approx(4.0)
    lower = summaries.capacity_at(frame, threshold=0.5)
    assert lower.loc["a", "lower_bound"]


def test_capacity_at_bootstrap_interval():
    frame = capacity(MatrixAssociativeMemory, [8, 16, 32, 64, 128], trials=16, dim=16, seed=0)
    found = summaries.capacity_at(frame, ci=0.95, n_boot=200)
    row = found.loc["MatrixAssociativeMemory"]
    assert row["low"] <= row["capacity"] <= row["high"] and row["low"] < row["high"]
    again = summaries.capacity_at(frame, ci=0.95, n_boot=200)
    pd.testing.assert_frame_equal(found, again)  # the same seed, the same interval


def test_capacity_at_bootstrap_resamples_the_trials_by_n_table():
    """The interval is that of resampling the rows of the trials x N table pandas'
    pivot_table makes, whatever the order of the frame's rows."""
    rng = np.random.default_rng(3)
    n = [4, 8, 16, 32, 64]
    frame = pd.DataFrame(
        [
            dict(
                memory=m,
                n_items=k,
                trial=t,
                accuracy=float(np.clip(1.3 - i / 4 + rng.normal(0, 0.1), 0, 1)),
            )
            for m in "ab"
            for i, k in enumerate(n)
            for t in range(7)
        ]
    ).sample(frac=1, random_state=1)
    found = summaries.capacity_at(frame, ci=0.9, n_boot=300, seed=5)
    draws = np.random.default_rng(5)
    for name, group in frame.groupby("memory", sort=False):
        table = group.pivot_table(index="trial", columns="n_items", values="accuracy")
        picks = draws.integers(0, len(table), size=(300, len(table)))
        means = table.to_numpy()[picks].mean(axis=1)
        capacity, _ = summaries._crossings(np.array(n, dtype=float), means, 0.95)
        low, high = np.quantile(np.nan_to_num(capacity, nan=0.0), [0.05, 0.95])
        assert (found.loc[name, "low"], found.loc[name, "high"]) == (low, high)
    with pytest.raises(ValueError, match="every trial at every N"):
        summaries.capacity_at(frame.iloc[1:], ci=0.9)


@pytest.mark.parametrize(
    "kwargs, message",
    [({"threshold": 0}, r"threshold.*0"), ({"threshold": 1.5}, r"threshold"), ({"ci": 1}, r"ci")],
)
def test_capacity_at_rejects_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        summaries.capacity_at(curves(a=[1.0, 0.9, 0.8, 0.7]), **kwargs)


def test_capacity_at_names_missing_columns():
    with pytest.raises(ValueError, match="accuracy"):
        summaries.capacity_at(curves(a=[1.0] * 4).drop(columns="accuracy"))
    with pytest.raises(ValueError, match="trial"):
        summaries.capacity_at(curves(a=[1.0] * 4).drop(columns="trial"), ci=0.9)


# ---------------------------------------------------------------------------------------------
# theory


def test_hebbian_cosine_limits():
    assert theory.hebbian_cosine(1, 32) == pytest.approx(1.0)
    assert theory.hebbian_cosine(33, 32) == pytest.approx(math.sqrt(0.5))
    assert np.all(np.diff(theory.hebbian_cosine([1, 2, 10, 100], 16)) < 0)


def test_hebbian_recall_limits_and_a_monte_carlo_check():
    assert theory.hebbian_recall(1, 16) == pytest.approx(1.0)
    p = theory.hebbian_recall([2, 8, 64, 512], 32)
    assert np.all((p > 0) & (p <= 1)) and np.all(np.diff(p) < 0)
    # For N = 2 the formula is P(1 + a > b) with a ~ N(0, 1/d^2), b ~ N(0, 2/d).
    d = 4
    gen = np.random.default_rng(0)
    a = gen.normal(0, 1 / d, 400_000)
    b = gen.normal(0, math.sqrt(2 / d), 400_000)
    assert theory.hebbian_recall(2, d) == pytest.approx(np.mean(1 + a > b), abs=0.003)


def test_hebbian_theory_is_close_to_a_measurement():
    frame = capacity(MatrixAssociativeMemory, [8, 64], steps=1, trials=16, dim=32, kind="unit")
    measured = frame.groupby("n_items")[["accuracy", "cosine"]].mean()
    np.testing.assert_allclose(measured["cosine"], theory.hebbian_cosine([8, 64], 32), atol=0.01)
    np.testing.assert_allclose(measured["accuracy"], theory.hebbian_recall([8, 64], 32), atol=0.15)


def test_least_squares_cosine():
    np.testing.assert_allclose(theory.least_squares_cosine([1, 16, 32], 32), 1.0)
    np.testing.assert_allclose(theory.least_squares_cosine([64, 128], 32), [0.5**0.5, 0.5])


def test_gram_eigenvalue_edges_match_a_large_random_matrix():
    low, high = theory.gram_eigenvalue_edges(32, 32)
    assert low == pytest.approx(0.0) and high == pytest.approx(4.0)
    keys = random_vectors(100, 400, kind="unit", seed=0, dtype=F64)
    eig = torch.linalg.eigvalsh(keys @ keys.T)
    low, high = theory.gram_eigenvalue_edges(100, 400)
    assert eig.max().item() == pytest.approx(high, rel=0.05)
    assert eig.min().item() == pytest.approx(low, rel=0.15)
    scaled = theory.gram_eigenvalue_edges(100, 400, key_sq_norm=400)
    assert scaled[1] == pytest.approx(400 * high)


def test_attention_weight_limits():
    assert theory.attention_weight(1, 5.0, 16) == pytest.approx(1.0)
    assert theory.attention_weight(10, 0.0, 16) == pytest.approx(0.1)
    w = theory.attention_weight([2, 20, 200], 4.0, 64)
    assert np.all(np.diff(w) < 0)
    expected = 1 / (1 + 19 * math.exp(16 / 128 - 4))
    assert w[1] == pytest.approx(expected)
    # standard normal keys: beta * |k|^2 takes the place of beta
    assert theory.attention_weight(20, 1.0, 64, key_sq_norm=4.0) == pytest.approx(expected)


@pytest.mark.parametrize(
    "function",
    [
        theory.hebbian_cosine,
        theory.hebbian_recall,
        theory.least_squares_cosine,
        theory.gram_eigenvalue_edges,
        partial(theory.attention_weight, beta=1.0),
    ],
)
@pytest.mark.parametrize("n_items", [0, -2, [], [4, float("nan")]])
def test_theory_rejects_nonsense_numbers_of_items(function, n_items):
    with pytest.raises(ValueError, match="n_items"):
        function(n_items, dim=16)


# ---------------------------------------------------------------------------------------------
# plots and widgets


def test_capacity_curve_and_panels():
    from matplotlib.axes import Axes

    from memnb import plots

    frame = sweep(
        capacity,
        {"hebbian": MatrixAssociativeMemory, "attention": AttentionMemory},
        n_items=[2, 8, 32],
        trials=4,
        dim=8,
    )
    ax = plots.capacity_curve(frame, threshold=0.95, title="two")
    assert isinstance(ax, Axes) and ax.get_xscale() == "log" and ax.get_title() == "two"
    assert {t.get_text() for t in ax.get_legend().get_texts()} >= {"hebbian", "attention"}
    distance = plots.capacity_curve(frame, "cosine_distance")
    drawn = [line for line in distance.lines if len(line.get_xdata()) == 3]
    expected = 1 - frame[frame["memory"] == "hebbian"].groupby("n_items")["cosine"].mean()
    np.testing.assert_allclose(drawn[0].get_ydata(), expected.to_numpy())
    fig, axes = plots.capacity_panels(frame)
    assert len(axes) == 3 and axes[1].get_yscale() == "log"
    assert axes[0].get_legend() is not None and axes[2].get_legend() is None


def test_capacity_points_marks_lower_bounds():
    from memnb import plots

    table = summaries.capacity_at(
        curves(a=[1.0, 0.96, 0.9, 0.5], b=[1.0] * 4), ci=0.9, n_boot=20
    ).reset_index(names="memory")
    table["dim"] = [8, 16]
    ax = plots.capacity_points(table, "dim")
    triangles = [line for line in ax.lines if line.get_marker() == "^" and len(line.get_xdata())]
    assert [list(line.get_xdata()) for line in triangles] == [[16]]
    with pytest.raises(ValueError, match="low"):
        plots.capacity_points(table.drop(columns="low"), "dim")


def test_capacity_figure_and_explorer(monkeypatch):
    import ipywidgets
    from IPython.display import Image
    from matplotlib.figure import Figure

    from memnb import widgets

    for memory in widgets.FAMILIES:
        fig = widgets.capacity_figure(memory, max_items=16, dim=8, steps=2, trials=4)
        assert isinstance(fig, Figure) and len(fig.axes) == 2
        assert memory in fig.get_suptitle()
    with pytest.raises(ValueError, match="'Nope'"):
        widgets.capacity_figure("Nope")
    with pytest.raises(ValueError, match="max_items.*2"):
        widgets.capacity_figure(max_items=2)

    shown = []
    monkeypatch.setattr(widgets, "display", lambda *objs, **kw: shown.extend(objs), raising=False)
    monkeypatch.setattr(
        widgets, "capacity_figure", partial(widgets.capacity_figure, trials=2), raising=True
    )
    box = widgets.capacity_explorer("MatrixAssociativeMemory", max_items=16, dim=8, steps=1)
    assert isinstance(box, ipywidgets.VBox)
    box.live()  # as a frontend with a kernel does when it shows the explorer
    live = box.children[0]
    controls = [c for w in live.children if isinstance(w, ipywidgets.Box) for c in w.children]
    assert {c.description for c in controls} == {"memory", "N up to", "dim", "steps"}
    outputs = [w for w in live.children if isinstance(w, ipywidgets.Output)]
    # The starting setting is one of the grid's: its stored image is shown, not redrawn.
    figures = [obj for obj in shown if isinstance(obj, Figure | Image)] + list(outputs[0].outputs)
    assert len(figures) == 1


# ---------------------------------------------------------------------------------------------
# key_updates: new values for the same keys


class _Silent(MatrixAssociativeMemory):
    """A memory whose every read is zero."""

    def forward(self, queries):
        return torch.zeros_like(super().forward(queries))


def test_key_updates_delta_write_keeps_the_latest_value_and_a_sum_keeps_all():
    from memnb import DeltaNetMemory
    from memnb.experiments import key_updates

    # 4 unit keys in 256 dimensions, nearly orthogonal: DeltaNet at beta = 1 replaces each
    # value, and the Hebbian read of a key is nearly the sum of the values it was given
    run = dict(rounds=(1, 3), n_keys=4, trials=5, dim=256, kind="unit")
    net = key_updates(DeltaNetMemory, **run)
    hebbian = key_updates(MatrixAssociativeMemory, **run)
    assert list(net.columns[:7]) == [
        "trial", "rounds", "accuracy", "outdated", "cosine", "diverged", "chance"
    ]  # fmt: skip
    assert (net["chance"] == 1 / (4 * net["rounds"])).all()
    assert (net["accuracy"] + net["outdated"] <= 1).all()
    first, third = (hebbian[hebbian["rounds"] == r] for r in (1, 3))
    np.testing.assert_allclose(first["accuracy"], 1.0)
    assert net[net["rounds"] == 3]["cosine"].min() > 0.95
    assert third["cosine"].max() < 0.7  # three unit values summed: cosine about 1/sqrt(3)
    assert third["outdated"].mean() > 0.4  # ... and often nearest to an older one
    assert net["outdated"].max() == 0 and net["accuracy"].min() == 1


def test_key_updates_writes_each_round_steps_times_and_a_zero_read_is_a_miss():
    from memnb.experiments import key_updates

    once = key_updates(MatrixAssociativeMemory, rounds=(2,), n_keys=3, trials=2, dim=8)
    five = key_updates(MatrixAssociativeMemory, rounds=(2,), n_keys=3, trials=2, dim=8, steps=5)
    np.testing.assert_allclose(five["cosine"], once["cosine"], rtol=1e-5)  # a Hebbian sum scales
    assert (five["steps"] == 5).all() and (once["steps"] == 1).all()
    silent = key_updates(_Silent, rounds=(1, 2), n_keys=3, trials=2, dim=8)
    assert (silent["accuracy"] == 0).all() and (silent["outdated"] == 0).all()
