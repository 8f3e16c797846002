"""memnb.tuning: the best setting is chosen on tuning seeds only and reported on others."""

from __future__ import annotations

import inspect
import itertools
import math
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from types import MappingProxyType

import numpy as np
import pandas as pd
import pytest

import memnb
from memnb import experiments, memories, tuning


class Knobs:
    """A stand-in memory: it only keeps the settings it was built with."""

    hyperparameters = MappingProxyType({"a": (1, 2, 3), "b": (10, 20)})

    def __init__(self, dim, a=1, b=10, trials=None):
        self.a, self.b = a, b


def landscape(a, b, seed):
    """A score per setting and seed. Seed 0 (the evaluation seed) alone favours (3, 10),
    so a setting chosen on it would differ from one chosen on seeds 1 and 2."""
    bump = 10.0 if seed == 0 and (a, b) == (3, 10) else 0.0
    return -((a - 2) ** 2) - abs(b - 20) / 10 + 0.3 * seed * (a == 1) + bump


class Recorder:
    """A protocol that records the settings and seeds it receives and returns a frame
    whose ``accuracy`` is ``score(a, b, seed)`` (and ``diverged`` as ``diverged`` says)."""

    def __init__(self, score=landscape, diverged=lambda a, b, seed: False):
        self.score, self.diverged, self.calls = score, diverged, []

    def __call__(self, factory, seed=0, trials=3, dim=4):
        memory = factory(dim)
        self.calls.append(((memory.a, memory.b), seed))
        return pd.DataFrame(
            {
                "trial": range(trials),
                "accuracy": self.score(memory.a, memory.b, seed),
                "diverged": self.diverged(memory.a, memory.b, seed),
                "seed": seed,
            }
        )


SETTINGS = list(itertools.product((1, 2, 3), (10, 20)))  # the grid of Knobs, in order


def test_the_best_is_the_argmax_of_the_mean_tuning_score():
    result = tuning.tune(Recorder(), Knobs, objective="accuracy")
    means = {s: np.mean([landscape(*s, seed) for seed in (1, 2)]) for s in SETTINGS}
    expected = max(means, key=means.get)
    assert (result.best["a"], result.best["b"]) == expected
    # seed 0 would have chosen otherwise: the test tells the two apart
    assert max(SETTINGS, key=lambda s: landscape(*s, 0)) != expected
    grid = result.grid
    assert list(zip(grid["a"], grid["b"], strict=True)) == SETTINGS
    np.testing.assert_allclose(grid["score"], [means[s] for s in SETTINGS])
    for seed in (1, 2):
        np.testing.assert_allclose(
            grid[f"score_seed_{seed}"], [landscape(*s, seed) for s in SETTINGS]
        )
    assert grid.loc[grid["rank"] == 1, ["a", "b"]].to_records(index=False).tolist() == [expected]
    # rank: one more than the number of settings with a higher mean (ties share a rank)
    expected_ranks = [1 + sum(means[o] > means[s] for o in SETTINGS) for s in SETTINGS]
    assert grid["rank"].tolist() == expected_ranks
    assert result.objective == "accuracy"
    assert result.summary()["at_edge"] == ("b",)  # b = 20 is the largest b tried; a = 2 is not


def test_evaluation_never_reuses_a_tuning_seed():
    protocol = Recorder()
    result = tuning.tune(
        protocol, Knobs, objective="accuracy", tuning_seeds=(3, 4, 5), evaluation_seeds=(0, 7)
    )
    n_tuning = len(SETTINGS) * 3
    tuned, evaluated = protocol.calls[:n_tuning], protocol.calls[n_tuning:]
    assert sorted(tuned) == sorted((s, seed) for s in SETTINGS for seed in (3, 4, 5))
    best = (result.best["a"], result.best["b"])
    defaults = (1, 10)  # Knobs' own defaults
    assert sorted(evaluated) == sorted((s, seed) for s in (defaults, best) for seed in (0, 7))
    assert set(result.evaluation["seed"]) == {0, 7}
    assert set(result.evaluation["setting"]) == {"default", "best"}
    scores = result.scores.set_index(["setting", "seed"])["score"]
    assert scores["best", 7] == landscape(*best, 7)
    assert scores["default", 0] == landscape(*defaults, 0)
    summary = result.summary()
    assert summary["score_best"] == np.mean([landscape(*best, s) for s in (0, 7)])
    assert summary["score_default"] == np.mean([landscape(*defaults, s) for s in (0, 7)])


def test_overlapping_seeds_raise_naming_the_overlap():
    protocol = Recorder()
    with pytest.raises(ValueError, match=r"share the seed\(s\) \[2\]"):
        tuning.tune(protocol, Knobs, objective="accuracy", tuning_seeds=(1, 2), evaluation_seeds=2)
    assert protocol.calls == []  # nothing ran


