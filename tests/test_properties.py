"""Property-based tests: what must hold for every shape, seed and memory family."""

from __future__ import annotations

import math
from functools import partial

import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from memnb import (
    AttentionMemory,
    DeltaRuleMemory,
    EpisodicMemory,
    LoopedMemory,
    MatrixAssociativeMemory,
    NeuralMemory,
    ProjectingEpisodicMemory,
)
from memnb.experiments import adaptation, capacity, forgetting

F64 = torch.float64
# Every memory family of memnb, in float64, built as factory(dim, trials=T).
BATCHED = {
    "episodic": partial(EpisodicMemory, memory_size=7, dtype=F64),
    "episodic-sgd": partial(EpisodicMemory, memory_size=7, optimizer="sgd", lr=1.0, dtype=F64),
    "hebbian": partial(MatrixAssociativeMemory, dtype=F64),
    "delta": partial(DeltaRuleMemory, lr=0.05, dtype=F64),
    "attention": partial(AttentionMemory, dtype=F64),
    "neural": partial(NeuralMemory, width=5, dtype=F64),
    **{
        f"projecting-{design}": partial(
            ProjectingEpisodicMemory,
            memory_dim=3,
            memory_size=5,
            value_projection=design,
            dtype=F64,
        )
        for design in ("learned", "frozen", "readout")
    },
}
SEEDED = {"episodic", "episodic-sgd", "neural", *(n for n in BATCHED if n.startswith("projecting"))}
NO_VALUE_DIM = {n for n in BATCHED if n.startswith("projecting")}  # values are tokens
# LoopedMemory runs T single memories (here slot memories, with their own optimizers).
FAMILIES = [*BATCHED, "looped"]
PROPERTY = settings(max_examples=20, deadline=None, derandomize=True, database=None)
PER_FAMILY = settings(PROPERTY, max_examples=6)  # run once for each family


def make(family: str, dim: int, trials: int | None = None, value_dim: int | None = None, seed=0):
    """A memory of ``family``: one, or ``trials`` of them behind one batched protocol."""
    if family == "looped":
        if trials is None:
            raise ValueError("a LoopedMemory holds at least one trial")
        singles = [make("episodic", dim, None, value_dim, seed + t) for t in range(trials)]
        return LoopedMemory(singles)
    kwargs = {} if value_dim is None or family in NO_VALUE_DIM else {"value_dim": value_dim}
    if family in SEEDED:
        kwargs["seed"] = seed
    return BATCHED[family](dim, trials=trials, **kwargs)


def _gaussian(seed: int, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=F64)


def _orthonormal_rows(seed: int, n: int, d: int) -> torch.Tensor:
    q, _ = torch.linalg.qr(_gaussian(seed, d, d))
    return q[:n]


def _state(memory: object) -> list[torch.Tensor]:
    """Everything a memory holds: tensors, buffers and the optimizer's state."""
    if isinstance(memory, LoopedMemory):
        return [t for single in memory.memories for t in _state(single)]
    tensors = [t.detach().clone() for t in memory.state_dict().values()]
    optimizer = getattr(memory, "optimizer", None)
    if optimizer is not None:
        for per_param in optimizer.state_dict()["state"].values():
            tensors += [torch.as_tensor(v).clone() for v in per_param.values()]
    return tensors


# ---------------------------------------------------------------------------------------------
# Closed forms of the matrix memories


@PROPERTY
@given(d=st.integers(1, 12), data=st.data(), seed=st.integers(0, 2**16))
def test_hebbian_recalls_orthonormal_keys_exactly(d, data, seed):
    n = data.draw(st.integers(1, d))
    keys, values = _orthonormal_rows(seed, n, d), _gaussian(seed + 1, n, d)
    memory = MatrixAssociativeMemory(d, dtype=F64)
    memory.update(keys, values)
    torch.testing.assert_close(memory(keys), values, rtol=0, atol=1e-10)


