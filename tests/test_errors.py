"""Bad input fails early, with the exception type and a message that names what was wrong.

One table, :data:`CASES`: every row is ``(target, description, call, error, message)``.
``target`` is the public function, method or class whose check the row exercises;
``call`` runs it with one piece of nonsense; ``error`` is the exception type expected and
``message`` a regex that the message must match, naming the argument, the value or shape
received and what was expected. Each row also checks that ``call`` really runs
``target``, and :func:`test_every_public_function_has_a_row` fails when a public
function of memnb (one that takes arguments) has no row.
"""

from __future__ import annotations

import inspect
import re
import sys
from functools import partial
from types import CodeType

import pandas as pd
import pytest
import torch

import memnb
from memnb import (
    AttentionMemory,
    DeltaRuleMemory,
    DenseAssociativeMemory,
    EpisodicMemory,
    HopfieldMemory,
    LoopedMemory,
    MatrixAssociativeMemory,
    ModernHopfieldMemory,
    NeuralMemory,
    ProjectingEpisodicMemory,
    battery,
    data,
    experiments,
    metrics,
    plots,
    summaries,
    theory,
    tuning,
    widgets,
)
from memnb.claims import Claims
from memnb.experiments import dimensions
from memnb.memories import BatchedMemory
from memnb.memories.deltanet import DeltaNetMemory, GatedDeltaNetMemory
from memnb.memories.linear_attention import LinearAttentionMemory
from memnb.memories.size import state_size
from memnb.memories.sliding import SlidingWindowMemory

F32, F64 = torch.float32, torch.float64
MODULES = (
    memnb,
    memnb.claims,
    memnb.memories,
    memnb.experiments,
    data,
    metrics,
    summaries,
    theory,
    tuning,
    plots,
    widgets,
    battery,
)


def x(*shape, dtype=F32, fill=None):
    """A tensor of the given shape: random, or with ``fill`` at index 0 of the flat view."""
    out = torch.randn(shape, dtype=dtype, generator=torch.Generator().manual_seed(0))
    if fill is not None:
        out.view(-1)[0] = fill
    return out


def meta(*shape):
    """A tensor on the 'meta' device: a tensor on another device than the CPU's."""
    return torch.zeros(shape, device="meta")


def ints(*shape):
    return torch.ones(shape, dtype=torch.int64)


def episodic(trials=None, **kwargs):
    return EpisodicMemory(32, memory_size=4, trials=trials, seed=0, **kwargs)


def write(memory, keys, values):
    return lambda: memory().update(keys(), values())


def read(memory, queries):
    return lambda: memory()(queries())


def frame(**columns):
    """A one-row frame with the given columns (the frame a plot or summary is handed)."""
    return pd.DataFrame({name: [value] for name, value in columns.items()})


NO_COLUMNS = frame(a=1)


def a_profile():
    empty = pd.DataFrame({"protocol": [], "memory": []})
    return battery.Profile("mine", empty, dict.fromkeys(battery.HEADLINES, 0.0))


def small_adaptation():
    return experiments.adaptation(DeltaRuleMemory, steps=1, trials=2, dim=4)


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