@pytest.mark.parametrize("how", ["column", "nan", "inf"])
def test_a_diverging_setting_is_never_chosen(how):
    # (2, 20) is the best by far, but it diverges on seed 2
    def score(a, b, seed):
        value = 100.0 if (a, b) == (2, 20) else landscape(a, b, seed)
        if (a, b) == (2, 20) and seed == 2 and how != "column":
            return math.nan if how == "nan" else math.inf
        return value

    def diverged(a, b, seed):
        return how == "column" and (a, b) == (2, 20) and seed == 2

    result = tuning.tune(Recorder(score, diverged), Knobs, objective="accuracy")
    assert (result.best["a"], result.best["b"]) != (2, 20)
    row = result.grid.set_index(["a", "b"]).loc[(2, 20)]
    assert row["diverged"]
    assert row["rank"] == result.grid["rank"].max()
    assert result.grid["diverged"].sum() == 1


def test_every_setting_diverging_raises():
    protocol = Recorder(diverged=lambda a, b, seed: seed == 1)
    with pytest.raises(ValueError, match="every setting of the grid diverged"):
        tuning.tune(protocol, Knobs, objective="accuracy")


def test_ties_share_a_rank_and_the_first_in_grid_order_wins():
    result = tuning.tune(Recorder(lambda a, b, seed: float(a >= 2)), Knobs, objective="accuracy")
    assert result.best == {"a": 2, "b": 10}
    assert result.grid["rank"].tolist() == [5, 5, 1, 1, 1, 1]
    assert result.summary()["tied"] == 4


def test_a_callable_objective_and_an_explicit_grid():
    def low_b(frame):
        return -float(frame["accuracy"].mean())

    protocol = Recorder()
    result = tuning.tune(protocol, Knobs, grid={"b": [20, 10]}, objective=low_b)
    assert result.objective == "low_b"
    assert result.grid.columns[0] == "b" and result.grid["b"].tolist() == [20, 10]
    assert result.best == {"b": 10}  # a = 1 (default) in every run
    assert {a for (a, _), _ in protocol.calls} == {1}


def test_a_partial_tunes_only_what_it_leaves_free():
    protocol = Recorder()
    result = tuning.tune(protocol, partial(Knobs, a=3), objective="accuracy")
    assert list(result.grid.columns[:1]) == ["b"] and "a" not in result.grid.columns
    assert {a for (a, _), _ in protocol.calls} == {3}
    assert result.best_factory()(4).a == 3


def test_an_empty_grid_is_the_defaults():
    protocol = Recorder()
    Knobs0 = type("Knobs0", (Knobs,), {"hyperparameters": MappingProxyType({})})
    result = tuning.tune(protocol, Knobs0, objective="accuracy", evaluation_seeds=(0, 5))
    assert result.best == {} and len(result.grid) == 1
    assert len(protocol.calls) == 2 + 2  # two tuning runs, and the defaults on two seeds once
    default, best = (
        result.evaluation[result.evaluation["setting"] == s] for s in ("default", "best")
    )
    pd.testing.assert_frame_equal(
        default.drop(columns="setting").reset_index(drop=True),
        best.drop(columns="setting").reset_index(drop=True),
    )
    assert result.best_factory() is Knobs0


def test_a_factory_without_hyperparameters_needs_a_grid():
    def plain(dim, a=1, b=10, trials=None):
        return Knobs(dim, a, b)

    with pytest.raises(ValueError, match=r"plain declares no hyperparameters.*grid="):
        tuning.tune(Recorder(), plain, objective="accuracy")
    result = tuning.tune(Recorder(), plain, grid={"a": (1, 2)}, objective="accuracy")
    assert result.best == {"a": 2}


def test_tune_all_and_tuned_factories_feed_sweep():
    Other = type("Other", (Knobs,), {"hyperparameters": MappingProxyType({"a": (1, 3)})})
    results = tuning.tune_all(
        Recorder(),
        {"knobs": Knobs, "other": Other},
        grids={"other": {"b": (10, 20)}},
        objective="accuracy",
    )
    assert list(results) == ["knobs", "other"]
    assert set(results["other"].best) == {"b"}
    factories = tuning.tuned_factories(results)
    for name, factory in factories.items():
        assert factory.keywords == results[name].best
    frame = experiments.sweep(Recorder(), factories, label="name", seed=0)
    assert frame["name"].unique().tolist() == ["knobs", "other"]
    table = tuning.tuning_table(results)
    assert table.index.tolist() == ["knobs", "other"]
    assert table.loc["knobs", "score_best"] == results["knobs"].summary()["score_best"]


def test_an_executor_gives_the_same_result():
    alone = tuning.tune(Recorder(), Knobs, objective="accuracy")
    with ThreadPoolExecutor(2) as pool:
        pooled = tuning.tune(Recorder(), Knobs, objective="accuracy", executor=pool)
    pd.testing.assert_frame_equal(alone.grid, pooled.grid)
    pd.testing.assert_frame_equal(alone.evaluation, pooled.evaluation)


# --- the named objectives on small hand-made frames ------------------------------------------


