"""Bad input fails early, with the exception type and a message that names what was wrong.

Every row: (description, callable, expected exception type, regex that the message must
contain). The regex checks that the argument's name and the value or shape received appear.
"""

from __future__ import annotations

import re
from functools import partial

import pytest
import torch

from memnb import (
    DeltaRuleMemory,
    EpisodicMemory,
    LoopedMemory,
    MatrixAssociativeMemory,
    data,
    metrics,
    summaries,
)
from memnb.experiments import adaptation, sweep

F32, F64 = torch.float32, torch.float64


def x(*shape, dtype=F32, fill=None):
    """A tensor of the given shape: random, or with ``fill`` at index 0 of the flat view."""
    out = torch.randn(shape, dtype=dtype, generator=torch.Generator().manual_seed(0))
    if fill is not None:
        out.view(-1)[0] = fill
    return out


def episodic(trials=None, **kwargs):
    return EpisodicMemory(32, memory_size=4, trials=trials, seed=0, **kwargs)


def write(memory, keys, values):
    return lambda: memory().update(keys(), values())


def read(memory, queries):
    return lambda: memory()(queries())


class WrongShape:
    """Answers every read with a (T, 1, 16) tensor, whatever the memory's dimension."""

    def __init__(self, dim, trials=None):
        self.trials = trials

    def update(self, keys, values):
        return None

    def __call__(self, queries):
        return torch.zeros(self.trials, 1, 16)


class NoUpdate:
    def __init__(self, dim):
        pass

    def __call__(self, queries):
        return queries


def p(*shape):
    """The regex of a shape as Python prints a tuple: (4, 16) or (32,)."""
    return re.escape(str(tuple(shape)))