@PROPERTY
@given(d=st.integers(1, 10), data=st.data(), seed=st.integers(0, 2**16))
def test_delta_rule_with_n_at_most_d_converges_to_exact_recall(d, data, seed):
    n = data.draw(st.integers(1, d))
    scales = 0.5 + torch.rand(n, 1, generator=torch.Generator().manual_seed(seed), dtype=F64)
    keys = _orthonormal_rows(seed, n, d) * scales  # condition number of K K^T at most 9
    values = _gaussian(seed + 1, n, d)
    lr = 1.0 / float(scales.max() ** 2)  # 1 / lambda_max: stable, contraction >= 1/9 a step
    memory = DeltaRuleMemory(d, lr=lr, dtype=F64)
    for _ in range(400):
        memory.update(keys, values)
    torch.testing.assert_close(memory(keys), values, rtol=0, atol=1e-8)


@PROPERTY
@given(d=st.integers(1, 16), eta_k2=st.floats(0.05, 3.95), seed=st.integers(0, 2**16))
def test_delta_rule_error_factor_and_stability_bound(d, eta_k2, seed):
    key, value = _gaussian(seed, 1, d), _gaussian(seed + 1, 1, d)
    memory = DeltaRuleMemory(d, lr=eta_k2 / float(key.pow(2).sum()), dtype=F64)
    memory.matrix.copy_(_gaussian(seed + 2, d, d).unsqueeze(0))
    before = (memory(key) - value).norm()
    memory.update(key, value)
    after = (memory(key) - value).norm()
    torch.testing.assert_close(after, abs(1 - eta_k2) * before, rtol=1e-9, atol=1e-12)
    assert (after > before) == (eta_k2 > 2)  # diverges exactly beyond eta |k|^2 = 2


@pytest.mark.parametrize("unstable", [False, True])
@PROPERTY
@given(d=st.integers(1, 8), data=st.data(), seed=st.integers(0, 2**16))
def test_bulk_delta_rule_is_stable_exactly_below_two_over_the_top_eigenvalue(
    unstable, d, data, seed
):
    """A write of all N pairs multiplies the read error E = K M^T - V by I - lr K K^T: along
    an eigenvector of K K^T with eigenvalue lambda, by 1 - lr lambda. With lr = c / lambda_max
    every component shrinks when c < 2, and the top one grows by |1 - c| a write when c > 2."""
    n = data.draw(st.integers(1, 2 * d))
    c = data.draw(st.floats(2.1, 3.9) if unstable else st.floats(0.1, 1.9))
    keys, values = _gaussian(seed, n, d), _gaussian(seed + 1, n, d)
    eigenvalues, vectors = torch.linalg.eigh(keys @ keys.T)
    lam, top = float(eigenvalues[-1]), vectors[:, -1]
    error0 = -values  # the memory starts at M = 0
    assume(float((top @ error0).norm()) > 0.05 * float(error0.norm()))
    memory = DeltaRuleMemory(d, lr=c / lam, dtype=F64)
    steps = 8 if c < 2 else math.ceil(2 / math.log10(abs(1 - c)))  # |1 - c|^steps >= 100
    norms = [float(error0.norm())]
    for t in range(1, steps + 1):
        memory.update(keys, values)
        error = memory(keys) - values
        factors = (1 - (c / lam) * eigenvalues) ** t  # the closed form, eigenvector by eigenvector
        torch.testing.assert_close(
            error, vectors @ (factors[:, None] * (vectors.T @ error0)), rtol=1e-7, atol=1e-9
        )
        norms.append(float(error.norm()))
    if c < 2:  # no write makes the error larger
        assert all(b <= a * (1 + 1e-9) for a, b in zip(norms, norms[1:], strict=False))
    else:  # the top component has grown 100-fold at least: the error has grown past its start
        assert norms[-1] > 5 * norms[0]


# ---------------------------------------------------------------------------------------------
# Every family