E = experiments
CASES = [
    (
        plots.chance_line,
        "a chance line from a frame without chance",
        lambda: plots.chance_line(None, pd.DataFrame({"n_items": [4]}), "n_items"),
        ValueError,
        r"lacks column.*\['chance'\]",
    ),
    (
        plots.state_size_curve,
        "a state-size curve over several N",
        lambda: plots.state_size_curve(
            pd.DataFrame(
                {"state_size": [8, 8], "accuracy": [1.0, 0.5], "memory": "m", "n_items": [4, 8]}
            )
        ),
        ValueError,
        r"frame must hold one N.*\[.*4.*8\]",
    ),
    (
        plots.capacity_ranking,
        "a capacity ranking with an unknown setting",
        lambda: plots.capacity_ranking(
            pd.DataFrame(
                {
                    "memory": ["m"],
                    "setting": ["tuned"],
                    "capacity": [4.0],
                    "lower_bound": [False],
                    "low": [3.0],
                    "high": [5.0],
                }
            )
        ),
        ValueError,
        r"setting must be 'default' or 'best', got \['tuned'\]",
    ),
    (
        Claims,
        "a string as the publishing function of claims",
        lambda: Claims(publish="glue"),
        TypeError,
        r"publish must be a function of \(name, value\) or None, got str",
    ),
    (
        Claims.glue,
        "a list glued as a number",
        lambda: Claims().glue(cap=[1, 2]),
        TypeError,
        r"cap must be a number or a string, got list",
    ),
    (
        Claims.check,
        "a claim whose condition is a float",
        lambda: Claims().check("capacity grows", 0.3),
        TypeError,
        r"condition of 'capacity grows'.*bool.*float",
    ),
    (
        Claims.table,
        "the table of a chapter that checked nothing",
        lambda: Claims().table(),
        ValueError,
        r"no claim has been checked",
    ),
    # --- memories: constructors ---------------------------------------------------------
    (EpisodicMemory, "negative dim", lambda: EpisodicMemory(-3), ValueError, r"dim.*-3"),
    (DeltaRuleMemory, "zero dim", lambda: DeltaRuleMemory(0), ValueError, r"dim.*\b0\b"),
    (
        MatrixAssociativeMemory,
        "fractional dim",
        lambda: MatrixAssociativeMemory(2.5),
        TypeError,
        r"dim.*int.*2\.5.*float",
    ),
    (
        DeltaRuleMemory,
        "zero value_dim",
        lambda: DeltaRuleMemory(4, value_dim=0),
        ValueError,
        r"value_dim.*positive int.*\b0\b",
    ),
    (
        BatchedMemory,
        "zero value_dim of the base class",
        lambda: BatchedMemory(4, 0, None),
        ValueError,
        r"value_dim.*positive int.*\b0\b",
    ),
    (
        EpisodicMemory,
        "zero memory_size",
        lambda: EpisodicMemory(4, memory_size=0),
        ValueError,
        r"memory_size.*positive int.*0",
    ),
    (
        EpisodicMemory,
        "negative memory_size",
        lambda: EpisodicMemory(4, -5),
        ValueError,
        r"memory_size.*-5",
    ),
    (EpisodicMemory, "zero trials", lambda: EpisodicMemory(4, trials=0), ValueError, r"trials.*0"),
    (
        DeltaRuleMemory,
        "negative trials",
        lambda: DeltaRuleMemory(4, trials=-2),
        ValueError,
        r"trials.*positive int.*-2",
    ),
    (
        MatrixAssociativeMemory,
        "bool trials",
        lambda: MatrixAssociativeMemory(4, trials=True),
        TypeError,
        r"trials.*True",
    ),
    (
        MatrixAssociativeMemory,
        "an integer dtype for a memory",
        lambda: MatrixAssociativeMemory(32, dtype=torch.int64),
        TypeError,
        r"dtype.*floating-point.*torch\.int64",
    ),
    (
        EpisodicMemory,
        "a device that does not exist",
        lambda: EpisodicMemory(4, device="gpu0"),
        ValueError,
        r"device.*torch device.*'gpu0'",
    ),
    (DeltaRuleMemory, "zero lr", lambda: DeltaRuleMemory(8, lr=0), ValueError, r"lr.*> 0.*0"),
    (EpisodicMemory, "negative lr", lambda: EpisodicMemory(8, lr=-0.1), ValueError, r"lr.*-0\.1"),
    (
        DeltaRuleMemory,
        "NaN lr",
        lambda: DeltaRuleMemory(8, lr=float("nan")),
        ValueError,
        r"lr.*nan",
    ),
    (EpisodicMemory, "inf lr", lambda: EpisodicMemory(8, lr=float("inf")), ValueError, r"lr.*inf"),
    (
        DeltaRuleMemory,
        "string lr",
        lambda: DeltaRuleMemory(8, lr="0.1"),
        TypeError,
        r"lr.*number.*'0\.1'.*str",
    ),
    (EpisodicMemory, "negative beta", lambda: EpisodicMemory(8, beta=-1), ValueError, r"beta.*-1"),
    (
        EpisodicMemory,
        "an unknown optimizer",
        lambda: EpisodicMemory(8, optimizer="rmsprop"),
        ValueError,
        r"optimizer.*one of.*'rmsprop'",
    ),
    (EpisodicMemory, "a string seed", lambda: EpisodicMemory(8, seed="0"), TypeError, r"seed.*str"),
    (
        ProjectingEpisodicMemory,
        "zero token_dim",
        lambda: ProjectingEpisodicMemory(0, 4),
        ValueError,
        r"token_dim.*positive int.*\b0\b",
    ),
    (
        ProjectingEpisodicMemory,
        "an unknown value projection",
        lambda: ProjectingEpisodicMemory(8, 4, value_projection="learnt"),
        ValueError,
        r"value_projection.*one of.*'learnt'",
    ),
    (
        AttentionMemory,
        "negative attention beta",
        lambda: AttentionMemory(8, beta=-2.0),
        ValueError,
        r"beta.*>= 0.*-2",
    ),
    (
        DeltaNetMemory,
        "a DeltaNet beta above one",
        lambda: DeltaNetMemory(8, beta=1.5),
        ValueError,
        r"beta.*\(0, 1\].*1\.5",
    ),
    (
        GatedDeltaNetMemory,
        "a Gated DeltaNet alpha of zero",
        lambda: GatedDeltaNetMemory(8, alpha=0),
        ValueError,
        r"alpha.*> 0.*\b0\.0",
    ),
    (
        LinearAttentionMemory,
        "an unknown feature map",
        lambda: LinearAttentionMemory(8, feature_map="relu"),
        ValueError,
        r"feature_map.*one of.*'identity', 'elu\+1', 'dpfp'.*'relu'",
    ),
    (
        LinearAttentionMemory.features,
        "features of keys of the wrong dimension",
        lambda: LinearAttentionMemory(8, feature_map="dpfp").features(x(3, 5)),
        ValueError,
        rf"keys.*last dimension 8.*{p(3, 5)}",
    ),
    (
        SlidingWindowMemory,
        "a window of no pairs",
        lambda: SlidingWindowMemory(8, window=0),
        ValueError,
        r"window.*positive int.*\b0\b",
    ),
    (
        state_size,
        "the state size of an object without state_size",
        lambda: state_size(object()),
        TypeError,
        r"object without one.*def state_size\(self\) -> int",
    ),
    (
        NeuralMemory,
        "momentum of one",
        lambda: NeuralMemory(8, momentum=1.0),
        ValueError,
        r"momentum.*\[0, 1\).*1\.0",
    ),
    (NeuralMemory, "zero depth", lambda: NeuralMemory(8, depth=0), ValueError, r"depth.*\b0\b"),
    (
        NeuralMemory,
        "an unknown activation",
        lambda: NeuralMemory(8, activation="gelu"),
        ValueError,
        r"activation.*one of.*'gelu'",
    ),
    (
        LoopedMemory,
        "an empty LoopedMemory",
        lambda: LoopedMemory([]),
        ValueError,
        r"memories.*empty",
    ),
    (
        LoopedMemory,
        "a LoopedMemory of objects without update",
        lambda: LoopedMemory([object()]),
        TypeError,
        r"memories\[0\].*object.*update",
    ),
    (
        LoopedMemory,
        "a LoopedMemory of a number",
        lambda: LoopedMemory(3),
        TypeError,
        r"memories.*sequence.*int",
    ),
    # --- memories: shapes -----------------------------------------------------------------
    (
        BatchedMemory.update,
        "keys of dim 16 into a dim-32 memory",
        write(episodic, lambda: x(4, 16), lambda: x(4, 32)),
        ValueError,
        rf"keys.*32.*{p(4, 16)}",
    ),
    (
        BatchedMemory.update,
        "keys of dim 16 into a dim-32 Hebbian memory",
        write(lambda: MatrixAssociativeMemory(32), lambda: x(4, 16), lambda: x(4, 32)),
        ValueError,
        rf"keys.*32.*{p(4, 16)}",
    ),
    (
        BatchedMemory.forward,
        "queries of dim 16 into a dim-32 delta-rule memory",
        read(lambda: DeltaRuleMemory(32), lambda: x(2, 16)),
        ValueError,
        rf"queries.*32.*{p(2, 16)}",
    ),
    (
        BatchedMemory.update,
        "values of the wrong value_dim",
        write(lambda: MatrixAssociativeMemory(32, value_dim=5), lambda: x(2, 32), lambda: x(2, 32)),
        ValueError,
        rf"values.*5.*{p(2, 32)}",
    ),
    (
        BatchedMemory.update,
        "1-D keys",
        write(episodic, lambda: x(32), lambda: x(32)),
        ValueError,
        rf"keys.*\(N, 32\).*{p(32)}",
    ),
    (
        BatchedMemory.update,
        "2-D keys into a trials=4 memory",
        write(partial(episodic, 4), lambda: x(1, 32), lambda: x(1, 32)),
        ValueError,
        rf"keys.*\(4, N, 32\).*{p(1, 32)}",
    ),
    (
        BatchedMemory.forward,
        "2-D queries into a trials=4 Hebbian memory",
        read(lambda: MatrixAssociativeMemory(32, trials=4), lambda: x(1, 32)),
        ValueError,
        rf"queries.*\(4, N, 32\).*{p(1, 32)}",
    ),
    (
        BatchedMemory.update,
        "3 trials into a trials=4 memory",
        write(partial(episodic, 4), lambda: x(3, 1, 32), lambda: x(3, 1, 32)),
        ValueError,
        rf"keys.*3 trials.*trials=4.*{p(3, 1, 32)}",
    ),
    (
        LoopedMemory.update,
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
        LoopedMemory.__call__,
        "integer queries into a LoopedMemory",
        read(lambda: LoopedMemory([DeltaRuleMemory(4)]), lambda: ints(1, 2, 4)),
        TypeError,
        r"queries.*floating-point.*int64",
    ),
    (
        BatchedMemory.update,
        "values with another N than the keys",
        write(episodic, lambda: x(3, 32), lambda: x(2, 32)),
        ValueError,
        rf"values.*3.*{p(2, 32)}",
    ),
    (
        BatchedMemory.update,
        "an empty batch of keys",
        write(episodic, lambda: x(0, 32), lambda: x(0, 32)),
        ValueError,
        rf"keys.*empty.*{p(0, 32)}",
    ),
    (
        BatchedMemory.forward,
        "an empty batch of queries",
        read(lambda: DeltaRuleMemory(32, trials=2), lambda: x(2, 0, 32)),
        ValueError,
        rf"queries.*empty.*{p(2, 0, 32)}",
    ),
    (
        ProjectingEpisodicMemory.forward,
        "queries of the memory's dimension, not the token dimension",
        read(lambda: ProjectingEpisodicMemory(8, 4), lambda: x(2, 4)),
        ValueError,
        rf"queries.*token_dim=8.*{p(2, 4)}",
    ),
    (
        ProjectingEpisodicMemory.project_values,
        "values of 3 trials into a trials=2 projecting memory",
        lambda: ProjectingEpisodicMemory(8, 4, trials=2).project_values(x(3, 1, 8)),
        ValueError,
        rf"values.*3 trials.*trials=2.*{p(3, 1, 8)}",
    ),
    (
        AttentionMemory.weights,
        "attention weights of queries of another dim",
        lambda: AttentionMemory(8).weights(x(2, 5)),
        ValueError,
        rf"queries.*8.*{p(2, 5)}",
    ),
    # --- memories: values, types and devices ----------------------------------------------
    (
        BatchedMemory.update,
        "NaN in keys",
        write(episodic, lambda: x(2, 32, fill=float("nan")), lambda: x(2, 32)),
        ValueError,
        rf"keys.*NaN.*{p(2, 32)}",
    ),
    (
        BatchedMemory.update,
        "inf in values",
        write(episodic, lambda: x(2, 32), lambda: x(2, 32, fill=float("inf"))),
        ValueError,
        rf"values.*inf.*{p(2, 32)}",
    ),
    (
        BatchedMemory.update,
        "-inf in Hebbian values",
        write(lambda: MatrixAssociativeMemory(32), lambda: x(2, 32), lambda: x(2, 32, fill=-1e999)),
        ValueError,
        rf"values.*inf.*{p(2, 32)}",
    ),
    (
        BatchedMemory.forward,
        "NaN in queries",
        read(lambda: DeltaRuleMemory(32), lambda: x(3, 32, fill=float("nan"))),
        ValueError,
        rf"queries.*NaN.*{p(3, 32)}",
    ),
    (
        BatchedMemory.forward,
        "inf in queries",
        read(episodic, lambda: x(3, 32, fill=float("inf"))),
        ValueError,
        rf"queries.*inf.*{p(3, 32)}",
    ),
    (
        BatchedMemory.update,
        "a list as keys",
        write(episodic, lambda: [[0.0] * 32], lambda: x(1, 32)),
        TypeError,
        r"keys.*torch\.Tensor.*list",
    ),
    (
        BatchedMemory.forward,
        "a list as queries",
        read(lambda: DeltaRuleMemory(32), lambda: [[0.0] * 32]),
        TypeError,
        r"queries.*torch\.Tensor.*list",
    ),
    (
        BatchedMemory.update,
        "an integer tensor as values",
        write(episodic, lambda: x(2, 32), lambda: ints(2, 32)),
        TypeError,
        r"values.*floating-point.*int64",
    ),
    (
        ProjectingEpisodicMemory.loss,
        "integer keys into the loss of a projecting memory",
        lambda: ProjectingEpisodicMemory(8, 4).loss(ints(2, 8), x(2, 8)),
        TypeError,
        r"keys.*floating-point.*int64",
    ),
    (
        BatchedMemory.update,
        "float64 keys into a float32 memory",
        write(episodic, lambda: x(2, 32, dtype=F64), lambda: x(2, 32, dtype=F64)),
        TypeError,
        r"keys.*float64.*float32",
    ),
    (
        BatchedMemory.forward,
        "float32 queries into a float64 memory",
        read(lambda: DeltaRuleMemory(32, dtype=F64), lambda: x(2, 32)),
        TypeError,
        r"queries.*float32.*float64",
    ),
    (
        BatchedMemory.update,
        "values on another device than the memory",
        write(lambda: MatrixAssociativeMemory(4), lambda: x(2, 4), lambda: meta(2, 4)),
        ValueError,
        r"values is on meta.*memory is on cpu",
    ),
    (
        ProjectingEpisodicMemory.update,
        "keys on another device than a projecting memory",
        write(lambda: ProjectingEpisodicMemory(8, 4), lambda: meta(2, 8), lambda: x(2, 8)),
        ValueError,
        r"keys is on meta.*memory is on cpu",
    ),
    (
        LoopedMemory.update,
        "keys and values on different devices into a LoopedMemory",
        write(
            lambda: LoopedMemory([DeltaRuleMemory(4)]), lambda: x(1, 2, 4), lambda: meta(1, 2, 4)
        ),
        ValueError,
        r"keys is on cpu but values is on meta",
    ),
    # --- experiments ------------------------------------------------------------------------
    (
        E.adaptation,
        "zero steps",
        lambda: E.adaptation(DeltaRuleMemory, steps=0, trials=2, dim=4),
        ValueError,
        r"steps.*positive int.*\b0\b",
    ),
    (
        E.adaptation,
        "negative steps",
        lambda: E.adaptation(DeltaRuleMemory, steps=-1, trials=2, dim=4),
        ValueError,
        r"steps.*-1",
    ),
    (
        E.adaptation,
        "zero trials in an experiment",
        lambda: E.adaptation(DeltaRuleMemory, steps=2, trials=0, dim=4),
        ValueError,
        r"trials.*\b0\b",
    ),
    (
        E.adaptation,
        "zero dim in an experiment",
        lambda: E.adaptation(DeltaRuleMemory, steps=2, trials=2, dim=0),
        ValueError,
        r"dim.*\b0\b",
    ),
    (
        E.adaptation,
        "negative seed in an experiment",
        lambda: E.adaptation(DeltaRuleMemory, steps=2, trials=2, dim=4, seed=-1),
        ValueError,
        r"seed.*>= 0.*-1",
    ),
    (
        E.adaptation,
        "an unknown kind in an experiment",
        lambda: E.adaptation(DeltaRuleMemory, steps=1, trials=2, dim=4, kind="ternary"),
        ValueError,
        r"kind.*one of.*'ternary'",
    ),
    (
        E.adaptation,
        "a factory whose memory has no update",
        lambda: E.adaptation(NoUpdate, steps=1, trials=2, dim=4),
        TypeError,
        r"NoUpdate.*update",
    ),
    (
        E.adaptation,
        "a trials factory returning a plain object",
        lambda: E.adaptation(lambda dim, trials: object(), steps=1, trials=2, dim=4),
        TypeError,
        r"object.*update.*__call__",
    ),
    (
        E.adaptation,
        "a factory whose memory reads the wrong shape",
        lambda: E.adaptation(WrongShape, steps=1, trials=4, dim=32),
        ValueError,
        rf"{p(4, 1, 16)}.*expected.*4, 1, 32\b",
    ),
    (
        E.adaptation,
        "a non-callable factory",
        lambda: E.adaptation(42, steps=1, trials=2, dim=4),
        TypeError,
        r"factory.*callable.*int",
    ),
    (
        E.build_memory,
        "a factory returning something without update",
        lambda: E.build_memory(lambda dim, trials: object(), dim=4, trials=2, seed=0),
        TypeError,
        r"factory returned a object without update",
    ),
    (
        E.build_memory,
        "a negative seed for a memory",
        lambda: E.build_memory(DeltaRuleMemory, dim=4, trials=2, seed=-3),
        ValueError,
        r"seed.*>= 0.*-3",
    ),
    (
        E.capacity,
        "no numbers of items",
        lambda: E.capacity(DeltaRuleMemory, n_items=[], trials=2, dim=4),
        ValueError,
        r"n_items.*at least one.*empty",
    ),
    (
        E.capacity,
        "a negative number of items",
        lambda: E.capacity(DeltaRuleMemory, n_items=[4, -2], trials=2, dim=4),
        ValueError,
        r"n_items.*positive int.*-2",
    ),
    (
        E.capacity,
        "counts of writes that decrease",
        lambda: E.capacity(DeltaRuleMemory, n_items=[2], steps=(5, 1), trials=2, dim=4),
        ValueError,
        r"steps.*strictly increasing.*\[5, 1\]",
    ),
    (
        E.capacity,
        "negative cue noise",
        lambda: E.capacity(DeltaRuleMemory, n_items=[2], trials=2, dim=4, cue_noise=-0.1),
        ValueError,
        r"cue_noise.*>= 0.*-0\.1",
    ),
    (
        E.capacity,
        "cue noise that is not a number",
        lambda: E.capacity(DeltaRuleMemory, n_items=[2], trials=2, dim=4, cue_noise=[0.1, "a"]),
        TypeError,
        r"cue_noise.*number.*'a'",
    ),
    (
        E.capacity,
        "a cosine threshold of -1",
        lambda: E.capacity(DeltaRuleMemory, n_items=[2], trials=2, dim=4, cosine_threshold=-1),
        ValueError,
        r"cosine_threshold.*\(-1, 1\].*-1",
    ),
    (
        E.capacity,
        "a cosine threshold above 1",
        lambda: E.capacity(DeltaRuleMemory, n_items=[2], trials=2, dim=4, cosine_threshold=1.5),
        ValueError,
        r"cosine_threshold.*\(-1, 1\].*1\.5",
    ),
    (
        E.key_updates,
        "rounds that decrease",
        lambda: E.key_updates(DeltaRuleMemory, rounds=(4, 2), n_keys=2, trials=2, dim=4),
        ValueError,
        r"rounds.*strictly increasing.*\[4, 2\]",
    ),
    (
        E.key_updates,
        "zero writes per round",
        lambda: E.key_updates(DeltaRuleMemory, n_keys=2, trials=2, dim=4, steps=0),
        ValueError,
        r"steps.*positive.*0",
    ),
    (
        E.attention_weights,
        "one number as betas",
        lambda: E.attention_weights(betas=3.0, n_items=[2], trials=2, dim=4),
        TypeError,
        r"betas.*sequence.*3\.0",
    ),
    (
        E.token_dimensions,
        "a repeated dimension",
        lambda: E.token_dimensions(DeltaRuleMemory, dims=[8, 8], trials=2),
        ValueError,
        r"dims.*repeat.*\[8, 8\]",
    ),
    (
        E.internal_dimensions,
        "an unknown design",
        lambda: E.internal_dimensions(designs=["learnt"], trials=2),
        ValueError,
        r"designs.*'learnt'",
    ),
    (
        dimensions.bottleneck_recall,
        "a rank above the token dimension",
        lambda: dimensions.bottleneck_recall(8, (4,), rank=9, trials=2),
        ValueError,
        r"rank.*at most dim = 8.*rank=9",
    ),
    (
        dimensions.bottleneck_recall,
        "zero held-out pairs",
        lambda: dimensions.bottleneck_recall(8, (4,), n_heldout=0, trials=2),
        ValueError,
        r"n_heldout.*positive int.*\b0\b",
    ),
    (
        dimensions.reduced_rank_recall,
        "a repeated rank of the map",
        lambda: dimensions.reduced_rank_recall(8, ranks=[2, 2], rank=2, trials=2),
        ValueError,
        r"ranks.*repeat.*\[2, 2\]",
    ),
    (
        E.projection_trace,
        "a string as steps of a trace",
        lambda: E.projection_trace(steps="5", trials=2),
        TypeError,
        r"steps.*sequence.*'5'",
    ),
    (
        E.projection_trace,
        "zero token_dim of a trace",
        lambda: E.projection_trace(token_dim=0, trials=2),
        ValueError,
        r"token_dim.*positive int.*\b0\b",
    ),
    (
        E.batch_delta_rule,
        "a batch of zero items",
        lambda: E.batch_delta_rule(0),
        ValueError,
        r"n_items.*positive int.*\b0\b",
    ),
    (
        E.forgetting,
        "an empty task",
        lambda: E.forgetting(DeltaRuleMemory, n_train=0, trials=2, dim=4),
        ValueError,
        r"n_train.*cannot be empty.*\b0\b",
    ),
    (
        E.forgetting,
        "steps for three tasks in a two-task run",
        lambda: E.forgetting(DeltaRuleMemory, steps=(1, 2, 3), trials=2, dim=4),
        ValueError,
        r"steps.*sequence of 2 ints.*\[1, 2, 3\]",
    ),
    (
        E.forgetting,
        "an unknown kind of tasks",
        lambda: E.forgetting(DeltaRuleMemory, kind="sorted", trials=2, dim=4),
        ValueError,
        r"kind.*one of.*'sorted'",
    ),
    (
        E.forgetting_by_writes,
        "counts of writes of B that decrease",
        lambda: E.forgetting_by_writes(DeltaRuleMemory, (3, 1), trials=2, dim=4),
        ValueError,
        r"writes_b.*increasing.*\[3, 1\]",
    ),
    (
        E.forgetting_trace,
        "a test split for random pairs",
        lambda: E.forgetting_trace(DeltaRuleMemory, kind="random", n_test=4, trials=2, dim=4),
        ValueError,
        r"n_test.*None.*n_test=4",
    ),
    (
        E.task_sequence,
        "zero tasks",
        lambda: E.task_sequence(DeltaRuleMemory, n_tasks=0, trials=2, dim=4),
        ValueError,
        r"n_tasks.*positive int.*\b0\b",
    ),
    (
        E.span_retention_by_writes,
        "counts of writes of B that decrease, for span retention",
        lambda: E.span_retention_by_writes(DeltaRuleMemory, (3, 1), trials=2, dim=4),
        ValueError,
        r"writes_b.*increasing.*\[3, 1\]",
    ),
    (
        E.span_retention,
        "zero trials for span retention",
        lambda: E.span_retention(DeltaRuleMemory, trials=0, dim=4),
        ValueError,
        r"trials.*positive int.*\b0\b",
    ),
    (
        E.key_recall,
        "an unknown kind of pairs for key recall",
        lambda: E.key_recall(DeltaRuleMemory, pairs="both", trials=2, dim=4),
        ValueError,
        r"pairs.*one of.*'both'",
    ),
    (
        E.key_recall,
        "an infinite cue noise for key recall",
        lambda: E.key_recall(DeltaRuleMemory, trials=2, dim=4, cue_noise=float("inf")),
        ValueError,
        r"cue_noise.*finite.*inf",
    ),
    (
        E.key_recall,
        "a cosine threshold that is NaN, for key recall",
        lambda: E.key_recall(DeltaRuleMemory, trials=2, dim=4, cosine_threshold=float("nan")),
        ValueError,
        r"cosine_threshold.*finite.*nan",
    ),
    (
        E.key_recall,
        "a cosine threshold below -1, for key recall",
        lambda: E.key_recall(DeltaRuleMemory, trials=2, dim=4, cosine_threshold=-2.0),
        ValueError,
        r"cosine_threshold.*\(-1, 1\].*-2",
    ),
    (
        E.key_recall,
        "context options for hetero pairs",
        lambda: E.key_recall(DeltaRuleMemory, "hetero", context_dim=8, trials=2, dim=4),
        ValueError,
        r"context_dim.*pairs='hetero'.*\b8\b",
    ),
    (
        E.probe,
        "no pairs to probe",
        lambda: E.probe(DeltaRuleMemory, pairs=[], trials=2, dim=4),
        ValueError,
        r"pairs.*at least one.*empty",
    ),
    (
        E.probe,
        "a string as transpose",
        lambda: E.probe(DeltaRuleMemory, transpose="yes", trials=2, dim=4),
        TypeError,
        r"transpose.*True or False.*'yes'",
    ),
    (
        E.chain_recall,
        "a list of one item",
        lambda: E.chain_recall(DeltaRuleMemory, length=1, trials=2, dim=4),
        ValueError,
        r"length.*at least 2.*\b1\b",
    ),
    (
        E.context_vectors,
        "integer items for a context",
        lambda: E.context_vectors(ints(2, 3, 4), 0.5, x(2, 4)),
        TypeError,
        r"items.*floating-point.*int64",
    ),
    (
        E.context_vectors,
        "a start context of the wrong shape",
        lambda: E.context_vectors(x(2, 3, 4), 0.5, x(3, 4)),
        ValueError,
        rf"start.*\(T, d\).*{p(3, 4)}",
    ),
    (
        E.free_recall,
        "an unknown recall model",
        lambda: E.free_recall(MatrixAssociativeMemory, model="markov", trials=2, dim=8),
        ValueError,
        r"model.*one of.*'markov'",
    ),
    (
        E.sweep,
        "a sweep label that would overwrite a column",
        lambda: E.sweep(
            E.adaptation, {1: DeltaRuleMemory}, label="trial", steps=1, trials=2, dim=4
        ),
        ValueError,
        r"label 'trial'.*column",
    ),
    (E.sweep, "an empty sweep", lambda: E.sweep(E.adaptation, {}), ValueError, r"factories.*\{\}"),
    (
        E.sweep,
        "a number as the experiment of a sweep",
        lambda: E.sweep(42, {1: DeltaRuleMemory}),
        TypeError,
        r"experiment.*experiment function.*42.*int",
    ),
    # --- data ---------------------------------------------------------------------------------
    (
        data.generator,
        "a string seed for a generator",
        lambda: data.generator("0"),
        TypeError,
        r"seed.*int.*str",
    ),
    (
        data.random_vectors,
        "an unknown kind of vectors",
        lambda: data.random_vectors(2, 4, kind="uniform"),
        ValueError,
        r"kind.*one of.*'uniform'",
    ),
    (
        data.random_vectors,
        "zero vectors",
        lambda: data.random_vectors(0, 4),
        ValueError,
        r"\bn\b.*0",
    ),
    (
        data.random_vectors,
        "a device that does not exist for data",
        lambda: data.random_vectors(2, 4, device="gpu0"),
        ValueError,
        r"device.*torch device.*'gpu0'",
    ),
    (
        data.random_vectors,
        "an integer dtype for data",
        lambda: data.random_vectors(2, 4, dtype=torch.int32),
        TypeError,
        r"dtype.*floating-point.*torch\.int32",
    ),
    (
        data.random_pairs,
        "an unknown kind of pairs",
        lambda: data.random_pairs(2, 4, kind="sparse"),
        ValueError,
        r"kind.*'sparse'",
    ),
    (
        data.random_pairs,
        "negative dim of data",
        lambda: data.random_pairs(2, -4),
        ValueError,
        r"dim.*-4",
    ),
    (
        data.random_pairs,
        "a float seed for data",
        lambda: data.random_pairs(2, 4, seed=1.5),
        TypeError,
        r"seed.*float",
    ),
    (
        data.random_pairs,
        "zero value_dim of pairs",
        lambda: data.random_pairs(2, 4, value_dim=0),
        ValueError,
        r"value_dim.*\b0\b",
    ),
    (
        data.random_pairs,
        "an unknown value_kind of pairs",
        lambda: data.random_pairs(2, 4, value_kind="sparse"),
        ValueError,
        r"value_kind.*'sparse'",
    ),
    (
        data.clustered_tasks,
        "an empty test split",
        lambda: data.clustered_tasks(2, 4, 0, 8),
        ValueError,
        r"n_test.*cannot be empty.*\b0\b",
    ),
    (
        data.clustered_tasks,
        "centres of the wrong shape",
        lambda: data.clustered_tasks(2, 4, 4, 8, clusters=2, centres=x(2, 3, 8)),
        ValueError,
        rf"centres.*\(2, 2, 8\).*{p(2, 3, 8)}",
    ),
    (
        data.random_tasks,
        "sizes for one task of two",
        lambda: data.random_tasks(2, [4], 8),
        ValueError,
        r"n_pairs.*2 ints.*\[4\]",
    ),
    (
        data.random_projection,
        "a rank above the size of the matrix",
        lambda: data.random_projection(4, 6, rank=5),
        ValueError,
        r"rank.*at most.*= 4.*rank=5",
    ),
    (
        data.nonlinearity,
        "an unknown nonlinearity",
        lambda: data.nonlinearity(x(2, 3), "gelu"),
        ValueError,
        r"nonlinearity.*one of.*'gelu'",
    ),
    (
        data.nonlinearity,
        "an integer tensor into a nonlinearity",
        lambda: data.nonlinearity(ints(2, 3), "tanh"),
        TypeError,
        r"\bx\b.*floating-point.*int64",
    ),
    (
        data.low_rank_pairs,
        "negative noise of low-rank pairs",
        lambda: data.low_rank_pairs(4, 8, 2, noise=-0.5),
        ValueError,
        r"noise.*-0\.5",
    ),
    (
        data.context_pairs,
        "zero context_dim",
        lambda: data.context_pairs(4, 8, context_dim=0),
        ValueError,
        r"context_dim.*positive int.*\b0\b",
    ),
    (
        data.ContextPairs,
        "context pairs with an unknown nonlinearity",
        lambda: data.ContextPairs(x(2, 3), x(2, 3), x(2, 3), x(3, 3), x(3, 3), "cubic"),
        ValueError,
        r"nonlinearity.*one of.*'cubic'",
    ),
    (
        data.ContextPairs.encode,
        "contexts of another dimension",
        lambda: data.context_pairs(4, 8, 2).encode(x(2, 3, 5)),
        ValueError,
        rf"contexts.*\(2, 'N', 8\).*{p(2, 3, 5)}",
    ),
    (
        data.Task,
        "a task whose train split is empty",
        lambda: data.Task(x(0, 4), x(0, 4), x(1, 4), x(1, 4), x(1, 4), ints(0), ints(1)),
        ValueError,
        rf"train_keys and train_values.*N >= 1.*{p(0, 4)}",
    ),
    (
        data.Task,
        "a task with float targets",
        lambda: data.Task(x(1, 4), x(1, 4), x(1, 4), x(1, 4), x(1, 4), x(1), ints(1)),
        TypeError,
        r"train_targets.*integer torch\.Tensor",
    ),
    (
        data.human_lag_crp,
        "an unknown human study",
        lambda: data.human_lag_crp("Kahana2002"),
        ValueError,
        r"study.*one of.*'Kahana2002'",
    ),
    (
        data.human_lag_crp,
        "a list type the study does not mark",
        lambda: data.human_lag_crp("Morton2013", list_type="blocked"),
        ValueError,
        r"list_type.*'mixed', 'pure'.*'blocked'",
    ),
    (
        data.human_recalls,
        "an unknown study of recalls",
        lambda: data.human_recalls("Kahana2002"),
        ValueError,
        r"study.*one of.*'Kahana2002'",
    ),
    # --- metrics ------------------------------------------------------------------------------
    (
        metrics.mse,
        "mse of mismatched shapes",
        lambda: metrics.mse(x(3, 4), x(3, 5)),
        ValueError,
        rf"retrieved.*target.*same shape.*{p(3, 4)}.*{p(3, 5)}",
    ),
    (
        metrics.mse,
        "a list into a metric",
        lambda: metrics.mse([1.0, 2.0], x(2)),
        TypeError,
        r"retrieved.*torch\.Tensor.*list",
    ),
    (
        metrics.mse,
        "tensors on different devices into a metric",
        lambda: metrics.mse(x(2, 3), meta(2, 3)),
        ValueError,
        r"retrieved is on cpu but target is on meta",
    ),
    (
        metrics.cosine_similarity,
        "cosine of mismatched shapes",
        lambda: metrics.cosine_similarity(x(2, 3, 4), x(3, 4)),
        ValueError,
        rf"retrieved.*target.*{p(2, 3, 4)}.*{p(3, 4)}",
    ),
    (
        metrics.cosine_similarity,
        "NaN into a metric",
        lambda: metrics.cosine_similarity(x(2, 3), x(2, 3, fill=float("nan"))),
        ValueError,
        rf"target.*NaN.*{p(2, 3)}",
    ),
    (
        metrics.cosine,
        "an integer tensor into the unchecked cosine",
        lambda: metrics.cosine(ints(2, 3), x(2, 3)),
        TypeError,
        r"\ba\b.*floating-point.*int64",
    ),
    (
        metrics.nearest_neighbor_recall,
        "recall with fewer candidates than items",
        lambda: metrics.nearest_neighbor_recall(x(4, 8), x(2, 8)),
        ValueError,
        rf"candidates.*M >= 4.*{p(2, 8)}",
    ),
    (
        metrics.nearest_neighbor_recall,
        "recall with candidates of another dim",
        lambda: metrics.nearest_neighbor_recall(x(2, 8), x(2, 6)),
        ValueError,
        rf"candidates.*8.*{p(2, 6)}",
    ),
    (
        metrics.nearest_target_recall,
        "float targets",
        lambda: metrics.nearest_target_recall(x(2, 4), x(3, 4), x(2)),
        TypeError,
        r"targets.*integer torch\.Tensor",
    ),
    (
        metrics.nearest_target_recall,
        "targets beyond the candidates",
        lambda: metrics.nearest_target_recall(x(2, 4), x(3, 4), torch.tensor([0, 3])),
        ValueError,
        r"targets.*index the 3 candidates.*\[0, 3\]",
    ),
    (
        metrics.average_accuracy,
        "an accuracy matrix that is not square",
        lambda: metrics.average_accuracy(torch.zeros(3, 2)),
        ValueError,
        rf"matrix.*\(\.\.\., T, T\).*{p(3, 2)}",
    ),
    (
        metrics.backward_transfer,
        "backward transfer of one task",
        lambda: metrics.backward_transfer(torch.ones(1, 1)),
        ValueError,
        rf"matrix.*at least 2 tasks.*{p(1, 1)}",
    ),
    (
        metrics.forgetting_measure,
        "a string as an accuracy matrix",
        lambda: metrics.forgetting_measure("R"),
        TypeError,
        r"matrix.*tensor or array.*str",
    ),
    # --- summaries and theory -----------------------------------------------------------------
    (
        summaries.mean_curve,
        "a frame without the mse column",
        lambda: summaries.mean_curve(small_adaptation().drop(columns="mse")),
        ValueError,
        r"frame lacks.*'mse'",
    ),
    (
        summaries.steps_to_fraction,
        "a fraction outside (0, 1)",
        lambda: summaries.steps_to_fraction(small_adaptation(), fraction=1.5),
        ValueError,
        r"fraction.*between 0 and 1.*1\.5",
    ),
    (
        summaries.steps_to_fraction,
        "a string fraction",
        lambda: summaries.steps_to_fraction(small_adaptation(), fraction="0.1"),
        TypeError,
        r"fraction.*number.*'0\.1'.*str",
    ),
    (
        summaries.capacity_at,
        "a zero threshold",
        lambda: summaries.capacity_at(frame(n_items=4, accuracy=1.0), threshold=0),
        ValueError,
        r"threshold.*\(0, 1\].*\b0\b",
    ),
    (
        summaries.capacity_at,
        "no bootstrap resamples",
        lambda: summaries.capacity_at(frame(n_items=4, accuracy=1.0), ci=0.9, n_boot=0),
        ValueError,
        r"n_boot.*positive int.*\b0\b",
    ),
    (
        summaries.first_reaching,
        "a threshold above one",
        lambda: summaries.first_reaching(frame(dim=4, accuracy=1.0), threshold=2),
        ValueError,
        r"threshold.*\(0, 1\].*\b2\b",
    ),
    (
        summaries.accuracy_matrix,
        "an accuracy matrix from a frame without tasks",
        lambda: summaries.accuracy_matrix(NO_COLUMNS),
        ValueError,
        r"frame lacks.*'trial'.*'after_task'",
    ),
    (
        summaries.continual_scores,
        "continual scores by a missing column",
        lambda: summaries.continual_scores(NO_COLUMNS, by="lr"),
        ValueError,
        r"frame lacks.*'lr'",
    ),
    (
        summaries.lag_crp,
        "a table without psifr columns",
        lambda: summaries.lag_crp(NO_COLUMNS),
        ValueError,
        r"table lacks.*'trial_type'.*'item'",
    ),
    (
        summaries.crp_at,
        "a list as a lag-CRP",
        lambda: summaries.crp_at([0.5, 0.2]),
        TypeError,
        r"crp.*pandas\.DataFrame.*list",
    ),
    (
        summaries.fill_missing,
        "a list as a table to show",
        lambda: summaries.fill_missing([1.0, None], "not reached"),
        TypeError,
        r"table must be a pandas DataFrame or Series, got list",
    ),
    (
        theory.delta_rule_adaptation,
        "a negative learning rate for the closed form",
        lambda: theory.delta_rule_adaptation(small_adaptation(), -0.1),
        ValueError,
        r"lr.*> 0.*-0\.1",
    ),
    (
        theory.delta_rule_adaptation,
        "one learning rate per row of another frame",
        lambda: theory.delta_rule_adaptation(small_adaptation(), [0.1, 0.2, 0.3]),
        ValueError,
        r"lr.*one per row.*\(4,\).*\(3,\)",
    ),
    (
        theory.hebbian_adaptation,
        "a list as an adaptation frame",
        lambda: theory.hebbian_adaptation([1, 2]),
        TypeError,
        r"frame.*pandas\.DataFrame.*list",
    ),
    (
        theory.hebbian_cosine,
        "a zero dimension",
        lambda: theory.hebbian_cosine(4, 0),
        ValueError,
        r"dim.*> 0.*\b0\b",
    ),
    (
        theory.hebbian_recall,
        "no quadrature nodes",
        lambda: theory.hebbian_recall(4, 16, nodes=0),
        ValueError,
        r"nodes.*positive int.*\b0\b",
    ),
    (
        theory.least_squares_cosine,
        "a negative dimension",
        lambda: theory.least_squares_cosine(4, -16),
        ValueError,
        r"dim.*> 0.*-16",
    ),
    (
        theory.gram_eigenvalue_edges,
        "a zero squared key norm",
        lambda: theory.gram_eigenvalue_edges(4, 16, key_sq_norm=0),
        ValueError,
        r"key_sq_norm.*> 0.*\b0\b",
    ),
    (
        theory.stable_lr,
        "a zero key rank",
        lambda: theory.stable_lr(8, 16, key_rank=0),
        ValueError,
        r"key_rank.*positive int.*\b0\b",
    ),
    (
        theory.attention_weight,
        "a negative inverse temperature",
        lambda: theory.attention_weight(4, -1.0, 16),
        ValueError,
        r"beta.*>= 0.*-1\.0",
    ),
    # --- tuning -------------------------------------------------------------------------------
    (
        tuning.tune,
        "an objective that tuning does not know",
        lambda: tuning.tune(E.capacity, DeltaRuleMemory, objective="recall"),
        ValueError,
        r"objective must be one of.*'capacity'.*'recall'",
    ),
    (
        tuning.tune,
        "a seed used both to tune and to evaluate",
        lambda: tuning.tune(
            E.capacity,
            DeltaRuleMemory,
            objective="capacity",
            tuning_seeds=(0, 1),
            evaluation_seeds=(0,),
        ),
        ValueError,
        r"tuning_seeds \[0, 1\] and evaluation_seeds \[0\] share the seed\(s\) \[0\]",
    ),
    (
        tuning.tune,
        "a negative tuning seed",
        lambda: tuning.tune(E.capacity, DeltaRuleMemory, objective="capacity", tuning_seeds=(-1,)),
        ValueError,
        r"tuning_seeds must hold ints >= 0, got -1",
    ),
    (
        tuning.tune,
        "tuning a factory that declares no hyperparameters, without a grid",
        lambda: tuning.tune(E.capacity, NoUpdate, objective="capacity"),
        ValueError,
        r"NoUpdate declares no hyperparameters.*grid=",
    ),
    (
        tuning.tune,
        "a grid key that is not a keyword of the factory",
        lambda: tuning.tune(
            E.capacity, DeltaRuleMemory, grid={"beta": (1.0,)}, objective="capacity"
        ),
        ValueError,
        r"grid key 'beta' is not a keyword of DeltaRuleMemory.*'lr'",
    ),
    (
        tuning.tune,
        "a seed handed to the protocol of a tuning",
        lambda: tuning.tune(E.capacity, DeltaRuleMemory, objective="capacity", seed=3),
        TypeError,
        r"tuning_seeds and evaluation_seeds.*seed=3",
    ),
    (
        tuning.tune,
        "an objective that returns a string",
        lambda: tuning.tune(
            E.adaptation,
            DeltaRuleMemory,
            grid={"lr": (0.1,)},
            objective=lambda frame: "high",
            steps=1,
            trials=2,
            dim=4,
        ),
        TypeError,
        r"objective must return a number.*'high'",
    ),
    (
        tuning.tune_all,
        "tuning no memories at all",
        lambda: tuning.tune_all(E.capacity, {}, objective="capacity"),
        ValueError,
        r"factories must be a non-empty mapping.*\{\}",
    ),
    (
        tuning.tuned_factories,
        "a number among the tuning results",
        lambda: tuning.tuned_factories({"mine": 3}),
        TypeError,
        r"results\['mine'\] must be a Tuned.*int",
    ),
    (
        tuning.tuning_table,
        "a table of no tuning results",
        lambda: tuning.tuning_table({}),
        ValueError,
        r"results must be a non-empty mapping.*\{\}",
    ),
    (
        tuning.Tuned,
        "a tuning result whose grid is a number",
        lambda: tuning.Tuned(
            DeltaRuleMemory, {}, 3, NO_COLUMNS, NO_COLUMNS, "capacity", (1,), (0,)
        ),
        TypeError,
        r"grid must be a pandas\.DataFrame, got int",
    ),
    # --- plots --------------------------------------------------------------------------------
    (
        plots.learning_curve,
        "a learning curve of a frame without steps",
        lambda: plots.learning_curve(NO_COLUMNS),
        ValueError,
        r"frame lacks.*'step'",
    ),
    (
        plots.learning_curve,
        "a string as the axes",
        lambda: plots.learning_curve(small_adaptation(), ax="left"),
        TypeError,
        r"ax.*Axes.*str",
    ),
    (plots.subplots, "zero panels", lambda: plots.subplots(0), ValueError, r"ncols.*\b0\b"),
    (
        plots.task_accuracies,
        "task accuracies of a frame without them",
        lambda: plots.task_accuracies(NO_COLUMNS),
        ValueError,
        r"frame lacks.*'acc_A1'",
    ),
    (
        plots.sweep_curve,
        "a sweep curve over a missing setting",
        lambda: plots.sweep_curve(NO_COLUMNS, "lr"),
        ValueError,
        r"frame lacks.*'lr'",
    ),
    (
        plots.accuracy_heatmap,
        "a heatmap of one matrix without trials",
        lambda: plots.accuracy_heatmap(torch.zeros(2, 3)),
        ValueError,
        r"matrix.*\(trials, T, T\).*\(2, 3\)",
    ),
    (
        plots.accuracy_heatmap,
        "a heatmap of words",
        lambda: plots.accuracy_heatmap("abc"),
        TypeError,
        r"matrix.*tensor or array.*str",
    ),
    (
        plots.forgetting_trace,
        "a forgetting trace without steps per task",
        lambda: plots.forgetting_trace(frame(step=0, task="A", accuracy=1.0, chance=0.5)),
        ValueError,
        r"frame lacks.*'steps_A'",
    ),
    (
        plots.capacity_curve,
        "a capacity curve without N",
        lambda: plots.capacity_curve(NO_COLUMNS),
        ValueError,
        r"frame lacks.*'n_items'",
    ),
    (
        plots.capacity_panels,
        "capacity panels of a list",
        lambda: plots.capacity_panels([1, 2]),
        TypeError,
        r"frame.*pandas\.DataFrame.*list",
    ),
    (
        plots.capacity_panels,
        "capacity panels marking a name",
        lambda: plots.capacity_panels(frame(n_items=4, accuracy=1.0), mark="x"),
        TypeError,
        r"mark.*number.*'x'",
    ),
    (
        plots.capacity_points,
        "capacity points without intervals",
        lambda: plots.capacity_points(frame(dim=4, capacity=1.0, lower_bound=False), "dim"),
        ValueError,
        r"table lacks.*'low'.*'high'",
    ),
    (
        plots.probe_strip,
        "a probe strip without targets",
        lambda: plots.probe_strip(NO_COLUMNS),
        ValueError,
        r"frame lacks.*'target'",
    ),
    (
        plots.chain_curve,
        "a chain curve without positions",
        lambda: plots.chain_curve(NO_COLUMNS),
        ValueError,
        r"frame lacks.*'position'",
    ),
    (
        plots.lag_crp_curve,
        "a list of lag-CRPs",
        lambda: plots.lag_crp_curve([NO_COLUMNS]),
        ValueError,
        r"crps.*non-empty mapping",
    ),
    (
        plots.lag_crp_curve,
        "a lag-CRP without lags",
        lambda: plots.lag_crp_curve({"model": NO_COLUMNS}),
        ValueError,
        r"crps\['model'\] lacks.*'lag'",
    ),
    (
        plots.key_panels,
        "key panels without the tested column",
        lambda: plots.key_panels(NO_COLUMNS),
        ValueError,
        r"frame lacks.*'tested'",
    ),
    (
        plots.key_recall_panels,
        "key recall panels without the cosine",
        lambda: plots.key_recall_panels(frame(tested="stored", n_items=4, accuracy=1.0)),
        ValueError,
        r"frame lacks.*'cosine'",
    ),
    (
        plots.dimension_panels,
        "dimension panels of a trace without the loss",
        lambda: plots.dimension_panels(
            frame(dim=8, accuracy=1.0, memory="m"), frame(step=0, accuracy=1.0)
        ),
        ValueError,
        r"trace lacks.*'loss'",
    ),
    (
        plots.projection_panels,
        "projection panels without the value power",
        lambda: plots.projection_panels(frame(step=0, design="learned", loss=1.0, accuracy=1.0)),
        ValueError,
        r"trace lacks.*'value_power'",
    ),
    (
        plots.dimension_heatmap,
        "a dimension heatmap without memory_dim",
        lambda: plots.dimension_heatmap(frame(token_dim=8, accuracy=1.0)),
        ValueError,
        r"frame lacks.*'memory_dim'",
    ),
    (
        plots.profile_panels,
        "profile panels of one protocol",
        lambda: plots.profile_panels(frame(protocol="adaptation", memory="m"), ("adaptation",)),
        ValueError,
        r"protocols.*six protocols.*\('adaptation',\)",
    ),
    # --- the registry of the book's memories --------------------------------------------------
    (
        memnb.memories.pick,
        "a memory the registry does not hold",
        lambda: memnb.memories.pick("EpisodicMemory", "Hopfield"),
        ValueError,
        r"unknown memory name.*\['Hopfield'\].*known.*'EpisodicMemory'",
    ),
    (
        memnb.memories.pick,
        "a memory class instead of its name",
        lambda: memnb.memories.pick(EpisodicMemory),
        TypeError,
        r"names.*str.*EpisodicMemory.*type",
    ),
    # --- widgets ------------------------------------------------------------------------------
    (
        widgets.explorer,
        "a number as the drawing function",
        lambda: widgets.explorer(42, {}),
        TypeError,
        r"draw.*function.*42.*int",
    ),
    (
        widgets.explorer,
        "a control that is not a widget",
        lambda: widgets.explorer(lambda n: None, {"n": 3}),
        TypeError,
        r"controls\['n'\].*widget.*int",
    ),
    (
        widgets.adaptation_figure,
        "an unknown memory for the adaptation figure",
        lambda: widgets.adaptation_figure("Hopfield"),
        ValueError,
        r"memory.*one of.*'Hopfield'",
    ),
    (
        widgets.adaptation_figure,
        "a learning rate for the Hebbian memory",
        lambda: widgets.adaptation_figure("MatrixAssociativeMemory", lr=0.1),
        ValueError,
        r"MatrixAssociativeMemory.*no learning rate.*lr=0\.1.*None",
    ),
    (
        widgets.adaptation_explorer,
        "more steps than the slider offers",
        lambda: widgets.adaptation_explorer(steps=80),
        ValueError,
        r"steps.*between 1 and 50.*80",
    ),
    (
        widgets.adaptation_explorer,
        "a dimension the menu does not offer",
        lambda: widgets.adaptation_explorer(dim=12),
        ValueError,
        r"dim.*one of.*\b12\b",
    ),
    (
        widgets.forgetting_figure,
        "an unknown memory for the forgetting figure",
        lambda: widgets.forgetting_figure("Hopfield"),
        ValueError,
        r"memory.*one of.*'Hopfield'",
    ),
    (
        widgets.forgetting_explorer,
        "a task B larger than the slider offers",
        lambda: widgets.forgetting_explorer(n_train_b=500),
        ValueError,
        r"n_train_b.*between 4 and 128.*500",
    ),
    (
        widgets.capacity_figure,
        "fewer than four items for the capacity figure",
        lambda: widgets.capacity_figure(max_items=2),
        ValueError,
        r"max_items.*at least 4.*\b2\b",
    ),
    (
        widgets.capacity_explorer,
        "a largest N the menu does not offer",
        lambda: widgets.capacity_explorer(max_items=100),
        ValueError,
        r"max_items.*one of.*100",
    ),
    (
        widgets.sequences_figure,
        "an unknown memory for the free-recall figure",
        lambda: widgets.sequences_figure(memory="Hopfield"),
        ValueError,
        r"memory.*one of.*'Hopfield'",
    ),
    (
        widgets.sequences_explorer,
        "a drift beyond the slider",
        lambda: widgets.sequences_explorer(rho=0.99),
        ValueError,
        r"rho.*between 0\.0 and 0\.95.*0\.99",
    ),
    (
        widgets.keys_figure,
        "a zero key rank for the keys figure",
        lambda: widgets.keys_figure(key_rank=0),
        ValueError,
        r"key_rank.*positive int.*\b0\b",
    ),
    (
        widgets.keys_explorer,
        "an unknown nonlinearity for the keys explorer",
        lambda: widgets.keys_explorer(nonlinearity="gelu"),
        ValueError,
        r"nonlinearity.*one of.*'gelu'",
    ),
    (
        widgets.dimensions_figure,
        "an unknown memory for the dimensions figure",
        lambda: widgets.dimensions_figure("Hopfield"),
        ValueError,
        r"memory.*one of.*'Hopfield'",
    ),
    (
        widgets.dimensions_explorer,
        "an unknown design for the dimensions explorer",
        lambda: widgets.dimensions_explorer(design="learnt"),
        ValueError,
        r"design.*one of.*'learnt'",
    ),
    # --- battery ------------------------------------------------------------------------------
    (
        battery.profile,
        "a profile of a memory without update",
        lambda: battery.profile(NoUpdate, quick=True),
        TypeError,
        r"NoUpdate.*update",
    ),
    (
        battery.profile,
        "a string as quick",
        lambda: battery.profile(DeltaRuleMemory, quick="yes"),
        TypeError,
        r"quick.*True or False.*'yes'",
    ),
    (
        battery.reference_profiles,
        "a number as quick for the references",
        lambda: battery.reference_profiles(quick=1),
        TypeError,
        r"quick.*True or False.*\b1\b",
    ),
    (
        battery.cue_noise,
        "no trials for the noisy-cue protocol",
        lambda: battery.cue_noise(DeltaRuleMemory, trials=0),
        ValueError,
        r"trials must be a positive int, got 0",
    ),
    (
        battery.summary_table,
        "a summary of no profiles",
        lambda: battery.summary_table([]),
        ValueError,
        r"at least one Profile.*none",
    ),
    (
        battery.summary_text,
        "no significant digits for the headline text",
        lambda: battery.summary_text([a_profile()], digits=0),
        ValueError,
        r"digits must be a positive int, got 0",
    ),
    (
        battery.on_device,
        "a device that does not exist for a profile",
        lambda: battery.on_device(DeltaRuleMemory, "gpu0"),
        ValueError,
        r"device.*torch device.*'gpu0'",
    ),
    (
        battery.validate,
        "a check of a memory at dim zero",
        lambda: battery.validate(DeltaRuleMemory, dim=0),
        ValueError,
        r"dim.*positive int.*\b0\b",
    ),
    (
        battery.Profile,
        "a profile whose frame is a number",
        lambda: battery.Profile("mine", 3, {}),
        TypeError,
        r"frame.*pandas\.DataFrame.*int",
    ),
    (
        battery.Profile,
        "a profile without its headline numbers",
        lambda: battery.Profile("mine", pd.DataFrame({"protocol": [], "memory": []}), {}),
        ValueError,
        r"summary.*headline numbers.*\{\}",
    ),
    (
        battery.Profile.protocol,
        "an unknown protocol of a profile",
        lambda: a_profile().protocol("speed"),
        ValueError,
        r"protocol.*one of.*'speed'",
    ),
    (
        battery.Profile.figure,
        "a number among the references of a figure",
        lambda: a_profile().figure([1]),
        TypeError,
        r"references.*Profile.*int",
    ),
    (
        battery.Estimate,
        "an interval whose low end is above its high end",
        lambda: battery.Estimate(0.5, low=0.9, high=0.1),
        ValueError,
        r"low must not exceed high.*low=0\.9 > high=0\.1",
    ),
    (
        battery.Estimate,
        "a string as the low end of an interval",
        lambda: battery.Estimate(0.5, low="0.1"),
        TypeError,
        r"low must be a number.*'0\.1'",
    ),
    (
        battery.tune_references,
        "an unknown protocol to tune the references on",
        lambda: battery.tune_references("DeltaRuleMemory", protocols="speed"),
        ValueError,
        r"protocols must be one of.*'speed'",
    ),
    (
        battery.profile,
        "settings for an unknown protocol",
        lambda: battery.profile(DeltaRuleMemory, quick=True, settings={"speed": {}}),
        ValueError,
        r"settings key must be one of.*'speed'",
    ),
    (
        HopfieldMemory,
        "a Hopfield network allowed no sweep",
        lambda: HopfieldMemory(8, iterations=0),
        ValueError,
        r"iterations must be a positive int, got 0",
    ),
    (
        HopfieldMemory,
        "a Hopfield network with a float seed",
        lambda: HopfieldMemory(8, seed=1.5),
        TypeError,
        r"seed must be an int, got 1.5",
    ),
    (
        BatchedMemory.update,
        "a Hopfield network written with values that differ from the keys",
        lambda: HopfieldMemory(8).update(x(3, 8), x(3, 8) + 1),
        ValueError,
        r"HopfieldMemory is autoassociative.*values must equal keys",
    ),
    (
        HopfieldMemory.settle,
        "a Hopfield network settling cues of the wrong width",
        lambda: HopfieldMemory(8).settle(x(3, 5)),
        ValueError,
        r"queries must have last dimension 8.*" + p(3, 5),
    ),
    (
        HopfieldMemory.descent,
        "a Hopfield network tracing cues with a trials axis it was not built with",
        lambda: HopfieldMemory(8).descent(x(2, 3, 8)),
        ValueError,
        r"queries must have shape \(N, 8\), got " + p(2, 3, 8),
    ),
    (
        HopfieldMemory.energy,
        "the energy of states holding NaN",
        lambda: HopfieldMemory(8).energy(x(2, 8, fill=float("nan"))),
        ValueError,
        r"states contains NaN",
    ),
    (
        DenseAssociativeMemory,
        "a dense associative memory of power 1",
        lambda: DenseAssociativeMemory(8, n=1),
        ValueError,
        r"n must be an int >= 2 \(2: the classical network\), got 1",
    ),
    (
        DenseAssociativeMemory,
        "a dense associative memory with rectified given as a string",
        lambda: DenseAssociativeMemory(8, rectified="yes"),
        TypeError,
        r"rectified must be a bool, got 'yes'",
    ),
    (
        ModernHopfieldMemory,
        "a modern Hopfield network with no update",
        lambda: ModernHopfieldMemory(8, iterations=0),
        ValueError,
        r"iterations must be a positive int, got 0",
    ),
    (
        ModernHopfieldMemory.settle,
        "a modern Hopfield network settling integer cues",
        lambda: ModernHopfieldMemory(8).settle(ints(2, 8)),
        TypeError,
        r"queries must be a floating-point tensor, got dtype torch.int64",
    ),
    (
        ModernHopfieldMemory.energy,
        "the modern energy before any write",
        lambda: ModernHopfieldMemory(8).energy(x(2, 8)),
        ValueError,
        r"energy needs at least one stored pattern; none is written yet",
    ),
    (
        data.binary_patterns,
        "binary patterns with correlation 1",
        lambda: data.binary_patterns(4, 8, correlation=1.0),
        ValueError,
        r"correlation must lie in \[0, 1\), got 1.0",
    ),
    (
        data.letter_images,
        "letter images of a letter that has no strokes",
        lambda: data.letter_images("AQ"),
        ValueError,
        r"letters must be drawn from 'AEFH.*', got \['Q'\]",
    ),
    (
        E.completion,
        "completion with more noise than units",
        lambda: E.completion(HopfieldMemory, 2, dim=8, noise=1.5, trials=2),
        ValueError,
        r"noise must hold fractions of the units in \[0, 1\], got \[1.5\]",
    ),
    (
        E.completion,
        "completion with an unknown kind of corruption",
        lambda: E.completion(HopfieldMemory, 2, dim=8, kind="blur", trials=2),
        ValueError,
        r"kind must be one of \['flip', 'mask'\], got 'blur'",
    ),
    (
        E.completion,
        "completion with iterations for a memory that has none",
        lambda: E.completion(DeltaRuleMemory, 2, dim=8, iterations=3, trials=2),
        TypeError,
        r"iterations=3 was given.*DeltaRuleMemory takes no 'iterations' keyword",
    ),
    (
        E.completion,
        "completion of patterns that are not signs",
        lambda: E.completion(HopfieldMemory, 2, dim=8, patterns=x(4, 8), trials=2),
        ValueError,
        r"patterns must hold only -1 and \+1",
    ),
    (
        E.completion,
        "completion of fewer given patterns than asked for",
        lambda: E.completion(HopfieldMemory, 6, dim=8, patterns=torch.ones(4, 8), trials=2),
        ValueError,
        r"patterns holds 4 patterns, fewer than the largest n_patterns 6",
    ),
    (
        E.attractors,
        "attractors with a closeness above one",
        lambda: E.attractors(HopfieldMemory, 3, dim=8, cues=2, trials=2, close=1.5),
        ValueError,
        r"close must lie in \(0, 1\], got 1.5",
    ),
    (
        E.attractors,
        "attractors read from no cue",
        lambda: E.attractors(HopfieldMemory, 3, dim=8, cues=0, trials=2),
        ValueError,
        r"cues must be a positive int, got 0",
    ),
    (
        theory.hopfield_overlap,
        "the retrieval overlap at a negative load",
        lambda: theory.hopfield_overlap([0.1, -0.2]),
        ValueError,
        r"load must hold finite numbers > 0",
    ),
    (
        theory.dense_capacity,
        "the dense capacity of a network of one unit",
        lambda: theory.dense_capacity(1, 3),
        ValueError,
        r"dim must hold numbers of units >= 2, got 1",
    ),
    (
        theory.modern_capacity,
        "the modern capacity with half the units flipped",
        lambda: theory.modern_capacity(20, 10),
        ValueError,
        r"flips must be fewer than half the units \(10.0\), got 10",
    ),
    (
        theory.modern_capacity,
        "the modern capacity missing every pattern",
        lambda: theory.modern_capacity(20, 2, miss=1.0),
        ValueError,
        r"miss must lie strictly between 0 and 1, got 1.0",
    ),
    (
        plots.completion_panels,
        "completion panels of a frame without cue overlaps",
        lambda: plots.completion_panels(frame(noise=0.1, overlap=1.0, exact=1.0)),
        ValueError,
        r"lacks column.*\['cue_overlap'\]",
    ),
    (
        plots.pattern_images,
        "pattern images of the wrong size",
        lambda: plots.pattern_images({"a": torch.ones(2, 100)}),
        ValueError,
        r"columns\['a'\] must have shape \(K, 256\), got \(2, 100\)",
    ),
    (
        plots.pattern_images,
        "pattern images with columns of different lengths",
        lambda: plots.pattern_images({"a": torch.ones(2, 256), "b": torch.ones(3, 256)}),
        ValueError,
        r"same number of patterns, got \[2, 3\]",
    ),
    (
        widgets.completion_figure,
        "a completion figure of a memory that recalls no pattern",
        lambda: widgets.completion_figure("EpisodicMemory"),
        ValueError,
        r"memory must be one of \['HopfieldMemory'.*got 'EpisodicMemory'",
    ),
    (
        widgets.completion_explorer,
        "a completion explorer at a load its slider does not reach",
        lambda: widgets.completion_explorer(load=0.9),
        ValueError,
        r"load must be between 0.02 and 0.4 \(the control's range\), got 0.9",
    ),
]


