"""Determinism: the same seed gives the same frame, another seed another frame.

:data:`RUNS` lists every function of ``memnb.experiments`` that takes a ``seed``, and
``memnb.battery.profile``, each with small settings and the numeric column that depends
on the random draw. Between the two runs with the same seed torch's and numpy's global
generators are moved on, so a function that drew from them would fail.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import partial

import numpy as np
import pandas as pd
import pytest
import torch

from memnb import (
    DeltaRuleMemory,
    EpisodicMemory,
    HopfieldMemory,
    MatrixAssociativeMemory,
    battery,
    experiments,
)

SLOTS = partial(EpisodicMemory, memory_size=4)  # random initial slots: the memory seed matters
SMALL_PROFILE = {
    "adaptation": dict(steps=3, trials=2, dim=8),
    "capacity": dict(n_items=(2, 4), steps=1, trials=2, dim=8),
    "forgetting": dict(steps=2, trials=2, dim=8),
    "dimensions": dict(dims=(8, 16), n_items=4, steps=1, trials=2),
    "contiguity": dict(trials=2, dim=8, steps=1),
    "cue_noise": dict(
        trials=2,
        gaussian=dict(n_items=4, steps=1, dim=8, cue_noise=(0, 0.5)),
        flip=dict(n_patterns=2, dim=8, noise=(0, 0.25)),
    ),
}


def _slots_of(memory: EpisodicMemory) -> pd.DataFrame:
    return pd.DataFrame({"slot_value": memory.slot_values.detach().flatten().numpy()})


def _profile(seed: int) -> pd.DataFrame:
    return battery.profile(DeltaRuleMemory, quick=True, seed=seed).frame


# function, keyword arguments, a column that depends on the draw, and how to get a frame
RUNS: list[tuple[Callable, dict, str, Callable | None]] = [
    (experiments.adaptation, dict(factory=SLOTS, steps=2, trials=3, dim=4), "mse", None),
    (
        experiments.capacity,
        dict(factory=SLOTS, n_items=(2, 4), steps=1, trials=3, dim=4),
        "mse",
        None,
    ),
    (
        experiments.attention_weights,
        dict(n_items=(2, 4), betas=(1.0,), dim=4, trials=3),
        "weight",
        None,
    ),
    (
        experiments.key_updates,
        dict(factory=SLOTS, rounds=(1, 2), n_keys=3, trials=3, dim=4),
        "cosine",
        None,
    ),
    (
        experiments.token_dimensions,
        dict(factory=DeltaRuleMemory, dims=(4, 8), n_items=4, steps=1, trials=3),
        "mse",
        None,
    ),
    (
        experiments.internal_dimensions,
        dict(
            token_dims=(8,),
            memory_dims=(4,),
            designs=("frozen",),
            n_items=4,
            steps=1,
            trials=2,
            memory_size=4,
        ),
        "mse",
        None,
    ),
    (
        experiments.bottleneck_recall,
        dict(
            token_dim=8,
            memory_dims=(4,),
            designs=("frozen",),
            n_items=4,
            n_heldout=4,
            steps=1,
            trials=2,
            rank=2,
            memory_size=4,
        ),  # fmt: skip
        "mse",
        None,
    ),
    (
        experiments.reduced_rank_recall,
        dict(token_dim=8, ranks=(2,), n_items=4, n_heldout=4, trials=2, rank=2),
        "mse",
        None,
    ),
    (
        experiments.projection_trace,
        dict(token_dim=8, memory_dim=4, designs=("learned",), steps=(0, 1), n_items=4, trials=2),
        "loss",
        None,
    ),
    (
        experiments.forgetting,
        dict(factory=SLOTS, steps=2, trials=4, dim=4, n_train=4, n_test=4, clusters=2),
        "acc_A1",
        None,
    ),
    (
        experiments.forgetting_by_writes,
        dict(factory=SLOTS, writes_b=(1, 2), steps_a=2, trials=3, dim=4, n_train=4, n_test=4),
        "acc_A2",
        None,
    ),
    (
        experiments.forgetting_trace,
        dict(factory=SLOTS, steps=2, trials=3, dim=4, n_train=4, n_test=4),
        "accuracy",
        None,
    ),
    (
        experiments.task_sequence,
        dict(factory=SLOTS, n_tasks=3, steps=2, trials=3, dim=4, n_train=4, n_test=4),
        "accuracy",
        None,
    ),
    (
        experiments.span_retention,
        dict(factory=DeltaRuleMemory, steps=2, trials=2, dim=4, kind="random", n_train=2),
        "retained",
        None,
    ),
    (
        experiments.span_retention_by_writes,
        dict(
            factory=DeltaRuleMemory,
            writes_b=(1, 2),
            steps_a=2,
            trials=2,
            dim=4,
            kind="random",
            n_train=2,
        ),
        "retained",
        None,
    ),
    (
        experiments.key_recall,
        dict(
            factory=partial(DeltaRuleMemory, lr=0.02),
            n_items=(2, 4),
            steps=1,
            trials=2,
            dim=4,
            n_unseen=4,
        ),
        "mse",
        None,
    ),
    (experiments.probe, dict(factory=SLOTS, trials=2, dim=4, steps=1), "cosine", None),
    (  # the patterns, the corrupted units and the update orders all follow the seed
        experiments.completion,
        dict(factory=HopfieldMemory, n_patterns=(6, 12), dim=40, noise=0.2, trials=3),
        "overlap",
        None,
    ),
    (
        experiments.attractors,
        dict(factory=HopfieldMemory, n_patterns=(3, 8), dim=40, cues=6, trials=3),
        "at_pattern",
        None,
    ),
    (
        experiments.chain_recall,
        dict(factory=DeltaRuleMemory, length=3, trials=2, dim=4, steps=1),
        "cosine",
        None,
    ),
    (
        experiments.free_recall,
        dict(factory=MatrixAssociativeMemory, length=6, trials=6, dim=16, steps=1),
        "item",
        None,
    ),
    (
        experiments.build_memory,
        dict(factory=SLOTS, dim=4, trials=2),
        "slot_value",
        _slots_of,
    ),
    (battery.profile, {}, "mse", None),
]


def _run(function: Callable, kwargs: dict, to_frame: Callable | None, seed: int) -> pd.DataFrame:
    if function is battery.profile:
        return _profile(seed)
    result = function(**kwargs, seed=seed)
    return result if to_frame is None else to_frame(result)


def _disturb_global_generators() -> None:
    torch.manual_seed(12345)
    torch.rand(7)
    np.random.seed(54321)
    np.random.rand(7)


@pytest.fixture(autouse=True)
def _small_profile(monkeypatch):
    monkeypatch.setitem(battery.SETTINGS, True, SMALL_PROFILE)


@pytest.mark.parametrize(
    "function, kwargs, column, to_frame",
    [pytest.param(*run, id=run[0].__name__) for run in RUNS],
)
def test_same_seed_same_frame_other_seed_other_frame(function, kwargs, column, to_frame):
    first = _run(function, kwargs, to_frame, seed=3)
    _disturb_global_generators()
    again = _run(function, kwargs, to_frame, seed=3)
    pd.testing.assert_frame_equal(first, again)
    other = _run(function, kwargs, to_frame, seed=4)
    assert column in first.columns and pd.api.types.is_numeric_dtype(first[column])
    assert len(other) == len(first)
    a, b = first[column].to_numpy(dtype=float), other[column].to_numpy(dtype=float)
    assert not np.allclose(a, b, equal_nan=True), f"{column} is the same for seeds 3 and 4"


def test_every_experiment_with_a_seed_is_listed():
    seeded = {
        name
        for name in experiments.__all__
        if "seed" in inspect.signature(getattr(experiments, name)).parameters
    }
    listed = {function.__name__ for function, *_ in RUNS}
    assert "adaptation" in seeded and "profile" in listed
    assert seeded <= listed, f"experiments with a seed but no determinism run: {seeded - listed}"
