"""NeuralMemory: an MLP written by momentum gradient steps with weight decay (Titans)."""

from __future__ import annotations

from functools import partial

import pytest
import torch

import memnb
from memnb import DeltaRuleMemory, NeuralMemory
from memnb.experiments import adaptation, capacity

F64 = torch.float64


def _gaussian(seed: int, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=F64)


def _state(memory: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in memory.state_dict().items()}


def _by_hand(memory: NeuralMemory, keys: torch.Tensor, values: torch.Tensor):
    """The rule on copies: loss, new surprises and new weights after one write of (T, N, d)."""
    leaves = [w.detach().clone().requires_grad_(True) for w in memory.weights]
    x = keys
    for i, w in enumerate(leaves):
        x = torch.einsum("tni,toi->tno", x, w)
        if i < len(leaves) - 1:
            x = torch.nn.functional.silu(x)
    loss = (x - values).pow(2).mean(dim=(1, 2))
    grads = torch.autograd.grad(loss.sum(), leaves)
    surprises = [
        memory.momentum * s - memory.lr * g for s, g in zip(memory.surprises, grads, strict=True)
    ]
    weights = [
        (1 - memory.decay) * w.detach() + s for w, s in zip(memory.weights, surprises, strict=True)
    ]
    return loss.detach(), surprises, weights


def test_exported():
    assert memnb.NeuralMemory is NeuralMemory is memnb.memories.NeuralMemory
    assert isinstance(NeuralMemory(3), memnb.Memory)


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("trials", [None, 3])
def test_shapes(depth, trials):
    memory = NeuralMemory(4, depth=depth, width=6, trials=trials, value_dim=5, seed=0)
    lead = () if trials is None else (trials,)
    keys, values = torch.randn(*lead, 7, 4), torch.randn(*lead, 7, 5)
    assert memory(keys).shape == (*lead, 7, 5)
    assert memory.update(keys, values).shape == lead
    assert memory(torch.randn(*lead, 2, 4)).shape == (*lead, 2, 5)
    sizes = [4] + [6] * (depth - 1) + [5]
    t = 1 if trials is None else trials
    assert [tuple(w.shape) for w in memory.weights] == [
        (t, o, i) for i, o in zip(sizes[:-1], sizes[1:], strict=True)
    ]
    assert [s.shape for s in memory.surprises] == [w.shape for w in memory.weights]


def test_default_width_and_empty_read():
    memory = NeuralMemory(5, seed=0)
    assert memory.width == 10
    assert torch.equal(memory(torch.randn(3, 5)), torch.zeros(3, 5))  # output layer starts at 0


def test_seed_repeats_initial_state():
    a, b = NeuralMemory(4, trials=2, seed=3), NeuralMemory(4, trials=2, seed=3)
    assert all(torch.equal(x, y) for x, y in zip(a.weights, b.weights, strict=True))


@pytest.mark.parametrize("activation", ["silu", "relu", "tanh"])
def test_trials_equal_separately_built_memories(activation):
    trials, n, d, dv = 3, 4, 5, 2
    make = partial(
        NeuralMemory, d, depth=3, width=6, momentum=0.8, decay=0.05, value_dim=dv,
        activation=activation, dtype=F64,
    )  # fmt: skip
    batched = make(trials=trials, seed=1)
    singles = [make() for _ in range(trials)]
    for t, single in enumerate(singles):
        single.load_state_dict({k: v[t : t + 1] for k, v in batched.state_dict().items()})
    for step in range(4):
        keys, values = _gaussian(step, trials, n, d), _gaussian(10 + step, trials, n, dv)
        losses = batched.update(keys, values)
        for t, single in enumerate(singles):
            torch.testing.assert_close(single.update(keys[t], values[t]), losses[t])
            torch.testing.assert_close(single(keys[t]), batched(keys)[t])
    for t, single in enumerate(singles):
        for name, tensor in single.state_dict().items():
            torch.testing.assert_close(tensor, batched.state_dict()[name][t : t + 1])


