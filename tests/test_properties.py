"""Property-based tests: what must hold for every shape, seed and memory family."""

from __future__ import annotations

from functools import partial

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from memnb import (
    AttentionMemory,
    DeltaRuleMemory,
    EpisodicMemory,
    MatrixAssociativeMemory,
    NeuralMemory,
)
from memnb.experiments import adaptation

F64 = torch.float64
FAMILIES = {
    "episodic": partial(EpisodicMemory, memory_size=7, dtype=F64),
    "episodic-sgd": partial(EpisodicMemory, memory_size=7, optimizer="sgd", lr=1.0, dtype=F64),
    "hebbian": partial(MatrixAssociativeMemory, dtype=F64),
    "delta": partial(DeltaRuleMemory, lr=0.05, dtype=F64),
    "attention": partial(AttentionMemory, dtype=F64),
    "neural": partial(NeuralMemory, width=5, dtype=F64),
}
PROPERTY = settings(max_examples=20, deadline=None, derandomize=True)


def _gaussian(seed: int, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=F64)


def _orthonormal_rows(seed: int, n: int, d: int) -> torch.Tensor:
    q, _ = torch.linalg.qr(_gaussian(seed, d, d))
    return q[:n]


def _state(memory: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in memory.state_dict().items()}


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


@PROPERTY
@given(
    family=st.sampled_from(sorted(FAMILIES)),
    trials=st.integers(1, 4),
    n=st.integers(1, 5),
    d=st.integers(1, 6),
    value_dim=st.integers(1, 6),
    seed=st.integers(0, 2**16),
)
def test_trials_equal_separate_memories(family, trials, n, d, value_dim, seed):
    make = partial(FAMILIES[family], d, value_dim=value_dim)
    batched = make(trials=trials, seed=seed) if "episodic" in family else make(trials=trials)
    singles = [make() for _ in range(trials)]
    for t, single in enumerate(singles):  # start every single memory from trial t's state
        single.load_state_dict({k: v[t : t + 1] for k, v in batched.state_dict().items()})
    for step in range(3):
        keys, values = (
            _gaussian(seed + step, trials, n, d),
            _gaussian(seed + 9 + step, trials, n, value_dim),
        )
        losses = batched.update(keys, values)
        for t, single in enumerate(singles):
            torch.testing.assert_close(single.update(keys[t], values[t]), losses[t])
            torch.testing.assert_close(single(keys[t]), batched(keys)[t])


@PROPERTY
@given(
    family=st.sampled_from(sorted(FAMILIES)),
    trials=st.none() | st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
def test_reading_never_changes_a_memory(family, trials, seed):
    memory = FAMILIES[family](4, trials=trials)
    shape = (3, 4) if trials is None else (trials, 3, 4)
    memory.update(_gaussian(seed, *shape), _gaussian(seed + 1, *shape))
    before = _state(memory)
    memory(_gaussian(seed + 2, *shape))
    after = _state(memory)
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_float64_end_to_end(family):
    frame = adaptation(FAMILIES[family], steps=3, trials=4, dim=5, seed=0)
    assert frame["mse"].notna().all() and not frame["diverged"].any()
    memory = FAMILIES[family](5, trials=2)
    memory.update(_gaussian(0, 2, 3, 5), _gaussian(1, 2, 3, 5))
    assert memory(_gaussian(2, 2, 3, 5)).dtype == F64


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize(("n", "d"), [(1, 1), (1, 7), (5, 1)])
def test_n_one_and_d_one(family, n, d):
    memory = FAMILIES[family](d, trials=2)
    keys, values = _gaussian(0, 2, n, d), _gaussian(1, 2, n, d)
    loss = memory.update(keys, values)
    out = memory(keys)
    assert out.shape == (2, n, d) and loss.shape == (2,)
    assert torch.isfinite(out).all() and torch.isfinite(loss).all()
    if family == "hebbian":  # M = sum v k^T, so the read is exactly that product
        torch.testing.assert_close(out, keys @ keys.transpose(1, 2) @ values)