def capacity_frame(means, sizes=(4, 8, 16), trials=2, **columns):
    """Accuracy ``means[i]`` at N = ``sizes[i]``, the same in every trial."""
    rows = [
        {"trial": t, "n_items": n, "accuracy": m, **columns}
        for n, m in zip(sizes, means, strict=True)
        for t in range(trials)
    ]
    return pd.DataFrame(rows)


def test_capacity_objective():
    capacity = tuning.OBJECTIVES["capacity"]
    # falls below 0.95 between N = 8 (0.96) and N = 16 (0.5): interpolated linearly in N
    assert capacity(capacity_frame([1.0, 0.96, 0.5])) == pytest.approx(
        8 + 8 * (0.96 - 0.95) / (0.96 - 0.5)
    )
    assert capacity(capacity_frame([1.0, 1.0, 0.99])) == 16  # the lower bound it is
    assert capacity(capacity_frame([0.9, 0.5, 0.1])) == 0  # below the smallest N
    # only the stored pairs, after the most writes, count
    stored = capacity_frame([1.0, 1.0, 0.5], tested="stored", steps=5)
    others = [
        capacity_frame([0.0, 0.0, 0.0], tested="unseen", steps=5),
        capacity_frame([0.0, 0.0, 0.0], tested="stored", steps=1),
    ]
    mixed = pd.concat([others[0], stored, others[1]], ignore_index=True)
    assert capacity(mixed) == capacity(stored) == pytest.approx(8 + 8 * 0.05 / 0.5)


def test_mse_forgetting_and_accuracy_objectives():
    adaptation = pd.DataFrame({"step": [0, 0, 1, 1, 2, 2], "mse": [4.0, 2.0, 1.0, 1.5, 0.25, 0.75]})
    assert tuning.OBJECTIVES["final_mse"](adaptation) == -(0.25 + 0.75) / 2
    nan = adaptation.assign(mse=[1.0, 1.0, 1.0, 1.0, math.nan, 0.0])
    assert math.isnan(tuning.OBJECTIVES["final_mse"](nan))
    two_tasks = pd.DataFrame({"forgetting": [0.5, 0.25, 0.0]})
    assert tuning.OBJECTIVES["forgetting"](two_tasks) == -0.25
    assert tuning.OBJECTIVES["accuracy"](pd.DataFrame({"accuracy": [1.0, 0.5]})) == 0.75
    with pytest.raises(ValueError, match=r"objective 'final_mse' needs column\(s\) \['step'\]"):
        tuning.OBJECTIVES["final_mse"](adaptation.drop(columns="step"))


# --- the declarations of memnb's memories ---------------------------------------------------


def memory_classes():
    """Every memory class memnb exports (the protocol and the base class left out)."""
    found = []
    for name in memories.__all__:
        cls = getattr(memories, name)
        if inspect.isclass(cls) and not getattr(cls, "_is_protocol", False):
            if cls is not memories.BatchedMemory:
                found.append(cls)
    return found


def test_the_declarations_cover_the_book():
    names = {cls.__name__ for cls in memory_classes()}
    assert {"EpisodicMemory", "DeltaRuleMemory", "AttentionMemory", "NeuralMemory"} <= names


@pytest.mark.parametrize("cls", memory_classes(), ids=lambda cls: cls.__name__)
def test_every_memory_declares_its_hyperparameters(cls):
    assert "hyperparameters" in vars(cls), f"{cls.__name__} declares no hyperparameters"
    grid = cls.hyperparameters
    assert isinstance(grid, Mapping)
    keywords = inspect.signature(cls).parameters
    for key, values in grid.items():
        assert key in keywords, f"{cls.__name__}: {key!r} is not a constructor keyword"
        assert isinstance(values, tuple) and len(values) > 0
        assert len(set(values)) == len(values)
    with pytest.raises(TypeError):
        grid["new"] = (1,)  # read-only: a grid is shared by every user of the class


@pytest.mark.parametrize(
    "cls", [c for c in memory_classes() if c.hyperparameters], ids=lambda cls: cls.__name__
)
def test_every_declared_value_builds_a_memory(cls):
    dims = (8, 4) if cls is memnb.ProjectingEpisodicMemory else (8,)
    for key, values in cls.hyperparameters.items():
        for value in values:
            cls(*dims, **{key: value})


def test_attention_tuned_on_unit_keys_sharpens_its_read():
    # At small beta, unit-norm keys give a nearly flat softmax over the stored pairs.
    result = tuning.tune(
        experiments.capacity,
        memnb.AttentionMemory,
        objective="capacity",
        n_items=[8, 32, 128],
        steps=1,
        trials=4,
        dim=16,
        kind="unit",
    )
    grid = memnb.AttentionMemory.hyperparameters["beta"]
    assert result.best["beta"] > min(grid)
    assert set(result.evaluation["seed"]) == {0}
    summary = result.summary()
    assert summary["score_best"] >= summary["score_default"]