def test_one_write_is_the_rule_with_momentum_and_decay():
    memory = NeuralMemory(4, depth=3, width=5, lr=0.3, momentum=0.7, decay=0.1, trials=2, seed=0)
    memory = memory.double()
    for seed in (0, 1):  # two writes: the zero output layer leaves the hidden ones still at first
        memory.update(_gaussian(seed, 2, 3, 4), _gaussian(seed + 5, 2, 3, 4))
    assert all(s.abs().sum() > 0 for s in memory.surprises)
    keys, values = _gaussian(2, 2, 3, 4), _gaussian(3, 2, 3, 4)
    loss, surprises, weights = _by_hand(memory, keys, values)
    torch.testing.assert_close(memory.update(keys, values), loss)
    for got, want in zip(memory.surprises, surprises, strict=True):
        torch.testing.assert_close(got, want)
    for got, want in zip(memory.weights, weights, strict=True):
        torch.testing.assert_close(got, want)


@pytest.mark.parametrize("activation", ["silu", "relu", "tanh"])
@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_write_is_autograds_step_bit_for_bit(activation, dtype):
    """The backward pass written out gives autograd's gradient exactly, for every
    activation and depth (the weights after several writes are equal, not just close)."""
    for depth in (1, 2, 3):
        kwargs = dict(width=7, momentum=0.6, decay=0.05, activation=activation)
        memory = NeuralMemory(6, depth=depth, trials=3, seed=depth, **kwargs).to(dtype)
        for seed in range(4):
            keys, values = _gaussian(seed, 3, 5, 6).to(dtype), _gaussian(seed + 9, 3, 5, 6)
            loss, surprises, weights = _by_autograd(memory, keys, values.to(dtype))
            got = memory.update(keys, values.to(dtype))
            assert torch.equal(got, loss)
            pairs = zip([*memory.surprises, *memory.weights], [*surprises, *weights], strict=True)
            for a, b in pairs:
                assert torch.equal(a, b)


def _by_autograd(memory, keys, values):
    """One write with autograd's gradient, in the memory's order of operations:
    (loss, surprises, weights)."""
    leaves = [w.detach().clone().requires_grad_(True) for w in memory.weights]
    with torch.enable_grad():
        loss = (memory._mlp(keys, leaves) - values).pow(2).mean(dim=(-2, -1))
        grads = torch.autograd.grad(loss.sum(), leaves)
    surprises = [
        s.clone().mul_(memory.momentum).sub_(memory.lr * g)
        for s, g in zip(memory.surprises, grads, strict=True)
    ]
    weights = [
        w.clone().mul_(1.0 - memory.decay).add_(s)
        for w, s in zip(memory.weights, surprises, strict=True)
    ]
    return loss.detach(), surprises, weights


def test_update_returns_the_loss_before_the_write():
    memory = NeuralMemory(3, trials=2, seed=0, dtype=F64)
    keys, values = _gaussian(0, 2, 4, 3), _gaussian(1, 2, 4, 3)
    memory.update(keys, values)
    before = (memory(keys) - values).pow(2).mean(dim=(1, 2))
    torch.testing.assert_close(memory.update(keys, values), before)


def test_momentum_adds_the_previous_step_to_the_second():
    """With decay 0, step 2 is ``momentum * step 1 - lr * grad``: momentum alone adds m * step 1."""
    keys, values = _gaussian(0, 1, 2, 4), _gaussian(1, 1, 2, 4)
    make = partial(NeuralMemory, 4, depth=2, width=6, lr=0.2, trials=1, seed=0, dtype=F64)
    with_m, without = make(momentum=0.6), make(momentum=0.0)
    w0 = [w.clone() for w in with_m.weights]
    for memory in (with_m, without):
        memory.update(keys, values)
    torch.testing.assert_close(with_m.weights, without.weights)  # first step: no history yet
    w1 = [w.clone() for w in with_m.weights]
    without.update(keys, values)  # the plain gradient step from the same W1
    grads_step = [after - before for after, before in zip(without.weights, w1, strict=True)]
    with_m.update(keys, values)
    for w2, a, b, g in zip(with_m.weights, w1, w0, grads_step, strict=True):
        torch.testing.assert_close(w2 - a, 0.6 * (a - b) + g)
    assert any(
        not torch.allclose(a, b) for a, b in zip(with_m.weights, without.weights, strict=True)
    )