def _code(target: object) -> CodeType:
    """The code that runs ``target``: a function's own, or a class's constructor."""
    if inspect.isclass(target):
        init = getattr(target, "__post_init__", None) or target.__init__
        return init.__code__
    return target.__code__


def _takes_arguments(target: object) -> bool:
    parameters = inspect.signature(target).parameters.values()
    return any(p.name != "self" for p in parameters)


def public_callables() -> dict[str, object]:
    """Every public function, class and public method of memnb that takes arguments.

    The names come from the ``__all__`` of each module in :data:`MODULES`; a class
    contributes its constructor and the public methods (and ``__call__``) it defines
    itself. Protocol classes, which only describe methods, are left out.
    """
    found = {}
    for module in MODULES:
        for name in module.__all__:
            obj = getattr(module, name)
            if not callable(obj) or getattr(obj, "_is_protocol", False):
                continue  # a module, a constant (such as the registry) or a protocol
            if inspect.isclass(obj) and issubclass(obj, Exception):
                continue  # an exception class checks nothing it is given
            members = [obj]
            if inspect.isclass(obj):
                members += [
                    member
                    for key, member in vars(obj).items()
                    if inspect.isfunction(member) and (not key.startswith("_") or key == "__call__")
                ]
            for member in members:
                if _takes_arguments(member):
                    found[f"{member.__module__}.{member.__qualname__}"] = member
    return found


@pytest.mark.parametrize(
    "target, call, error, message",
    [
        pytest.param(target, call, error, message, id=name)
        for target, name, call, error, message in CASES
    ],
)
def test_bad_input_is_rejected_with_a_clear_message(target, call, error, message):
    seen: set[CodeType] = set()

    def record(frame, event, arg):
        if event == "call":
            seen.add(frame.f_code)

    sys.setprofile(record)
    try:
        with pytest.raises(error) as caught:
            call()
    finally:
        sys.setprofile(None)
    assert re.search(message, str(caught.value)), (
        f"message {str(caught.value)!r} does not match {message!r}"
    )
    assert _code(target) in seen, f"the call never ran {target.__qualname__}"


def test_every_public_function_has_a_row():
    public = public_callables()
    assert "memnb.experiments.adaptation.adaptation" in public  # the listing works
    assert "memnb.memories.base.BatchedMemory.update" in public
    covered = {_code(target) for target, *_ in CASES}
    missing = sorted(name for name, member in public.items() if _code(member) not in covered)
    assert not missing, f"public functions without a bad-input row in CASES: {missing}"


def test_descriptions_are_unique():
    names = [name for _, name, *_ in CASES]
    assert len(names) == len(set(names))
