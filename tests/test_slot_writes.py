"""The slot memories' writes: the optimizers take torch's own steps bit for bit, without
importing torch's compiler; scratch tensors never leak into what a read returns; and the
benchmark reference replays exactly the capacity sweep's matrix products."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

import memnb
from memnb.memories import _optim

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import flops  # noqa: E402  (benchmarks/ is not a package)


def pairs(n: int, d: int = 8, trials: int = 3, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(trials, n, d, generator=gen), torch.randn(trials, n, d, generator=gen)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(
    ("ours", "theirs", "settings"),
    [
        (_optim.Adam, torch.optim.Adam, dict(lr=0.1)),
        (_optim.Adam, torch.optim.Adam, dict(lr=3e-3, betas=(0.5, 0.9), eps=1e-6)),
        (_optim.SGD, torch.optim.SGD, dict(lr=0.3)),
    ],
)
def test_the_optimizers_take_torchs_single_tensor_steps_bit_for_bit(ours, theirs, settings, dtype):
    gen = torch.Generator().manual_seed(0)
    mine = [torch.nn.Parameter(torch.randn(3, 5, 4, generator=gen, dtype=dtype)) for _ in "ab"]
    copies = [torch.nn.Parameter(p.detach().clone()) for p in mine]
    a, b = ours(mine[:1], **settings), theirs(copies[:1], foreach=False, **settings)
    a.add_param_group({"params": mine[1:]})
    b.add_param_group({"params": copies[1:]})
    for step in range(60):
        for p, q in zip(mine, copies, strict=True):
            grad = torch.randn(p.shape, generator=gen, dtype=dtype) * 10.0 ** (step % 7 - 3)
            p.grad, q.grad = grad, grad.clone()
        if step == 30:
            mine[1].grad = copies[1].grad = None  # a parameter without a gradient is left
        a.step(), b.step()
        a.zero_grad(), b.zero_grad()
    for p, q in zip(mine, copies, strict=True):
        assert torch.equal(p, q)
    for p, q in zip(mine, copies, strict=True):
        for name in a.state.get(p, {}):
            want = b.state[q][name]
            got = a.state[p][name]
            assert got == want.item() if name == "step" else torch.equal(got, want)


def test_a_slot_memory_does_not_import_torchs_compiler():
    code = (
        "import sys, torch, memnb\n"
        "m = memnb.ProjectingEpisodicMemory(8, memory_dim=4, memory_size=3, seed=0)\n"
        "m.update(torch.randn(2, 8), torch.randn(2, 8))\n"
        "e = memnb.EpisodicMemory(4, 3, optimizer='sgd', seed=0)\n"
        "e.update(torch.randn(2, 4), torch.randn(2, 4))\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "False", run.stderr


@pytest.mark.parametrize(
    ("group", "error", "message"),
    [
        ([1], TypeError, "must be a dict with 'params'"),
        ({"params": []}, ValueError, "at least one tensor"),
        ({"params": [3.0]}, TypeError, "parameters must be tensors, got float"),
    ],
)
def test_a_bad_parameter_group_is_named(group, error, message):
    memory = memnb.EpisodicMemory(4, 3, seed=0)
    with pytest.raises(error, match=message):
        memory.optimizer.add_param_group(group)
    with pytest.raises(ValueError, match="more than one group"):
        memory.optimizer.add_param_group({"params": [memory.slot_keys]})


def test_a_read_never_returns_a_scratch_tensor():
    memory = memnb.EpisodicMemory(8, memory_size=5, trials=3, seed=0)
    keys, values = pairs(4)
    memory.update(keys, values)
    first = memory(keys)
    kept = first.clone()
    memory.update(keys, values)  # a write refills the scratch tensors
    assert torch.equal(first, kept)
    scratch = {t.data_ptr() for t in memory._scratch_tensors.values()}
    assert first.data_ptr() not in scratch


def test_scratch_tensors_follow_the_number_of_pairs():
    memory = memnb.EpisodicMemory(8, memory_size=5, trials=3, seed=0)
    fresh = memnb.EpisodicMemory(8, memory_size=5, trials=3, seed=0)
    for n in (4, 7, 4):
        keys, values = pairs(n, seed=n)
        assert torch.equal(memory.update(keys, values), fresh.update(keys, values))
        fresh._scratch_tensors.clear()  # as if every write allocated anew
    assert torch.equal(memory.slot_values, fresh.slot_values)


def test_the_flop_reference_replays_the_sweeps_products():
    sweep = dict(n_items=(4, 16), steps=(1, 3), trials=2, dim=8)
    plan = flops.products(sweep)
    assert flops.product_flops(plan) == flops.sweep_flops(sweep)
    # 5 products per write, 2 per read and one N x N score per read, for each N.
    assert sum(count for *_, count in plan) == 2 * (5 * 3 + 3 * 2)
    assert any(a_t for _, _, a_t, _, _ in plan) and any(b_t for _, _, _, b_t, _ in plan)
    flops.run_matmuls(plan)


def test_an_optimizers_state_round_trips():
    memory = memnb.EpisodicMemory(4, 3, trials=2, seed=0)
    keys, values = pairs(2, d=4, trials=2)
    memory.update(keys, values)
    saved = memory.optimizer.state_dict()
    assert saved["param_groups"][0]["params"] == [0, 1]
    twin = memnb.EpisodicMemory(4, 3, trials=2, seed=0)
    twin.update(keys, values)
    twin.optimizer.load_state_dict(saved)
    memory.update(keys, values), twin.update(keys, values)
    assert torch.equal(memory.slot_values, twin.slot_values)
    with pytest.raises(ValueError, match="parameter groups"):
        twin.optimizer.load_state_dict({"state": {}, "param_groups": []})
