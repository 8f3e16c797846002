"""The memories: shapes, the trials axis, the write rules and the protocol."""

from __future__ import annotations

import copy
import math
from functools import partial
from itertools import pairwise

import pandas as pd
import pytest
import torch
from readers import HebbianNoTrials, HebbianWithTrials
from torch import nn

import memnb
from memnb import DeltaRuleMemory as DeltaMemory
from memnb import EpisodicMemory, LoopedMemory, MatrixAssociativeMemory
from memnb.data import random_pairs, random_vectors
from memnb.experiments import adaptation

F64 = torch.float64

# Each builder takes (dim, trials=None, **kwargs) and gives a small memory of one family.
BUILDERS = {
    "episodic-adam": partial(EpisodicMemory, memory_size=6, seed=0),
    "episodic-sgd": partial(EpisodicMemory, memory_size=6, lr=0.5, optimizer="sgd", seed=0),
    "hebbian": MatrixAssociativeMemory,
    "delta": partial(DeltaMemory, lr=0.05),
}


def build(name: str, dim: int, trials: int | None = None, **kwargs) -> nn.Module:
    return BUILDERS[name](dim, trials=trials, **kwargs)


def state(memory: nn.Module) -> dict[str, torch.Tensor]:
    """The tensors that make up a memory's state (parameters and buffers)."""
    if isinstance(memory, EpisodicMemory):
        return {"slot_keys": memory.slot_keys, "slot_values": memory.slot_values}
    return {"matrix": memory.matrix}


def randomize(memory: nn.Module, seed: int) -> None:
    """Give a matrix memory a random state, so that copying it is not trivially zero."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for tensor in state(memory).values():
            tensor.copy_(torch.randn(tensor.shape, generator=gen, dtype=tensor.dtype))


def singles_like(name: str, batched: nn.Module, dim: int, **kwargs) -> list[nn.Module]:
    """T memories built with trials=None, trial t holding batched's initial state t."""
    singles = []
    for t in range(batched.trials):
        single = build(name, dim, None, **kwargs)
        with torch.no_grad():
            for key, tensor in state(single).items():
                assert tensor.shape == (1, *state(batched)[key].shape[1:])
                tensor.data.copy_(state(batched)[key][t : t + 1])
        singles.append(single)
    return singles


def snapshot(memory: nn.Module) -> dict[str, torch.Tensor]:
    return {key: tensor.detach().clone() for key, tensor in state(memory).items()}


# ---------------------------------------------------------------------------------------------
# shapes and the protocol


@pytest.mark.parametrize("name", list(BUILDERS))
@pytest.mark.parametrize("trials", [None, 3])
@pytest.mark.parametrize("value_dim", [None, 5])
def test_shapes(name, trials, value_dim):
    dim, n = 7, 4
    memory = build(name, dim, trials, value_dim=value_dim)
    vdim = dim if value_dim is None else value_dim
    keys, values = random_pairs(n, dim, trials, value_dim=vdim, seed=1)
    lead = () if trials is None else (trials,)
    assert keys.shape == (*lead, n, dim) and values.shape == (*lead, n, vdim)

    loss = memory.update(keys, values)
    assert isinstance(loss, torch.Tensor)
    assert loss.shape == lead
    assert not loss.requires_grad

    read = memory(random_vectors(2, dim, trials, seed=2))
    assert read.shape == (*lead, 2, vdim)
    assert read.dtype == torch.float32
    assert not read.requires_grad
    assert memory.key_dim == dim and memory.value_dim == vdim and memory.trials == trials
    assert f"trials={trials}" in repr(memory)


@pytest.mark.parametrize("name", list(BUILDERS))
def test_memories_satisfy_the_protocol(name):
    assert isinstance(build(name, 4), memnb.Memory)
    assert isinstance(build(name, 4, 2), memnb.Memory)


def test_protocol_is_runtime_checkable_and_structural():
    class Reads:
        def __call__(self, queries):
            return queries

    class Writes:
        def update(self, keys, values):
            return None

    class Both(Reads, Writes):
        pass

    assert isinstance(Both(), memnb.Memory)
    assert not isinstance(Reads(), memnb.Memory)
    assert not isinstance(Writes(), memnb.Memory)
    assert isinstance(LoopedMemory([Both()]), memnb.Memory)


# ---------------------------------------------------------------------------------------------
# trials=T is T independent memories