def test_depth_one_without_momentum_is_the_delta_rule():
    n, d, dv, lr, decay = 3, 4, 2, 0.4, 0.0
    neural = NeuralMemory(d, depth=1, lr=lr, momentum=0.0, decay=decay, value_dim=dv, dtype=F64)
    delta = DeltaRuleMemory(d, lr=2 * lr / (n * dv), value_dim=dv, dtype=F64)
    for step in range(3):
        keys, values = _gaussian(step, n, d), _gaussian(5 + step, n, dv)
        torch.testing.assert_close(neural.update(keys, values), delta.update(keys, values))
        torch.testing.assert_close(neural(keys), delta(keys))


def _unrefreshed_error(decay: float) -> float:
    """Write pair A 10 times, then 8 other pairs 30 times; the read error of A at the end."""
    trials, d = 16, 16
    key_a, value_a = _gaussian(0, trials, 1, d), _gaussian(1, trials, 1, d)
    keys_b, values_b = _gaussian(2, trials, 8, d), _gaussian(3, trials, 8, d)
    memory = NeuralMemory(d, decay=decay, trials=trials, seed=0, dtype=F64)
    for _ in range(10):
        memory.update(key_a, value_a)
    assert (memory(key_a) - value_a).pow(2).mean() < 0.05  # A was learned
    for _ in range(30):
        memory.update(keys_b, values_b)
    return float((memory(key_a) - value_a).pow(2).mean())


def test_decay_makes_an_unrefreshed_pair_fade():
    kept, faded = _unrefreshed_error(0.0), _unrefreshed_error(0.05)
    assert faded > 0.8  # close to the error of a zero read (about 1)
    assert kept < 0.6 and faded > kept + 0.3


def test_decay_alone_shrinks_the_weights_geometrically():
    memory = NeuralMemory(3, momentum=0.0, decay=0.25, lr=1e-300, seed=0, dtype=F64)
    before = [w.clone() for w in memory.weights]
    memory.update(_gaussian(0, 2, 3), _gaussian(1, 2, 3))  # lr tiny: only the decay acts
    for got, w in zip(memory.weights, before, strict=True):
        torch.testing.assert_close(got, 0.75 * w)


@pytest.mark.parametrize("trials", [None, 2])
def test_reading_never_changes_state(trials):
    memory = NeuralMemory(4, momentum=0.9, decay=0.1, trials=trials, seed=0)
    shape = (3, 4) if trials is None else (trials, 3, 4)
    memory.update(torch.randn(shape), torch.randn(shape))
    before = _state(memory)
    memory(torch.randn(shape))
    after = _state(memory)
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_float64():
    memory = NeuralMemory(3, trials=2, dtype=F64)
    assert memory.dtype == F64
    out = memory.update(_gaussian(0, 2, 4, 3), _gaussian(1, 2, 4, 3))
    assert out.dtype == F64 and memory(_gaussian(2, 2, 4, 3)).dtype == F64
    moved = NeuralMemory(3).double()  # .to() moves every weight and surprise
    assert all(t.dtype == F64 for t in moved.state_dict().values())
    moved.update(_gaussian(0, 2, 3), _gaussian(1, 2, 3))