@pytest.mark.parametrize("family", list(BATCHED))
@PER_FAMILY
@given(
    trials=st.integers(1, 4),
    n=st.integers(1, 5),
    d=st.integers(1, 6),
    value_dim=st.integers(1, 6),
    seed=st.integers(0, 2**16),
)
def test_trials_equal_separate_memories(family, trials, n, d, value_dim, seed):
    value_dim = d if family in NO_VALUE_DIM else value_dim
    batched = make(family, d, trials, value_dim, seed)
    singles = [make(family, d, None, value_dim) for _ in range(trials)]
    for t, single in enumerate(singles):  # start every single memory from trial t's state
        single.load_state_dict({k: v[t : t + 1] for k, v in batched.state_dict().items()})
    looped = LoopedMemory(singles)  # the T separate memories behind the batched protocol
    for step in range(3):
        keys = _gaussian(seed + step, trials, n, d)
        values = _gaussian(seed + 9 + step, trials, n, value_dim)
        torch.testing.assert_close(looped.update(keys, values), batched.update(keys, values))
        reads = batched(keys)
        for t, single in enumerate(singles):
            torch.testing.assert_close(single(keys[t]), reads[t])


@pytest.mark.parametrize("family", FAMILIES)
@PER_FAMILY
@given(trials=st.none() | st.integers(1, 3), seed=st.integers(0, 2**16))
def test_reading_never_changes_a_memory(family, trials, seed):
    trials = (trials or 2) if family == "looped" else trials
    memory = make(family, 4, trials, seed=seed)
    shape = (3, 4) if trials is None else (trials, 3, 4)
    memory.update(_gaussian(seed, *shape), _gaussian(seed + 1, *shape))
    before = _state(memory)
    first = memory(_gaussian(seed + 2, *shape))
    after = _state(memory)
    assert len(before) == len(after) and before
    assert all(torch.equal(b, a) for b, a in zip(before, after, strict=True))
    torch.testing.assert_close(memory(_gaussian(seed + 2, *shape)), first, rtol=0, atol=0)


def _factory(family: str):
    """What an experiment is handed: the class with its options, or (looped) a factory
    without ``trials`` that the experiment builds once per trial."""
    if family == "looped":
        return lambda dim: make("episodic", dim)
    return BATCHED[family]


@pytest.mark.parametrize("family", FAMILIES)
def test_float64_end_to_end(family):
    runs = [
        adaptation(_factory(family), steps=3, trials=3, dim=5, seed=0),
        capacity(_factory(family), n_items=(1, 4), steps=2, trials=3, dim=5, seed=0),
        forgetting(_factory(family), steps=2, trials=3, dim=5, kind="random", n_train=3),
    ]
    for frame in runs:  # a float32 tensor into a float64 memory would have raised
        numbers = frame.select_dtypes("number")
        assert numbers.notna().all().all() and not frame["diverged"].any()
    memory = make(family, 5, 2)
    memory.update(_gaussian(0, 2, 3, 5), _gaussian(1, 2, 3, 5))
    out = memory(_gaussian(2, 2, 3, 5))
    assert out.dtype == F64 and torch.isfinite(out).all()


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize(("n", "d"), [(1, 1), (1, 7), (5, 1)])
def test_n_one_and_d_one(family, n, d):
    memory = make(family, d, 2)
    keys, values = _gaussian(0, 2, n, d), _gaussian(1, 2, n, d)
    before = memory(keys)
    loss = memory.update(keys, values)
    out = memory(keys)
    assert out.shape == (2, n, d) and loss.shape == (2,)
    assert torch.isfinite(out).all() and torch.isfinite(loss).all()
    if family == "hebbian":  # M = sum v k^T, so the read is exactly that product
        torch.testing.assert_close(out, keys @ keys.transpose(1, 2) @ values)
    if family in ("delta", "hebbian", "attention", "neural"):  # a write moves the read
        assert not torch.equal(out, before)
    if family == "attention":  # N = 1: the only stored pair is read back exactly
        if n == 1:
            torch.testing.assert_close(out, values)
