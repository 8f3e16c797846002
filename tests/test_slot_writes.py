"""EpisodicMemory's write path: the same numbers as torch's own optimizer step, scratch
tensors that never leak into what a read returns, and a benchmark reference that replays
exactly the capacity sweep's matrix products."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

import memnb
from memnb.memories import slot

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import flops  # noqa: E402  (benchmarks/ is not a package)


class StepsThroughTorch(memnb.EpisodicMemory):
    """The write as torch.optim.Adam.step takes it, for comparison."""

    def _write(self, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        self.optimizer.zero_grad(set_to_none=True)
        with torch.no_grad():
            per_trial = self._gradients(k, v)
        self.optimizer.step()
        return per_trial


def pairs(n: int, d: int = 8, trials: int = 3, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(trials, n, d, generator=gen), torch.randn(trials, n, d, generator=gen)


@pytest.mark.parametrize("kind", ["slots", "projecting"])
def test_writes_equal_torch_adam_steps_bit_for_bit(kind):
    def build(cls: type) -> torch.nn.Module:
        if kind == "slots":
            return cls(8, memory_size=5, trials=3, seed=1, lr=0.05)
        base = type("P", (memnb.ProjectingEpisodicMemory,), {"_write": cls._write})
        return base(8, memory_dim=6, memory_size=5, trials=3, seed=1, lr=0.05)

    ours = build(memnb.EpisodicMemory)
    torchs = build(StepsThroughTorch)
    for n in (4, 7, 4):  # sizes change between writes: scratch tensors are remade
        keys, values = pairs(n, seed=n)
        for _ in range(3):
            assert torch.equal(ours.update(keys, values), torchs.update(keys, values))
    for mine, theirs in zip(ours.parameters(), torchs.parameters(), strict=True):
        assert torch.equal(mine, theirs)
    a, b = ours.optimizer.state_dict()["state"], torchs.optimizer.state_dict()["state"]
    assert a.keys() == b.keys() and all(
        torch.equal(a[i][name], b[i][name]) for i in a for name in a[i]
    )


def test_other_optimizers_and_amsgrad_take_their_own_step():
    memory = memnb.EpisodicMemory(4, memory_size=3, optimizer="sgd", seed=0)
    before = memory.slot_values.detach().clone()
    memory.update(*[x[0] for x in pairs(2, d=4, trials=1)])
    assert not torch.equal(before, memory.slot_values)
    amsgrad = memnb.EpisodicMemory(4, memory_size=3, seed=0)
    amsgrad.optimizer = torch.optim.Adam(amsgrad.parameters(), lr=0.1, amsgrad=True)
    reference = memnb.EpisodicMemory(4, memory_size=3, seed=0)
    reference.optimizer = torch.optim.Adam(reference.parameters(), lr=0.1, amsgrad=True)
    keys, values = (x[0] for x in pairs(2, d=4, trials=1))
    for _ in range(3):
        amsgrad.update(keys, values)
        reference.optimizer.zero_grad()
        with torch.enable_grad():
            reference._loss(keys[None], values[None]).sum().backward()
        reference.optimizer.step()
    assert "max_exp_avg_sq" in next(iter(amsgrad.optimizer.state.values()))
    torch.testing.assert_close(amsgrad.slot_values, reference.slot_values)


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


def test_the_step_of_a_fresh_adam_makes_its_state():
    memory = memnb.EpisodicMemory(4, memory_size=3, seed=0)
    assert not memory.optimizer.state
    memory.update(*[x[0] for x in pairs(2, d=4, trials=1)])
    assert all(s["step"].item() == 1 for s in memory.optimizer.state.values())
    slot._step(memory.optimizer)  # the grads of the last write are still set
    assert all(s["step"].item() == 2 for s in memory.optimizer.state.values())


def test_the_flop_reference_replays_the_sweeps_products():
    sweep = dict(n_items=(4, 16), steps=(1, 3), trials=2, dim=8)
    plan = flops.products(sweep)
    assert flops.product_flops(plan) == flops.sweep_flops(sweep)
    # 5 products per write, 2 per read and one N x N score per read, for each N.
    assert sum(count for *_, count in plan) == 2 * (5 * 3 + 3 * 2)
    assert any(a_t for _, _, a_t, _, _ in plan) and any(b_t for _, _, _, b_t, _ in plan)
    flops.run_matmuls(plan)