@pytest.mark.parametrize("trials", [None, 2])
def test_n_one_and_d_one(trials):
    memory = NeuralMemory(1, trials=trials, seed=0)
    shape = (1, 1) if trials is None else (trials, 1, 1)
    keys, values = torch.ones(shape), torch.full(shape, 0.5)
    losses = [memory.update(keys, values) for _ in range(30)]
    assert memory(keys).shape == shape and losses[0].shape == (() if trials is None else (2,))
    assert torch.isfinite(memory(keys)).all()
    assert (losses[-1] < 0.01 * losses[0]).all()


def test_writes_work_inside_no_grad_and_build_no_graph():
    memory = NeuralMemory(4, trials=2, seed=0)
    keys, values = torch.randn(2, 3, 4), torch.randn(2, 3, 4)
    with torch.no_grad():
        losses = [memory.update(keys, values) for _ in range(5)]
    assert (losses[-1] < losses[0]).all()
    for tensor in memory.state_dict().values():
        assert not tensor.requires_grad and tensor.grad_fn is None
    assert losses[-1].grad_fn is None and memory(keys).grad_fn is None
    memory.update(keys, values)  # and outside no_grad, the same
    assert all(t.grad_fn is None for t in memory.state_dict().values())


def test_adaptation_protocol_elbow():
    frame = adaptation(NeuralMemory, steps=8, trials=64, dim=32, seed=0)
    assert not frame["diverged"].any()
    mse = frame.groupby("step")["mse"].mean()
    reached = mse[mse <= 0.1 * mse[0]]
    assert int(reached.index.min()) == 3  # the docstring's "90 % at the third write"
    assert mse.iloc[-1] < 0.02


def test_capacity_protocol():
    frame = capacity(NeuralMemory, n_items=(2, 8), steps=(1, 20), trials=4, dim=16, seed=0)
    assert not frame["diverged"].any()
    accuracy = frame.groupby(["n_items", "steps"])["accuracy"].mean()
    assert accuracy[(2, 20)] == 1.0 and accuracy[(8, 20)] >= 0.9
    assert accuracy[(8, 20)] >= accuracy[(8, 1)]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda():
    memory = NeuralMemory(4, trials=2, seed=0, device="cuda")
    keys, values = torch.randn(2, 3, 4, device="cuda"), torch.randn(2, 3, 4, device="cuda")
    assert memory.update(keys, values).device.type == "cuda"
    assert memory(keys).device.type == "cuda"


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"depth": 0}, ValueError, "depth"),
        ({"depth": 1.5}, TypeError, "depth"),
        ({"width": 0}, ValueError, "width"),
        ({"lr": 0.0}, ValueError, "lr"),
        ({"lr": -1.0}, ValueError, "lr"),
        ({"lr": float("nan")}, ValueError, "lr"),
        ({"momentum": 1.0}, ValueError, "momentum"),
        ({"momentum": -0.1}, ValueError, "momentum"),
        ({"decay": 1.0}, ValueError, "decay"),
        ({"decay": -0.5}, ValueError, "decay"),
        ({"activation": "gelu"}, ValueError, "activation"),
        ({"trials": 0}, ValueError, "trials"),
        ({"value_dim": 0}, ValueError, "value_dim"),
        ({"dtype": torch.int64}, TypeError, "dtype"),
        ({"seed": "x"}, TypeError, "seed"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, error, name):
    with pytest.raises(error, match=name):
        NeuralMemory(4, **kwargs)


def test_bad_inputs_name_the_tensor():
    memory = NeuralMemory(4, trials=2)
    with pytest.raises(ValueError, match="keys"):
        memory.update(torch.randn(3, 4), torch.randn(3, 4))
    with pytest.raises(ValueError, match="values"):
        memory.update(torch.randn(2, 3, 4), torch.randn(2, 2, 4))
    with pytest.raises(ValueError, match="queries"):
        memory(torch.randn(2, 3, 5))
    with pytest.raises(TypeError, match="keys"):
        memory.update(torch.randn(2, 3, 4, dtype=F64), torch.randn(2, 3, 4))
