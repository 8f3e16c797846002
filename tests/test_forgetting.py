"""Task generators, continual-learning metrics and the forgetting experiments."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import pytest
import torch
from readers import HebbianNoTrials

from memnb import (
    AttentionMemory,
    DeltaRuleMemory,
    EpisodicMemory,
    MatrixAssociativeMemory,
    data,
    metrics,
)
from memnb.experiments import (
    forgetting,
    forgetting_by_writes,
    forgetting_trace,
    span_retention,
    span_retention_by_writes,
    sweep,
    task_sequence,
)
from memnb.summaries import accuracy_matrix, continual_scores

F64 = torch.float64
TASK_FIELDS = ("train_keys", "train_values", "test_keys", "test_values", "values")


def same_tasks(a: list[data.Task], b: list[data.Task]) -> bool:
    return all(
        torch.equal(getattr(x, f), getattr(y, f))
        for x, y in zip(a, b, strict=True)
        for f in TASK_FIELDS
    )


# ---------------------------------------------------------------------------------------------
# clustered_tasks and random_tasks


@pytest.mark.parametrize("trials", [None, 3])
def test_clustered_task_shapes(trials):
    tasks = data.clustered_tasks(2, [8, 12], 5, 7, trials, clusters=4, value_dim=3, seed=0)
    lead = () if trials is None else (trials,)
    assert len(tasks) == 2
    for task, n_train in zip(tasks, [8, 12], strict=True):
        assert task.train_keys.shape == (*lead, n_train, 7)
        assert task.train_values.shape == (*lead, n_train, 3)
        assert task.test_keys.shape == (*lead, 5, 7)
        assert task.test_values.shape == (*lead, 5, 3)
        assert task.values.shape == (*lead, 4, 3)
        assert task.centres.shape == (*lead, 4, 7)
        assert task.train_targets.tolist() == [i % 4 for i in range(n_train)]
        assert (task.n_train, task.n_test) == (n_train, 5)
        assert task.train_keys.dtype == torch.float32


def test_each_cluster_maps_to_its_own_value():
    (task,) = data.clustered_tasks(1, 10, 6, 8, 2, clusters=3, seed=1)
    torch.testing.assert_close(task.train_values, task.values[:, task.train_targets])
    torch.testing.assert_close(task.test_values, task.values[:, task.test_targets])
    assert not torch.allclose(task.values[:, 0], task.values[:, 1])  # distinct values


def test_keys_lie_around_their_centres():
    (task,) = data.clustered_tasks(
        1, 3000, 3000, 16, clusters=3, radius=4.0, spread=0.5, seed=2, dtype=F64
    )
    torch.testing.assert_close(task.centres.norm(dim=-1), torch.full((3,), 4.0, dtype=F64))
    for keys, targets in (
        (task.train_keys, task.train_targets),
        (task.test_keys, task.test_targets),
    ):
        noise = keys - task.centres[targets]
        assert noise.mean(dim=0).abs().max() < 0.05  # centred on the centre
        assert noise.std().item() == pytest.approx(0.5, rel=0.03)  # spread per coordinate
        nearest = torch.cdist(keys, task.centres).argmin(dim=-1)
        assert (nearest == targets).double().mean() > 0.99


def test_given_centres_are_used_in_every_trial():
    centres = torch.zeros(2, 1, 5)
    centres[0, 0, 0], centres[1, 0, 0] = 5.0, -5.0  # the two-cluster example: +-5 on one axis
    tasks = data.clustered_tasks(2, 4, 3, 5, 3, centres=centres, spread=0.0, seed=0)
    for task, centre in zip(tasks, centres, strict=True):
        torch.testing.assert_close(task.train_keys, centre.expand(3, 4, 5))
        torch.testing.assert_close(task.test_keys, centre.expand(3, 3, 5))
    per_trial = torch.randn(3, 2, 1, 5)
    tasks = data.clustered_tasks(2, 4, 3, 5, 3, centres=per_trial, spread=0.0)
    torch.testing.assert_close(tasks[1].train_keys, per_trial[:, 1].expand(3, 4, 5))


def test_clustered_test_keys_are_fresh():
    for task in data.clustered_tasks(2, 16, 16, 8, 4, clusters=2, seed=3):
        assert torch.cdist(task.test_keys, task.train_keys).min() > 0


def test_random_tasks_test_on_their_train_split():
    tasks = data.random_tasks(3, [4, 6, 2], 5, 2, seed=0)
    assert [t.n_train for t in tasks] == [4, 6, 2]
    for task in tasks:
        assert task.test_keys is task.train_keys and task.test_values is task.train_values
        assert task.values is task.train_values and task.centres is None
        assert task.test_targets.tolist() == list(range(task.n_train))
    unit = data.random_tasks(1, 5, 9, kind="unit", value_kind="binary", seed=0)[0]
    torch.testing.assert_close(unit.train_keys.norm(dim=-1), torch.ones(5))
    assert set(unit.train_values.unique().tolist()) == {-1.0, 1.0}


@pytest.mark.parametrize("make", ["clustered", "random"])
def test_same_seed_same_tasks_and_nested_sizes(make):
    def tasks(sizes, seed=0):
        if make == "clustered":
            return data.clustered_tasks(2, sizes, 4, 6, 3, clusters=2, seed=seed)
        return data.random_tasks(2, sizes, 6, 3, seed=seed)

    assert same_tasks(tasks([8, 8]), tasks([8, 8]))
    assert not torch.equal(tasks([8, 8])[0].train_keys, tasks([8, 8], seed=1)[0].train_keys)
    small, large = tasks([8, 3]), tasks([8, 10])
    assert same_tasks(small[:1], large[:1])  # a task does not depend on the others' sizes
    torch.testing.assert_close(small[1].train_keys, large[1].train_keys[:, :3], rtol=0, atol=0)
    torch.testing.assert_close(small[1].values[:, :1], large[1].values[:, :1], rtol=0, atol=0)


def test_seed_may_be_a_generator_and_the_global_rng_is_untouched():
    torch.manual_seed(0)
    expected = torch.rand(2)
    torch.manual_seed(0)
    a = data.clustered_tasks(2, 3, 3, 4, seed=torch.Generator().manual_seed(5))
    assert same_tasks(a, data.clustered_tasks(2, 3, 3, 4, seed=5))
    torch.testing.assert_close(torch.rand(2), expected)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(n_tasks=0), ValueError, r"n_tasks.*0"),
        (dict(n_train=0), ValueError, r"n_train must be >= 1 \(a split cannot be empty\), got 0"),
        (dict(n_test=0), ValueError, r"n_test must be >= 1 \(a split cannot be empty\), got 0"),
        (dict(n_train=[4, 0]), ValueError, r"n_train.*got 0"),
        (dict(n_train=[4, 4, 4]), ValueError, r"n_train .*2 ints .*got 3 values"),
        (dict(n_train=2.5), TypeError, r"n_train.*2\.5"),
        (dict(dim=0), ValueError, r"dim.*0"),
        (dict(spread=-1.0), ValueError, r"spread.*>= 0.*-1\.0"),
        (dict(radius=-2.0), ValueError, r"radius.*>= 0.*-2\.0"),
        (dict(radius=0.0, spread=0.0), ValueError, r"radius and spread are both 0"),
        (dict(clusters=0), ValueError, r"clusters.*0"),
        (dict(value_kind="ternary"), ValueError, r"value_kind.*'ternary'"),
        (dict(centres=torch.zeros(2, 3)), ValueError, r"centres must have shape .*\(2, 3\)"),
        (dict(centres=torch.zeros(2, 1, 4), radius=1.0), ValueError, r"centres or radius"),
        (dict(dtype=torch.int64), TypeError, r"dtype"),
    ],
)
def test_clustered_tasks_reject_nonsense(kwargs, error, message):
    args = dict(n_tasks=2, n_train=4, n_test=3, dim=4) | kwargs
    with pytest.raises(error, match=message):
        data.clustered_tasks(**args)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(n_pairs=0), ValueError, r"n_pairs must be >= 1 \(a split cannot be empty\), got 0"),
        (dict(n_tasks=-1), ValueError, r"n_tasks.*-1"),
        (dict(kind="ternary"), ValueError, r"kind.*'ternary'"),
        (dict(trials=0), ValueError, r"trials.*0"),
    ],
)
def test_random_tasks_reject_nonsense(kwargs, error, message):
    with pytest.raises(error, match=message):
        data.random_tasks(**(dict(n_tasks=2, n_pairs=4, dim=4) | kwargs))


# ---------------------------------------------------------------------------------------------
# metrics


def test_nearest_target_recall_with_shared_targets():
    candidates = torch.eye(3)
    retrieved = torch.tensor([[2.0, 0.1, 0.0], [0.0, 0.0, 1.0], [0.9, 1.0, 0.0], [0.0, 0.0, 0.0]])
    targets = torch.tensor([0, 2, 0, 1])
    hits = metrics.nearest_target_recall(retrieved, candidates, targets)
    assert hits.tolist() == [True, True, False, False]  # a zero read is a miss
    batched = metrics.nearest_target_recall(
        retrieved.expand(2, 4, 3), candidates.expand(2, 3, 3), targets.expand(2, 4)
    )
    assert batched.shape == (2, 4) and batched[1].tolist() == hits.tolist()


def test_nearest_target_recall_agrees_with_nearest_neighbor_recall():
    retrieved, candidates = torch.randn(2, 5, 4), torch.randn(2, 7, 4)
    expected = metrics.nearest_neighbor_recall(retrieved, candidates)
    assert torch.equal(
        metrics.nearest_target_recall(retrieved, candidates, torch.arange(5)), expected
    )


@pytest.mark.parametrize(
    "targets, error, message",
    [
        (torch.tensor([0, 3]), ValueError, r"targets must index the 3 candidates.*\[0, 3\]"),
        (torch.tensor([0, 1, 2]), ValueError, r"targets must have shape \(2,\).*\(3,\)"),
        (torch.tensor([0.0, 1.0]), TypeError, r"targets must be an integer"),
    ],
)
def test_nearest_target_recall_rejects_bad_targets(targets, error, message):
    with pytest.raises(error, match=message):
        metrics.nearest_target_recall(torch.randn(2, 4), torch.randn(3, 4), targets)


# R[i, j]: accuracy on task j after learning tasks 0..i (three tasks, worked by hand).
R3 = torch.tensor([[0.9, 0.1, 0.0], [0.95, 0.8, 0.2], [0.5, 0.7, 1.0]], dtype=F64)


def test_continual_metrics_on_a_hand_made_matrix():
    assert metrics.average_accuracy(R3).item() == pytest.approx((0.5 + 0.7 + 1.0) / 3)
    assert metrics.backward_transfer(R3).item() == pytest.approx(((0.5 - 0.9) + (0.7 - 0.8)) / 2)
    # task 0: best before the last task is 0.95 (after task 1); task 1: 0.8.
    assert metrics.forgetting_measure(R3).item() == pytest.approx(((0.95 - 0.5) + (0.8 - 0.7)) / 2)


def test_forgetting_measure_ignores_accuracy_before_a_task_was_learned():
    r = R3.clone()
    r[0, 1] = 1.0  # task 1 tested before it was learned: not counted
    assert metrics.forgetting_measure(r).item() == pytest.approx(
        metrics.forgetting_measure(R3).item()
    )
    improved = torch.tensor([[0.5, 0.0], [0.9, 1.0]], dtype=F64)  # learning B helped A
    assert metrics.forgetting_measure(improved).item() == pytest.approx(-0.4)
    assert metrics.backward_transfer(improved).item() == pytest.approx(0.4)


def test_two_tasks_reduce_to_the_forgetting_score():
    gen = torch.Generator().manual_seed(0)
    r = torch.rand(50, 2, 2, generator=gen, dtype=F64)
    a1, a2, b = r[:, 0, 0], r[:, 1, 0], r[:, 1, 1]
    torch.testing.assert_close(metrics.forgetting_measure(r), a1 - a2)
    torch.testing.assert_close(metrics.backward_transfer(r), -(a1 - a2))
    torch.testing.assert_close(metrics.average_accuracy(r), (a2 + b) / 2)


def test_continual_metrics_take_batches_and_arrays():
    batch = torch.stack([R3, R3.flip(0)])
    assert metrics.backward_transfer(batch).shape == (2,)
    from_numpy = metrics.forgetting_measure(R3.numpy())
    assert from_numpy.dtype == F64 and from_numpy.item() == pytest.approx(0.275)
    assert metrics.average_accuracy([[0.25]]).item() == 0.25  # one task: its accuracy


@pytest.mark.parametrize(
    "function", [metrics.average_accuracy, metrics.backward_transfer, metrics.forgetting_measure]
)
def test_continual_metrics_reject_bad_matrices(function):
    with pytest.raises(ValueError, match=r"matrix must have shape \(\.\.\., T, T\), got \(2, 3\)"):
        function(torch.zeros(2, 3))
    with pytest.raises(TypeError, match="matrix must be a tensor or array"):
        function("accuracies")


@pytest.mark.parametrize("function", [metrics.backward_transfer, metrics.forgetting_measure])
def test_transfer_and_forgetting_need_two_tasks(function):
    with pytest.raises(ValueError, match=r"at least 2 tasks.*\(1, 1\)"):
        function(torch.ones(1, 1))


# ---------------------------------------------------------------------------------------------
# forgetting, forgetting_trace, task_sequence, span_retention

TWO_TASK_COLUMNS = [
    "trial",
    "acc_A1",
    "acc_A2",
    "forgetting",
    "acc_B",
    "chance",
    "diverged",
    "memory",
    "kind",
    "dim",
    "n_train_A",
    "n_train_B",
    "n_test_A",
    "n_test_B",
    "steps_A",
    "steps_B",
    "seed",
]
SMALL = dict(trials=4, dim=8, seed=0)


@pytest.mark.parametrize("kind", ["clustered", "random"])
def test_forgetting_frame(kind):
    options = {"clusters": 2} if kind == "clustered" else {}
    frame = forgetting(DeltaRuleMemory, steps=(3, 2), n_train=(6, 4), kind=kind, **SMALL, **options)
    assert list(frame.columns) == TWO_TASK_COLUMNS + list(options)
    assert len(frame) == 4 and frame["trial"].tolist() == [0, 1, 2, 3]
    np.testing.assert_array_equal(frame["forgetting"], frame["acc_A1"] - frame["acc_A2"])
    for column in ["acc_A1", "acc_A2", "acc_B"]:
        assert frame[column].between(0, 1).all()
    row = frame.iloc[0]
    assert (row["steps_A"], row["steps_B"], row["n_train_A"], row["n_train_B"]) == (3, 2, 6, 4)
    if kind == "clustered":
        assert row["n_test_A"] == 32 and row["chance"] == 1 / 4  # 2 + 2 cluster values
    else:
        assert row["n_test_A"] == 6 and row["chance"] == 1 / 10  # 6 + 4 pair values


def test_forgetting_is_deterministic_and_seeded():
    run = partial(
        forgetting, EpisodicMemory, steps=3, kind="clustered", clusters=2, trials=4, dim=8
    )
    pd.testing.assert_frame_equal(run(seed=1), run(seed=1))
    assert not run(seed=1)[["acc_A1", "acc_A2"]].equals(run(seed=2)[["acc_A1", "acc_A2"]])


def test_a_readers_plain_class_runs_and_matches_the_batched_memory():
    plain = forgetting(HebbianNoTrials, steps=2, kind="random", n_train=5, **SMALL)
    batched = forgetting(MatrixAssociativeMemory, steps=2, kind="random", n_train=5, **SMALL)
    assert plain["memory"].iloc[0] == "HebbianNoTrials"
    np.testing.assert_array_equal(plain["acc_A2"], batched["acc_A2"])
    sequence = task_sequence(HebbianNoTrials, n_tasks=3, steps=1, **SMALL)
    assert len(sequence) == 4 * 3 * 3


def test_memories_that_keep_everything_do_not_forget_random_pairs():
    frame = forgetting(AttentionMemory, steps=2, kind="random", n_train=8, trials=4, dim=32)
    assert (frame["acc_A1"] == 1).all() and (frame["forgetting"] == 0).all()


def test_hebbian_forgetting_depends_only_on_the_ratio_of_writes():
    run = partial(forgetting, MatrixAssociativeMemory, kind="clustered", clusters=2, **SMALL)
    scores = ["acc_A1", "acc_A2", "acc_B"]
    np.testing.assert_array_equal(run(steps=(2, 6))[scores], run(steps=(1, 3))[scores])


def test_task_sequence_frame_and_accuracy_matrix():
    frame = task_sequence(DeltaRuleMemory, n_tasks=3, steps=2, n_train=[4, 5, 6], **SMALL)
    assert list(frame.columns)[:5] == ["trial", "after_task", "task", "accuracy", "chance"]
    assert {"memory", "kind", "n_tasks", "n_train", "n_test", "steps", "seed"} <= set(frame.columns)
    assert len(frame) == 4 * 3 * 3
    assert frame.groupby("task")["n_train"].first().tolist() == [4, 5, 6]
    r = accuracy_matrix(frame)
    assert r.shape == (4, 3, 3) and r.dtype == F64
    row = frame.query("trial == 2 and after_task == 3 and task == 1")["accuracy"].item()
    assert r[2, 2, 0].item() == row


def test_two_task_sequence_matches_forgetting():
    kwargs = dict(steps=(3, 2), kind="clustered", clusters=2, **SMALL)
    frame = forgetting(DeltaRuleMemory, **kwargs)
    r = accuracy_matrix(task_sequence(DeltaRuleMemory, n_tasks=2, **kwargs))
    np.testing.assert_array_equal(r[:, 0, 0].numpy(), frame["acc_A1"])
    np.testing.assert_array_equal(r[:, 1, 0].numpy(), frame["acc_A2"])
    np.testing.assert_array_equal(r[:, 1, 1].numpy(), frame["acc_B"])
    np.testing.assert_array_equal(metrics.forgetting_measure(r).numpy(), frame["forgetting"])
    np.testing.assert_array_equal(metrics.backward_transfer(r).numpy(), -frame["forgetting"])


def test_accuracy_matrix_needs_one_run():
    frame = sweep(task_sequence, {"a": DeltaRuleMemory, "b": HebbianNoTrials}, n_tasks=2, **SMALL)
    with pytest.raises(ValueError, match="one run"):
        accuracy_matrix(frame)
    with pytest.raises(ValueError, match="lacks column"):
        accuracy_matrix(frame.drop(columns="task"))


def test_continual_scores_are_the_metrics_of_each_run():
    memories = {"delta": DeltaRuleMemory, "hebbian": HebbianNoTrials}
    frame = sweep(task_sequence, memories, n_tasks=3, steps=2, **SMALL)
    scores = continual_scores(frame)
    assert list(scores.columns) == [
        "memory", "trial", "average_accuracy", "backward_transfer", "forgetting"
    ]  # fmt: skip
    assert scores["memory"].tolist() == ["delta"] * 4 + ["hebbian"] * 4
    for name, run in frame.groupby("memory"):
        r = accuracy_matrix(run)
        mine = scores[scores["memory"] == name]
        np.testing.assert_array_equal(mine["average_accuracy"], metrics.average_accuracy(r))
        np.testing.assert_array_equal(mine["backward_transfer"], metrics.backward_transfer(r))
        np.testing.assert_array_equal(mine["forgetting"], metrics.forgetting_measure(r))
    one = continual_scores(frame[frame["memory"] == "delta"], by=None)
    assert "memory" not in one.columns
    np.testing.assert_array_equal(one["forgetting"], scores["forgetting"][:4])


def test_forgetting_trace_ends_where_forgetting_does():
    kwargs = dict(steps=(3, 2), kind="clustered", clusters=2, **SMALL)
    trace = forgetting_trace(DeltaRuleMemory, **kwargs)
    frame = forgetting(DeltaRuleMemory, **kwargs)
    assert len(trace) == 4 * (3 + 2 + 1) * 2
    assert trace.query("step <= 3")["learning"].eq("A").all()
    assert trace.query("step > 3")["learning"].eq("B").all()
    a = trace[trace["task"] == "A"].pivot(index="trial", columns="step", values="accuracy")
    np.testing.assert_array_equal(a[3], frame["acc_A1"])
    np.testing.assert_array_equal(a[5], frame["acc_A2"])
    assert (a[0] == 0).all()  # a zero matrix reads zero: every test read is a miss


@pytest.mark.parametrize(
    "memory", [EpisodicMemory, partial(DeltaRuleMemory, lr=0.01), AttentionMemory]
)
@pytest.mark.parametrize("kind", ["clustered", "random"])
def test_forgetting_by_writes_is_forgetting_at_each_count(memory, kind):
    options = dict(kind=kind, n_train=(4, 3), **SMALL) | (
        {"clusters": 2} if kind == "clustered" else {}
    )
    counts = [1, 2, 5]
    frame = forgetting_by_writes(memory, counts, steps_a=3, label="m", **options)
    runs = [forgetting(memory, steps=(3, s), label="m", **options) for s in counts]
    pd.testing.assert_frame_equal(frame, pd.concat(runs, ignore_index=True))
    assert frame["steps_B"].tolist() == [s for s in counts for _ in range(SMALL["trials"])]


@pytest.mark.parametrize("writes_b", [[3, 1], [0, 2], [], "3"])
def test_forgetting_by_writes_wants_increasing_positive_counts(writes_b):
    with pytest.raises((ValueError, TypeError), match="writes_b"):
        forgetting_by_writes(DeltaRuleMemory, writes_b, **SMALL)


@pytest.mark.parametrize("memory", [MatrixAssociativeMemory, partial(DeltaRuleMemory, lr=0.01)])
def test_span_retention_leaves_the_orthogonal_part_untouched(memory):
    frame = span_retention(
        partial(memory, dtype=F64), steps=(3, 5), kind="random", n_train=(6, 4), **SMALL
    )
    assert len(frame) == 2 * 4 and set(frame["part"]) == {"in span of B", "orthogonal to B"}
    outside = frame[frame["part"] == "orthogonal to B"]
    np.testing.assert_allclose(outside["retained"], 1, atol=1e-12)
    np.testing.assert_allclose(outside["changed"], 0, atol=1e-12)
    inside = frame[frame["part"] == "in span of B"]
    assert (inside["changed"] > 0.01).all()


@pytest.mark.parametrize("memory", [MatrixAssociativeMemory, EpisodicMemory])
def test_span_retention_is_undefined_when_b_spans_everything(memory):
    frame = span_retention(memory, steps=1, kind="random", n_train=(4, 10), **SMALL)
    outside = frame[frame["part"] == "orthogonal to B"]
    assert outside[["retained", "changed"]].isna().all().all()
    assert frame[frame["part"] == "in span of B"]["retained"].notna().all()


@pytest.mark.parametrize(
    "call, error, message",
    [
        (partial(forgetting, steps=0), ValueError, r"steps.*0"),
        (partial(forgetting, steps=(3, 0)), ValueError, r"steps.*0"),
        (partial(forgetting, steps=(1, 2, 3)), ValueError, r"steps must be .*2 ints.*\[1, 2, 3\]"),
        (partial(forgetting, trials=0), ValueError, r"trials.*0"),
        (partial(forgetting, n_train=0), ValueError, r"n_train must be >= 1.*got 0"),
        (partial(forgetting, n_train=(4, 0)), ValueError, r"n_train must be >= 1.*got 0"),
        (partial(forgetting, n_test=0), ValueError, r"n_test must be >= 1.*got 0"),
        (partial(forgetting, kind="random", n_test=4), ValueError, r"n_test must be None.*4"),
        (partial(forgetting, kind="mixed"), ValueError, r"kind must be one of.*'mixed'"),
        (partial(forgetting, spread=-1.0), ValueError, r"spread.*-1\.0"),
        (partial(forgetting, seed=-1), ValueError, r"seed.*-1"),
        (partial(task_sequence, n_tasks=0), ValueError, r"n_tasks.*0"),
        (partial(task_sequence, n_tasks=3, steps=(1, 2)), ValueError, r"steps must be .*3 ints"),
        (partial(forgetting_trace, dim=0), ValueError, r"dim.*0"),
        (partial(span_retention, steps=0), ValueError, r"steps.*0"),
    ],
)
def test_experiments_reject_nonsense(call, error, message):
    with pytest.raises(error, match=message):
        call(MatrixAssociativeMemory, **({"trials": 2, "dim": 4} | call.keywords))


def test_a_factory_without_the_protocol_is_named():
    with pytest.raises(TypeError, match="update"):
        forgetting(lambda dim: object(), trials=2, dim=4)


# ---------------------------------------------------------------------------------------------
# plots and widgets


def test_forgetting_plots_draw_the_frames():
    import matplotlib.pyplot as plt

    from memnb import plots

    kwargs = dict(kind="clustered", clusters=2, **SMALL)
    two = sweep(forgetting, {"EpisodicMemory": EpisodicMemory, "mine": HebbianNoTrials}, **kwargs)
    ax = plots.task_accuracies(two, title="two tasks")
    assert ax.get_title() == "two tasks" and len(ax.patches) >= 6  # 3 bars per memory
    trace = forgetting_trace(DeltaRuleMemory, steps=(2, 3), **kwargs)
    ax = plots.forgetting_trace(trace)
    assert ax.get_ylabel() == plots.ACCURACY and len(ax.lines) >= 3  # A, B and chance
    frames = [forgetting(DeltaRuleMemory, n_train=(4, n), **kwargs) for n in (2, 4, 8)]
    ax = plots.sweep_curve(pd.concat(frames), "n_train_B", logx=True, xlabel="pairs in B")
    assert ax.get_xscale() == "log" and list(ax.get_xticks()) == [2, 4, 8]
    sequence = task_sequence(DeltaRuleMemory, n_tasks=3, **kwargs)
    ax = plots.accuracy_heatmap(accuracy_matrix(sequence), title="R")
    assert ax.get_xlabel() == "task tested" and len(ax.texts) == 9  # one number per cell
    with pytest.raises(ValueError, match=r"\(trials, T, T\)"):
        plots.accuracy_heatmap(np.zeros((2, 3, 4)))
    plt.close("all")


def test_forgetting_figure():
    from matplotlib.figure import Figure

    from memnb import widgets

    for memory in widgets.FAMILIES:
        lr = 0.01 if memory in widgets.FORGETTING_LR else None
        fig = widgets.forgetting_figure(
            memory, "random", 4, 6, 2, 3, lr=lr, dim=8, trials=4, seed=0
        )
        assert isinstance(fig, Figure) and memory in fig.axes[0].get_title()
    with pytest.raises(ValueError, match="lr=0.05"):
        widgets.forgetting_figure("AttentionMemory", lr=0.05, dim=8, trials=2)
    with pytest.raises(ValueError, match="'Nope'"):
        widgets.forgetting_figure("Nope", dim=8, trials=2)


def test_forgetting_explorer_controls(monkeypatch):
    import ipywidgets

    from memnb import widgets

    drawn = []
    monkeypatch.setattr(widgets, "display", lambda *objs, **kw: None, raising=False)
    monkeypatch.setattr(
        widgets, "forgetting_figure", lambda *a, **kw: drawn.append((a, kw)) or _figure()
    )
    box = widgets.forgetting_explorer("DeltaRuleMemory", n_train_a=8, steps_b=5)
    grid = len(widgets.FAMILIES)  # every memory at the starting setting
    assert isinstance(box, ipywidgets.VBox) and len(drawn) == grid
    box.live()
    assert len(drawn) == grid  # the starting setting is one of the grid's
    controls = {c.description: c for c in box.children[0].children[0].children}
    assert set(controls) == {"memory", "kind", "pairs A", "pairs B", "steps A", "steps B", "lr"}
    assert controls["lr"].value == pytest.approx(widgets.FORGETTING_LR["DeltaRuleMemory"])
    assert drawn[0][1]["n_train_a"] == 8 and {kw["steps_b"] for _, kw in drawn} == {5}
    # The grid draws each memory at the learning rate the live slider would give it.
    rates = {kw["memory"]: kw["lr"] for _, kw in drawn}
    assert rates == {**dict.fromkeys(widgets.FAMILIES), **widgets.FORGETTING_LR}
    controls["memory"].value = "MatrixAssociativeMemory"
    assert controls["lr"].disabled and len(drawn) == grid  # on the grid: not redrawn
    controls["pairs A"].value = 9
    assert len(drawn) == grid + 1 and drawn[-1][1]["lr"] is None
    assert drawn[-1][1]["n_train_a"] == 9
    controls["memory"].value = "EpisodicMemory"
    assert not controls["lr"].disabled and controls["lr"].value == pytest.approx(0.1)


def _figure():
    import matplotlib.pyplot as plt

    return plt.figure()


def test_kept_tasks_are_copies_and_give_the_same_numbers():
    import importlib

    module = importlib.import_module("memnb.experiments.forgetting")

    module._TASKS.clear()
    first = module._tasks("clustered", 2, 8, 4, 6, 3, 5, {"clusters": 2})
    first[0].train_keys.add_(1.0)  # a memory that changes its inputs changes no kept task
    again = module._tasks("clustered", 2, 8, 4, 6, 3, 5, {"clusters": 2})
    fresh = module.make_tasks("clustered", 2, 8, 4, 6, 3, 5, clusters=2)
    for kept, made in zip(again, fresh, strict=True):
        assert torch.equal(kept.train_keys, made.train_keys)
        assert torch.equal(kept.test_keys, made.test_keys)
        assert torch.equal(kept.values, made.values)
    assert len(module._TASKS) == 1


@pytest.mark.parametrize(
    "factory", [MatrixAssociativeMemory, partial(DeltaRuleMemory, lr=0.002, dtype=torch.float64)]
)
def test_span_retention_by_writes_matches_separate_runs(factory):
    counts = [1, 4, 9]
    run = dict(trials=3, dim=8, seed=2, kind="random", n_train=4)
    together = span_retention_by_writes(factory, writes_b=counts, steps_a=3, **run)
    for count in counts:
        alone = span_retention(factory, steps=(3, count), **run)
        pd.testing.assert_frame_equal(
            together[together["steps_B"] == count].reset_index(drop=True), alone
        )
