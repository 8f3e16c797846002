"""Keys: the generators of functional pairs, the key-recall experiment and its widget."""

from __future__ import annotations

from functools import partial

import pytest
import torch

import memnb
from memnb.data import NONLINEARITIES, context_pairs, nonlinearity, random_projection
from memnb.experiments import key_recall
from memnb.theory import stable_lr

COLUMNS = [
    "trial",
    "n_items",
    "accuracy",
    "mse",
    "cosine",
    "diverged",
    "tested",
    "chance",
    "cosine_recall",
    "state_size",
    "memory",
    "pairs",
    "dim",
    "context_dim",
    "key_rank",
    "nonlinearity",
    "cue_noise",
    "cosine_threshold",
    "steps",
    "seed",
]


@pytest.mark.parametrize("trials", [None, 3])
@pytest.mark.parametrize("context_dim", [None, 8, 24])
def test_context_pairs_shapes_and_projections(trials, context_dim):
    p = context_pairs(5, 16, trials, context_dim=context_dim, seed=1)
    dx = 16 if context_dim is None else context_dim
    lead = () if trials is None else (trials,)
    assert p.contexts.shape == (*lead, 5, dx)
    assert p.keys.shape == p.values.shape == (*lead, 5, 16)
    assert p.key_map.shape == p.value_map.shape == (*lead, 16, dx)
    assert torch.allclose(p.keys, p.contexts @ p.key_map.transpose(-2, -1), atol=1e-5)
    assert torch.allclose(p.values, p.contexts @ p.value_map.transpose(-2, -1), atol=1e-5)


def test_context_pairs_seeded():
    a, b = context_pairs(4, 8, 2, seed=3), context_pairs(4, 8, 2, seed=3)
    c = context_pairs(4, 8, 2, seed=4)
    assert torch.equal(a.keys, b.keys) and torch.equal(a.value_map, b.value_map)
    assert not torch.equal(a.keys, c.keys)


def test_square_projection_is_orthogonal_and_value_is_linear_in_key():
    p = context_pairs(20, 12, 2, seed=0, dtype=torch.float64)
    eye = torch.eye(12, dtype=torch.float64)
    assert torch.allclose(p.key_map @ p.key_map.transpose(-2, -1), eye.expand(2, 12, 12))
    a = p.value_map @ p.key_map.transpose(-2, -1)  # W_V W_K^-1
    assert torch.allclose(p.values, p.keys @ a.transpose(-2, -1))


def test_unseen_contexts_use_the_same_projections():
    p = context_pairs(6, 10, 2, nonlinearity="tanh", seed=2)
    x = torch.randn(2, 7, 10, generator=torch.Generator().manual_seed(9))
    keys, values = p.encode(x)
    assert torch.allclose(keys, x @ p.key_map.transpose(-2, -1), atol=1e-5)
    expect = nonlinearity(x, "tanh") @ p.value_map.transpose(-2, -1)
    assert torch.allclose(values, expect, atol=1e-5)
    again = p.encode(p.contexts)
    assert torch.allclose(again[0], p.keys) and torch.allclose(again[1], p.values)


@pytest.mark.parametrize(
    "shape,rank,expect",
    [((16, 16), None, 16), ((16, 16), 4, 4), ((16, 32), None, 16), ((32, 8), None, 8)],
)
def test_random_projection_rank_and_scale(shape, rank, expect):
    w = random_projection(*shape, rank=rank, seed=0, dtype=torch.float64)
    assert w.shape == shape
    assert int(torch.linalg.matrix_rank(w)) == expect
    s = torch.linalg.svdvals(w)[:expect]
    assert torch.allclose(s, torch.full_like(s, (shape[0] / expect) ** 0.5))


def test_rank_deficient_keys_collide():
    p = context_pairs(3, 16, key_rank=4, seed=0, dtype=torch.float64)
    null = torch.linalg.svd(p.key_map).Vh[-1]
    x = torch.stack([p.contexts[0], p.contexts[0] + null])
    keys, values = p.encode(x)
    assert torch.allclose(keys[0], keys[1], atol=1e-10)
    assert not torch.allclose(values[0], values[1])


@pytest.mark.parametrize("name", NONLINEARITIES)
def test_nonlinearity_is_standardised(name):
    z = torch.randn(200_000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    y = nonlinearity(z, name)
    assert abs(float(y.mean())) < 0.01 and abs(float(y.std()) - 1) < 0.01


def test_key_recall_frame_and_determinism():
    delta = partial(memnb.DeltaRuleMemory, lr=stable_lr(32, 16))
    run = partial(key_recall, delta, "auto", [8, 32], 10, 3, 16, 0, n_unseen=8)
    a, b = run(), run()
    assert list(a.columns) == COLUMNS
    assert len(a) == 2 * 2 * 3 and set(a["tested"]) == {"stored", "unseen"}
    assert a.equals(b)
    unseen = a[(a["tested"] == "unseen") & (a["n_items"] == 32)]
    assert (unseen["accuracy"] == 1).all()  # N >= d: the delta rule has learned the map


def test_key_recall_hetero_has_nothing_to_generalise():
    frame = key_recall(memnb.AttentionMemory, "hetero", [8], 1, 4, 16, n_unseen=8)
    unseen = frame[frame["tested"] == "unseen"]
    assert (frame[frame["tested"] == "stored"]["accuracy"] == 1).all()
    assert unseen["accuracy"].mean() < 0.3
    assert (unseen["chance"] == 1 / 16).all()


class MeanMemory:
    """A reader's memory: only update and __call__, no trials argument."""

    def __init__(self, dim):
        self.mean = torch.zeros(dim)

    def update(self, keys, values):
        self.mean = values.mean(dim=0)

    def __call__(self, queries):
        return self.mean.expand(queries.shape[0], -1)


def test_key_recall_runs_a_reader_memory():
    frame = key_recall(MeanMemory, "auto", [4, 8], 2, 3, 8, n_unseen=4)
    assert list(frame.columns) == [c for c in COLUMNS if c != "state_size"]  # none to tell
    assert set(frame["memory"]) == {"MeanMemory"}


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: context_pairs(4, 8, nonlinearity="cube"), "nonlinearity"),
        (lambda: context_pairs(4, 8, key_rank=9), "rank"),
        (lambda: context_pairs(4, 8, context_dim=0), "context_dim"),
        (lambda: context_pairs(0, 8), "n"),
        (lambda: random_projection(8, 8, rank=0), "rank"),
        (lambda: context_pairs(4, 8, 2).encode(torch.zeros(2, 3, 5)), "contexts"),
        (lambda: key_recall(memnb.AttentionMemory, "both"), "pairs"),
        (lambda: key_recall(memnb.AttentionMemory, "hetero", key_rank=4), "pairs='hetero'"),
        (lambda: key_recall(memnb.AttentionMemory, n_unseen=0), "n_unseen"),
        (lambda: stable_lr(0, 8), "n_items"),
        (lambda: memnb.widgets.keys_figure(memory="Nope"), "memory"),
    ],
)
def test_bad_input_names_the_argument(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