CASES = [
    # --- shapes -----------------------------------------------------------------------------
    (
        "keys of dim 16 into a dim-32 memory",
        write(episodic, lambda: x(4, 16), lambda: x(4, 32)),
        ValueError,
        rf"keys.*32.*{p(4, 16)}",
    ),
    (
        "keys of dim 16 into a dim-32 Hebbian memory",
        write(lambda: MatrixAssociativeMemory(32), lambda: x(4, 16), lambda: x(4, 32)),
        ValueError,
        rf"keys.*32.*{p(4, 16)}",
    ),
    (
        "queries of dim 16 into a dim-32 delta-rule memory",
        read(lambda: DeltaRuleMemory(32), lambda: x(2, 16)),
        ValueError,
        rf"queries.*32.*{p(2, 16)}",
    ),
    (
        "values of the wrong value_dim",
        write(lambda: MatrixAssociativeMemory(32, value_dim=5), lambda: x(2, 32), lambda: x(2, 32)),
        ValueError,
        rf"values.*5.*{p(2, 32)}",
    ),
    (
        "1-D keys",
        write(episodic, lambda: x(32), lambda: x(32)),
        ValueError,
        rf"keys.*\(N, 32\).*{p(32)}",
    ),
    (
        "2-D keys into a trials=4 memory",
        write(partial(episodic, 4), lambda: x(1, 32), lambda: x(1, 32)),
        ValueError,
        rf"keys.*\(4, N, 32\).*{p(1, 32)}",
    ),
    (
        "2-D queries into a trials=4 Hebbian memory",
        read(lambda: MatrixAssociativeMemory(32, trials=4), lambda: x(1, 32)),
        ValueError,
        rf"queries.*\(4, N, 32\).*{p(1, 32)}",
    ),
    (
        "3 trials into a trials=4 memory",
        write(partial(episodic, 4), lambda: x(3, 1, 32), lambda: x(3, 1, 32)),
        ValueError,
        rf"keys.*3 trials.*trials=4.*{p(3, 1, 32)}",
    ),
    (
        "3 trials into a LoopedMemory of 4",
        write(
            lambda: LoopedMemory([DeltaRuleMemory(32) for _ in range(4)]),
            lambda: x(3, 1, 32),
            lambda: x(3, 1, 32),
        ),
        ValueError,
        rf"keys.*\(4, N, d\).*{p(3, 1, 32)}",
    ),
    (
        "values with another N than the keys",
        write(episodic, lambda: x(3, 32), lambda: x(2, 32)),
        ValueError,
        rf"values.*3.*{p(2, 32)}",
    ),
    (
        "an empty batch of keys",
        write(episodic, lambda: x(0, 32), lambda: x(0, 32)),
        ValueError,
        rf"keys.*empty.*{p(0, 32)}",
    ),
    (
        "an empty batch of queries",
        read(lambda: DeltaRuleMemory(32, trials=2), lambda: x(2, 0, 32)),
        ValueError,
        rf"queries.*empty.*{p(2, 0, 32)}",
    ),
    # --- values -----------------------------------------------------------------------------
    (
        "NaN in keys",
        write(episodic, lambda: x(2, 32, fill=float("nan")), lambda: x(2, 32)),
        ValueError,
        rf"keys.*NaN.*{p(2, 32)}",
    ),
    (
        "inf in values",
        write(episodic, lambda: x(2, 32), lambda: x(2, 32, fill=float("inf"))),
        ValueError,
        rf"values.*inf.*{p(2, 32)}",
    ),
    (
        "-inf in Hebbian values",
        write(lambda: MatrixAssociativeMemory(32), lambda: x(2, 32), lambda: x(2, 32, fill=-1e999)),
        ValueError,
        rf"values.*inf.*{p(2, 32)}",
    ),
    (
        "NaN in queries",
        read(lambda: DeltaRuleMemory(32), lambda: x(3, 32, fill=float("nan"))),
        ValueError,
        rf"queries.*NaN.*{p(3, 32)}",
    ),
    (
        "inf in queries",
        read(episodic, lambda: x(3, 32, fill=float("inf"))),
        ValueError,
        rf"queries.*inf.*{p(3, 32)}",
    ),
    # --- types ------------------------------------------------------------------------------
    (
        "a list as keys",
        write(episodic, lambda: [[0.0] * 32], lambda: x(1, 32)),
        TypeError,
        r"keys.*torch\.Tensor.*list",
    ),
    (
        "a list as queries",
        read(lambda: DeltaRuleMemory(32), lambda: [[0.0] * 32]),
        TypeError,
        r"queries.*torch\.Tensor.*list",
    ),
    (
        "an integer tensor as values",
        write(episodic, lambda: x(2, 32), lambda: torch.ones(2, 32, dtype=torch.int64)),
        TypeError,
        r"values.*floating-point.*int64",
    ),
    (
        "float64 keys into a float32 memory",
        write(episodic, lambda: x(2, 32, dtype=F64), lambda: x(2, 32, dtype=F64)),
        TypeError,
        r"keys.*float64.*float32",
    ),
    (
        "float32 queries into a float64 memory",
        read(lambda: DeltaRuleMemory(32, dtype=F64), lambda: x(2, 32)),
        TypeError,
        r"queries.*float32.*float64",
    ),
    (
        "an integer dtype for a memory",
        lambda: MatrixAssociativeMemory(32, dtype=torch.int64),
        TypeError,
        r"dtype.*torch\.int64",
    ),
    # --- sizes ------------------------------------------------------------------------------
    ("negative dim", lambda: EpisodicMemory(-3), ValueError, r"dim.*-3"),
    ("zero dim", lambda: DeltaRuleMemory(0), ValueError, r"dim.*\b0\b"),
    ("fractional dim", lambda: MatrixAssociativeMemory(2.5), TypeError, r"dim.*2\.5.*float"),
    ("zero value_dim", lambda: DeltaRuleMemory(4, value_dim=0), ValueError, r"value_dim.*\b0\b"),
    ("zero memory_size", lambda: EpisodicMemory(4, memory_size=0), ValueError, r"memory_size.*0"),
    ("negative memory_size", lambda: EpisodicMemory(4, -5), ValueError, r"memory_size.*-5"),
    ("zero trials", lambda: EpisodicMemory(4, trials=0), ValueError, r"trials.*\b0\b"),
    ("negative trials", lambda: DeltaRuleMemory(4, trials=-2), ValueError, r"trials.*-2"),
    ("bool trials", lambda: MatrixAssociativeMemory(4, trials=True), TypeError, r"trials.*True"),
    ("an empty LoopedMemory", lambda: LoopedMemory([]), ValueError, r"memories.*empty"),
    (
        "zero steps",
        lambda: adaptation(DeltaRuleMemory, steps=0, trials=2, dim=4),
        ValueError,
        r"steps.*\b0\b",
    ),
    (
        "negative steps",
        lambda: adaptation(DeltaRuleMemory, steps=-1, trials=2, dim=4),
        ValueError,
        r"steps.*-1",
    ),
    (
        "zero trials in an experiment",
        lambda: adaptation(DeltaRuleMemory, steps=2, trials=0, dim=4),
        ValueError,
        r"trials.*\b0\b",
    ),
    (
        "zero dim in an experiment",
        lambda: adaptation(DeltaRuleMemory, steps=2, trials=2, dim=0),
        ValueError,
        r"dim.*\b0\b",
    ),
    (
        "negative seed in an experiment",
        lambda: adaptation(DeltaRuleMemory, steps=2, trials=2, dim=4, seed=-1),
        ValueError,
        r"seed.*-1",
    ),
    # --- learning rates and options ---------------------------------------------------------
    ("zero lr", lambda: DeltaRuleMemory(8, lr=0), ValueError, r"lr.*\b0(\.0)?\b"),
    ("negative lr", lambda: EpisodicMemory(8, lr=-0.1), ValueError, r"lr.*-0\.1"),
    ("NaN lr", lambda: DeltaRuleMemory(8, lr=float("nan")), ValueError, r"lr.*nan"),
    ("inf lr", lambda: EpisodicMemory(8, lr=float("inf")), ValueError, r"lr.*inf"),
    ("string lr", lambda: DeltaRuleMemory(8, lr="0.1"), TypeError, r"lr.*'0\.1'.*str"),
    ("negative beta", lambda: EpisodicMemory(8, beta=-1), ValueError, r"beta.*-1"),
    (
        "an unknown optimizer",
        lambda: EpisodicMemory(8, optimizer="rmsprop"),
        ValueError,
        r"optimizer.*'rmsprop'",
    ),
    ("a string seed", lambda: EpisodicMemory(8, seed="0"), TypeError, r"seed.*str"),
    # --- data -------------------------------------------------------------------------------
    (
        "an unknown kind of vectors",
        lambda: data.random_vectors(2, 4, kind="uniform"),
        ValueError,
        r"kind.*'uniform'",
    ),
    (
        "an unknown kind of pairs",
        lambda: data.random_pairs(2, 4, kind="sparse"),
        ValueError,
        r"kind.*'sparse'",
    ),
    (
        "an unknown kind in an experiment",
        lambda: adaptation(DeltaRuleMemory, steps=1, trials=2, dim=4, kind="ternary"),
        ValueError,
        r"kind.*'ternary'",
    ),
    ("zero vectors", lambda: data.random_vectors(0, 4), ValueError, r"\bn\b.*\b0\b"),
    ("negative dim of data", lambda: data.random_pairs(2, -4), ValueError, r"dim.*-4"),
    ("a float seed for data", lambda: data.random_pairs(2, 4, seed=1.5), TypeError, r"seed.*float"),
    (
        "zero value_dim of pairs",
        lambda: data.random_pairs(2, 4, value_dim=0),
        ValueError,
        r"value_dim.*\b0\b",
    ),
    (
        "an unknown value_kind of pairs",
        lambda: data.random_pairs(2, 4, value_kind="sparse"),
        ValueError,
        r"value_kind.*'sparse'",
    ),
    (
        "a sweep label that would overwrite a column",
        lambda: sweep(adaptation, {1: DeltaRuleMemory}, label="trial", steps=1, trials=2, dim=4),
        ValueError,
        r"label 'trial'.*column",
    ),
    # --- factories --------------------------------------------------------------------------
    (
        "a factory whose memory has no update",
        lambda: adaptation(NoUpdate, steps=1, trials=2, dim=4),
        TypeError,
        r"NoUpdate.*update",
    ),
    (
        "a trials factory returning a plain object",
        lambda: adaptation(lambda dim, trials: object(), steps=1, trials=2, dim=4),
        TypeError,
        r"object.*update.*__call__",
    ),
    (
        "a factory whose memory reads the wrong shape",
        lambda: adaptation(WrongShape, steps=1, trials=4, dim=32),
        ValueError,
        rf"{p(4, 1, 16)}.*expected.*4, 1, 32\b",
    ),
    (
        "a non-callable factory",
        lambda: adaptation(42, steps=1, trials=2, dim=4),
        TypeError,
        r"factory.*int",
    ),
    ("an empty sweep", lambda: sweep(adaptation, {}), ValueError, r"factories.*\{\}"),
    # --- metrics and summaries --------------------------------------------------------------
    (
        "mse of mismatched shapes",
        lambda: metrics.mse(x(3, 4), x(3, 5)),
        ValueError,
        rf"retrieved.*target.*{p(3, 4)}.*{p(3, 5)}",
    ),
    (
        "cosine of mismatched shapes",
        lambda: metrics.cosine_similarity(x(2, 3, 4), x(3, 4)),
        ValueError,
        rf"retrieved.*target.*{p(2, 3, 4)}.*{p(3, 4)}",
    ),
    (
        "recall with fewer candidates than items",
        lambda: metrics.nearest_neighbor_recall(x(4, 8), x(2, 8)),
        ValueError,
        rf"candidates.*{p(2, 8)}",
    ),
    (
        "recall with candidates of another dim",
        lambda: metrics.nearest_neighbor_recall(x(2, 8), x(2, 6)),
        ValueError,
        rf"candidates.*8.*{p(2, 6)}",
    ),
    (
        "a list into a metric",
        lambda: metrics.mse([1.0, 2.0], x(2)),
        TypeError,
        r"retrieved.*torch\.Tensor.*list",
    ),
    (
        "NaN into a metric",
        lambda: metrics.cosine_similarity(x(2, 3), x(2, 3, fill=float("nan"))),
        ValueError,
        rf"target.*NaN.*{p(2, 3)}",
    ),
    (
        "a fraction outside (0, 1)",
        lambda: summaries.steps_to_fraction(adaptation(DeltaRuleMemory, 1, 2, 4), fraction=1.5),
        ValueError,
        r"fraction.*1\.5",
    ),
    (
        "a frame without the mse column",
        lambda: summaries.mean_curve(adaptation(DeltaRuleMemory, 1, 2, 4).drop(columns="mse")),
        ValueError,
        r"mse",
    ),
]


def _with_id(case):
    if isinstance(case, tuple) and not hasattr(case, "marks"):
        return pytest.param(*case, id=case[0])
    return pytest.param(*case.values, marks=case.marks, id=case.values[0])


@pytest.mark.parametrize("description, call, error, message", [_with_id(c) for c in CASES])
def test_bad_input_is_rejected_with_a_clear_message(description, call, error, message):
    with pytest.raises(error) as caught:
        call()
    assert re.search(message, str(caught.value)), (
        f"{description}: message {str(caught.value)!r} does not match {message!r}"
    )