@pytest.mark.parametrize("name", list(BUILDERS))
def test_trials_equal_separately_built_memories(name):
    dim, trials = 5, 3
    batched = build(name, dim, trials, dtype=F64)
    if name in ("hebbian", "delta"):
        randomize(batched, seed=10)
    singles = singles_like(name, batched, dim, dtype=F64)

    for step, n in enumerate([3, 1, 4, 2]):
        keys, values = random_pairs(n, dim, trials, seed=100 + step, dtype=F64)
        batched_loss = batched.update(keys, values)
        single_losses = torch.stack(
            [m.update(k, v) for m, k, v in zip(singles, keys, values, strict=True)]
        )
        torch.testing.assert_close(batched_loss, single_losses, rtol=1e-10, atol=1e-12)

        queries = random_vectors(2, dim, trials, seed=200 + step, dtype=F64)
        batched_read = batched(queries)
        single_reads = torch.stack([m(q) for m, q in zip(singles, queries, strict=True)])
        torch.testing.assert_close(batched_read, single_reads, rtol=1e-10, atol=1e-12)

    # Different data per trial must leave the trials in different states.
    final = state(batched)[next(iter(state(batched)))]
    assert not torch.allclose(final[0], final[1])


@pytest.mark.parametrize("name", list(BUILDERS))
def test_looped_memory_matches_batched_memory(name):
    dim, trials = 6, 4
    batched = build(name, dim, trials, dtype=F64)
    if name in ("hebbian", "delta"):
        randomize(batched, seed=11)
    looped = LoopedMemory(singles_like(name, batched, dim, dtype=F64))
    assert looped.trials == trials
    assert repr(looped) == f"LoopedMemory({trials} x {type(batched).__name__})"

    for step in range(3):
        keys, values = random_pairs(2, dim, trials, seed=300 + step, dtype=F64)
        losses = looped.update(keys, values)
        assert losses.shape == (trials,)
        torch.testing.assert_close(losses, batched.update(keys, values), rtol=1e-10, atol=1e-12)
        queries = random_vectors(3, dim, trials, seed=400 + step, dtype=F64)
        torch.testing.assert_close(looped(queries), batched(queries), rtol=1e-10, atol=1e-12)


def test_looped_memory_without_losses_returns_none():
    class Silent:
        def __init__(self):
            self.calls = 0

        def update(self, keys, values):
            self.calls += 1

        def __call__(self, queries):
            return queries

    memories = [Silent(), Silent()]
    looped = LoopedMemory(memories)
    keys, values = random_pairs(1, 3, 2)
    assert looped.update(keys, values) is None
    assert [m.calls for m in memories] == [1, 1]
    torch.testing.assert_close(looped(keys), keys)


@pytest.mark.parametrize("name", list(BUILDERS))
def test_reading_does_not_change_state(name):
    memory = build(name, 6, 2)
    if name in ("hebbian", "delta"):
        randomize(memory, seed=12)
    memory.update(*random_pairs(3, 6, 2, seed=1))
    before = snapshot(memory)
    first = memory(random_vectors(4, 6, 2, seed=5))
    second = memory(random_vectors(4, 6, 2, seed=5))
    torch.testing.assert_close(first, second, rtol=0, atol=0)
    for key, tensor in state(memory).items():
        torch.testing.assert_close(tensor.detach(), before[key], rtol=0, atol=0)


@pytest.mark.parametrize("name", list(BUILDERS))
def test_float64_end_to_end(name):
    memory = build(name, 5, 2, dtype=F64)
    assert memory.dtype == F64
    assert all(t.dtype == F64 for t in state(memory).values())
    keys, values = random_pairs(3, 5, 2, seed=4, dtype=F64)
    assert memory.update(keys, values).dtype == F64
    assert memory(keys).dtype == F64

    frame = adaptation(partial(BUILDERS[name], dtype=F64), steps=3, trials=2, dim=5)
    assert len(frame) == 2 * 4
    assert frame["mse"].notna().all()


# ---------------------------------------------------------------------------------------------
# EpisodicMemory


def hand_read(keys, values, queries, beta):
    """The read of the docstring: softmax(beta q K^T / sqrt(d)) V."""
    scores = queries @ keys.transpose(-2, -1) * (beta / math.sqrt(keys.shape[-1]))
    return torch.softmax(scores, dim=-1) @ values


def test_episodic_read_is_the_softmax_read():
    memory = EpisodicMemory(6, memory_size=5, beta=1.7, trials=3, seed=2, dtype=F64)
    queries = random_vectors(4, 6, 3, seed=3, dtype=F64)
    expected = hand_read(memory.slot_keys.detach(), memory.slot_values.detach(), queries, 1.7)
    torch.testing.assert_close(memory(queries), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("trials", [None, 3])
def test_episodic_update_is_one_sgd_step(trials):
    lr, beta, dim = 0.3, 1.5, 6
    memory = EpisodicMemory(
        dim, memory_size=5, lr=lr, beta=beta, trials=trials, optimizer="sgd", seed=7, dtype=F64
    )
    assert type(memory.optimizer).__name__ == "SGD"
    keys, values = random_pairs(2, dim, trials, seed=8, dtype=F64)
    slot_keys = memory.slot_keys.detach().clone().requires_grad_()
    slot_values = memory.slot_values.detach().clone().requires_grad_()

    batch_keys = keys if trials else keys.unsqueeze(0)
    batch_values = values if trials else values.unsqueeze(0)
    read = hand_read(slot_keys, slot_values, batch_keys, beta)
    per_trial = (read - batch_values).pow(2).mean(dim=(-2, -1))
    grad_keys, grad_values = torch.autograd.grad(per_trial.sum(), [slot_keys, slot_values])

    loss = memory.update(keys, values)

    expected_loss = per_trial.detach() if trials else per_trial.detach()[0]
    torch.testing.assert_close(loss, expected_loss, rtol=1e-12, atol=1e-12)
    expected_keys = slot_keys.detach() - lr * grad_keys
    expected_values = slot_values.detach() - lr * grad_values
    torch.testing.assert_close(memory.slot_keys.detach(), expected_keys, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(memory.slot_values.detach(), expected_values, rtol=1e-12, atol=1e-12)
    assert grad_values.abs().max() > 1e-3  # the step was not a no-op


def test_episodic_default_optimizer_is_adam_and_moves_each_coordinate_by_lr():
    memory = EpisodicMemory(8, memory_size=4, trials=2, seed=0, dtype=F64)
    assert type(memory.optimizer).__name__ == "Adam"
    assert memory.lr == 0.1
    params = memory.optimizer.param_groups[0]["params"]
    assert params[0] is memory.slot_keys and params[1] is memory.slot_values

    keys, values = random_pairs(3, 8, 2, seed=1, dtype=F64)
    slot_values = memory.slot_values.detach().clone().requires_grad_()
    read = hand_read(memory.slot_keys.detach(), slot_values, keys, 1.0)
    (grad,) = torch.autograd.grad((read - values).pow(2).mean(dim=(-2, -1)).sum(), [slot_values])
    memory.update(keys, values)
    # The first Adam step is lr * g / (|g| + eps): about lr against the gradient's sign.
    step = memory.slot_values.detach() - slot_values.detach()
    big = grad.abs() > 1e-4
    assert big.sum() > 10
    torch.testing.assert_close(step[big], -0.1 * grad[big].sign(), rtol=0, atol=1e-4)


def test_episodic_update_returns_mse_of_the_read_before_the_step():
    memory = EpisodicMemory(8, memory_size=10, trials=4, seed=3)
    keys, values = random_pairs(3, 8, 4, seed=4)
    for _ in range(3):
        before = memory(keys)
        loss = memory.update(keys, values)
        torch.testing.assert_close(loss, (before - values).pow(2).mean(dim=(-2, -1)))
        assert not torch.allclose(memory(keys), before)


class ScaledEpisodicMemory(EpisodicMemory):
    """An episodic memory with a learnable output scale per trial, trained with the slots."""

    penalty = 0.5

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.scale = nn.Parameter(torch.ones(self.n_trials, 1, 1, dtype=self.dtype))
        self.optimizer.add_param_group({"params": [self.scale]})

    def _read(self, q):
        return self.scale * super()._read(q)

    def _loss(self, k, v):
        return super()._loss(k, v) + self.penalty * (self.scale - 1).pow(2).reshape(-1)


def test_episodic_optimizer_accepts_an_extra_parameter_group():
    memory = ScaledEpisodicMemory(6, memory_size=5, trials=3, optimizer="sgd", seed=1, dtype=F64)
    assert len(memory.optimizer.param_groups) == 2
    keys, values = random_pairs(2, 6, 3, seed=2, dtype=F64)

    memory.update(keys, values)
    scale = memory.scale.detach().reshape(-1)
    assert (scale != 1).all()
    assert len(set(scale.tolist())) == 3  # each trial learns its own scale

    # The read uses the scale, and update returns the subclass's loss, penalty included.
    raw = hand_read(memory.slot_keys.detach(), memory.slot_values.detach(), keys, 1.0)
    read = memory(keys)
    torch.testing.assert_close(read, memory.scale.detach() * raw, rtol=1e-12, atol=1e-12)
    expected = (read - values).pow(2).mean(dim=(-2, -1)) + 0.5 * (scale - 1) ** 2
    torch.testing.assert_close(memory.update(keys, values), expected, rtol=1e-12, atol=1e-12)


def test_episodic_initial_state_is_random_and_seeded():
    queries = random_vectors(3, 16, seed=0)
    first = EpisodicMemory(16, seed=0)
    assert first(queries).norm(dim=-1).min() > 0.05
    same = EpisodicMemory(16, seed=0)
    other = EpisodicMemory(16, seed=1)
    for key, tensor in state(first).items():
        torch.testing.assert_close(tensor, state(same)[key], rtol=0, atol=0)
        assert not torch.allclose(tensor, state(other)[key])
    assert not torch.allclose(first(queries), other(queries))

    # A torch.Generator works as the seed, and None draws from torch's global generator.
    from_generator = EpisodicMemory(16, seed=torch.Generator().manual_seed(0))
    torch.testing.assert_close(from_generator.slot_values, first.slot_values, rtol=0, atol=0)
    torch.manual_seed(5)
    a = EpisodicMemory(16)
    torch.manual_seed(5)
    b = EpisodicMemory(16)
    torch.testing.assert_close(a.slot_keys, b.slot_keys, rtol=0, atol=0)


def test_episodic_defaults_reach_ten_percent_in_five_to_ten_updates():
    trials, dim = 64, 32
    memory = EpisodicMemory(dim, trials=trials, seed=0)
    keys, values = random_pairs(1, dim, trials, seed=1)
    curve = [(memory(keys) - values).pow(2).mean().item()]
    for _ in range(10):
        memory.update(keys, values)
        curve.append((memory(keys) - values).pow(2).mean().item())
    below = [step for step, mse in enumerate(curve) if mse < 0.1 * curve[0]]
    assert below, f"never below 10 % of the start: {curve}"
    assert 5 <= below[0] <= 10, curve
    assert all(b < a for a, b in pairwise(curve)), curve


# ---------------------------------------------------------------------------------------------
# MatrixAssociativeMemory


def test_hebbian_starts_at_zero():
    memory = MatrixAssociativeMemory(5, trials=2)
    assert torch.count_nonzero(memory.matrix) == 0
    assert torch.count_nonzero(memory(random_vectors(3, 5, 2))) == 0


@pytest.mark.parametrize("n", [3, 8])
def test_hebbian_recall_of_orthonormal_keys_is_exact(n):
    dim = 8
    q, _ = torch.linalg.qr(
        torch.randn(dim, dim, generator=torch.Generator().manual_seed(0), dtype=F64)
    )
    keys = q[:n]  # orthonormal rows
    values = random_vectors(n, 5, seed=1, dtype=F64)
    memory = MatrixAssociativeMemory(dim, value_dim=5, dtype=F64)
    first_loss = memory.update(keys, values)
    torch.testing.assert_close(first_loss, values.pow(2).mean())  # M = 0 reads zero
    torch.testing.assert_close(memory(keys), values, rtol=1e-12, atol=1e-12)
    # The second write sees an exact read (loss 0) and stores each pair twice.
    assert memory.update(keys, values).item() == pytest.approx(0, abs=1e-24)
    torch.testing.assert_close(memory(keys), 2 * values, rtol=1e-12, atol=1e-12)


def test_hebbian_write_is_the_sum_of_outer_products():
    memory = MatrixAssociativeMemory(6, trials=3, value_dim=4, dtype=F64)
    k1, v1 = random_pairs(5, 6, 3, value_dim=4, seed=1, dtype=F64)
    k2, v2 = random_pairs(2, 6, 3, value_dim=4, seed=2, dtype=F64)
    memory.update(k1, v1)
    torch.testing.assert_close(memory.matrix, v1.transpose(-2, -1) @ k1)
    memory.update(k2, v2)
    expected = v1.transpose(-2, -1) @ k1 + v2.transpose(-2, -1) @ k2
    torch.testing.assert_close(memory.matrix, expected)
    for t in range(3):
        outer = sum(torch.outer(v1[t, n], k1[t, n]) for n in range(5))
        outer = outer + sum(torch.outer(v2[t, n], k2[t, n]) for n in range(2))
        torch.testing.assert_close(memory.matrix[t], outer)
    queries = random_vectors(4, 6, 3, seed=3, dtype=F64)
    torch.testing.assert_close(memory(queries), queries @ expected.transpose(-2, -1))


# ---------------------------------------------------------------------------------------------
# DeltaRuleMemory


def test_delta_default_lr_is_one_over_dim():
    assert DeltaMemory(20).lr == pytest.approx(1 / 20)
    assert DeltaMemory(20, lr=0.3).lr == 0.3
    assert "lr=0.05" in repr(DeltaMemory(20, 0.05))


@pytest.mark.parametrize("lr", [None, 0.01, 0.1])
def test_delta_single_write_shrinks_the_error_by_one_minus_lr_k_squared(lr):
    dim, trials = 8, 4
    memory = DeltaMemory(dim, lr=lr, trials=trials, dtype=F64)
    randomize(memory, seed=3)
    keys, values = random_pairs(1, dim, trials, seed=4, dtype=F64)
    error_before = values - memory(keys)
    loss = memory.update(keys, values)
    torch.testing.assert_close(loss, error_before.pow(2).mean(dim=(-2, -1)))
    factor = 1 - memory.lr * keys.pow(2).sum(dim=-1, keepdim=True)
    torch.testing.assert_close(values - memory(keys), factor * error_before, rtol=1e-10, atol=1e-12)


def test_delta_full_batch_writes_converge_to_exact_recall():
    dim, n = 8, 4
    keys, values = random_pairs(n, dim, seed=3, dtype=F64)
    lr = 1 / torch.linalg.eigvalsh(keys @ keys.T).max().item()  # stable: lr * lambda_max = 1
    memory = DeltaMemory(dim, lr=lr, dtype=F64)
    losses = [memory.update(keys, values).item() for _ in range(1500)]
    above_rounding = [loss for loss in losses if loss > 1e-20]
    assert len(above_rounding) > 100
    assert all(b < a for a, b in pairwise(above_rounding))
    torch.testing.assert_close(memory(keys), values, rtol=0, atol=1e-9)


def test_delta_diverges_when_lr_k_squared_exceeds_two():
    keys, values = random_pairs(1, 8, seed=5, dtype=F64)
    lr = 2.5 / keys.pow(2).sum().item()  # the error is multiplied by -1.5 each write
    memory = DeltaMemory(8, lr=lr, dtype=F64)
    losses = torch.stack([memory.update(keys, values) for _ in range(6)])
    torch.testing.assert_close(losses[1:] / losses[:-1], torch.full((5,), 2.25, dtype=F64))
    assert (values - memory(keys)).pow(2).mean() > 10 * losses[0]


# ---------------------------------------------------------------------------------------------
# memories written outside memnb


@pytest.mark.parametrize("cls, built", [(HebbianNoTrials, 5), (HebbianWithTrials, 1)])
def test_memory_written_outside_memnb_runs_through_adaptation(cls, built):
    assert isinstance(cls(3), memnb.Memory)
    cls.built = 0
    frame = adaptation(cls, steps=3, trials=5, dim=8, seed=2)
    assert cls.built == built  # once batched, or once per trial behind a LoopedMemory

    reference = adaptation(MatrixAssociativeMemory, steps=3, trials=5, dim=8, seed=2)
    assert (frame["memory"] == cls.__name__).all()
    pd.testing.assert_frame_equal(
        frame.drop(columns="memory"), reference.drop(columns="memory"), rtol=1e-5
    )


# ---------------------------------------------------------------------------------------------
# CUDA


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", list(BUILDERS))
def test_cuda(name):
    memory = build(name, 8, 3, device="cuda")
    assert memory.device.type == "cuda"
    keys, values = random_pairs(2, 8, 3, seed=0, device="cuda")
    loss = memory.update(keys, values)
    assert loss.device.type == "cuda" and memory(keys).device.type == "cuda"

    frame = adaptation(partial(BUILDERS[name], device="cuda"), steps=4, trials=3, dim=8)
    cpu = adaptation(BUILDERS[name], steps=4, trials=3, dim=8)
    assert len(frame) == 3 * 5 and frame["mse"].notna().all()
    pd.testing.assert_series_equal(frame["key_sq_norm"], cpu["key_sq_norm"], rtol=1e-5)


def test_episodic_update_works_inside_no_grad():
    memory = EpisodicMemory(8, memory_size=5, trials=2, seed=0)
    keys, values = random_pairs(3, 8, 2, seed=1)
    before = memory.slot_values.detach().clone()
    with torch.no_grad():
        memory.update(keys, values)
    assert not torch.equal(before, memory.slot_values.detach())


@pytest.mark.parametrize("cls", [MatrixAssociativeMemory, DeltaMemory])
def test_matrix_write_builds_no_autograd_graph(cls):
    memory = cls(8, trials=2)
    keys, values = random_pairs(3, 8, 2, seed=1)
    for _ in range(3):
        memory.update(keys.requires_grad_(True), values)
    assert memory.matrix.grad_fn is None and not memory.matrix.requires_grad


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_slot_memory_writes_the_gradient_step_autograd_would_take(dtype):
    """EpisodicMemory's write sets the gradients in closed form; autograd agrees."""
    memory = memnb.EpisodicMemory(16, 20, beta=2.0, trials=3, value_dim=8, seed=1, dtype=dtype)
    reference = copy.deepcopy(memory)
    gen = torch.Generator().manual_seed(0)
    keys = torch.randn(3, 7, 16, generator=gen, dtype=dtype)
    values = torch.randn(3, 7, 8, generator=gen, dtype=dtype)
    for _ in range(5):
        loss = memory.update(keys, values)
        expected = reference._autograd_write(keys, values).detach()
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == torch.float32 else dict(rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(loss, expected, **tol)
    torch.testing.assert_close(memory.slot_keys, reference.slot_keys, **tol)
    torch.testing.assert_close(memory.slot_values, reference.slot_values, **tol)


def test_a_memory_alone_loads_no_frames_figures_or_widgets():
    """``import memnb`` and a memory cost torch alone; experiments add pandas, not plots."""
    import subprocess
    import sys

    heavy = ("pandas", "matplotlib", "seaborn", "scipy", "ipywidgets")
    code = (
        "import sys, torch, memnb\n"
        "memnb.EpisodicMemory(8, trials=2).update(torch.randn(2, 3, 8), torch.randn(2, 3, 8))\n"
        f"print(*[m for m in {heavy!r} if m in sys.modules])\n"
        "from memnb.experiments import capacity\n"
        "capacity(memnb.DeltaRuleMemory, (2, 4), trials=2, dim=4)\n"
        f"print(*[m for m in {heavy!r} if m in sys.modules])\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.splitlines() == ["", "pandas"]


@pytest.mark.parametrize("design", ["learned", "frozen", "readout"])
def test_projecting_memory_writes_the_gradient_step_autograd_would_take(design):
    memory = memnb.ProjectingEpisodicMemory(
        12, 6, 20, beta=2.0, trials=3, value_projection=design, seed=1, dtype=torch.float64
    )
    reference = copy.deepcopy(memory)
    gen = torch.Generator().manual_seed(0)
    keys = torch.randn(3, 7, 12, generator=gen, dtype=torch.float64)
    values = torch.randn(3, 7, 12, generator=gen, dtype=torch.float64)
    for _ in range(5):
        loss = memory.update(keys, values)
        expected = reference._autograd_write(keys, values).detach()
    torch.testing.assert_close(loss, expected, rtol=1e-10, atol=1e-12)
    for (name, mine), theirs in zip(memory.named_parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(mine, theirs, rtol=1e-10, atol=1e-12, msg=name)


def test_a_subclass_that_changes_the_loss_alone_is_differentiated_by_autograd():
    class Penalised(memnb.EpisodicMemory):
        def _loss(self, k, v):
            return super()._loss(k, v) + self.slot_values.pow(2).mean(dim=(-2, -1))

    assert memnb.EpisodicMemory(4)._closed_form()
    assert memnb.ProjectingEpisodicMemory(6, 4)._closed_form()
    memory = Penalised(4, 5, trials=2, seed=0)
    assert not memory._closed_form()
    reference = copy.deepcopy(memory)
    keys = torch.randn(2, 3, 4, generator=torch.Generator().manual_seed(0))
    memory.update(keys, keys)
    reference._autograd_write(keys, keys)
    torch.testing.assert_close(memory.slot_values, reference.slot_values)
