"""Build the memory an experiment runs on, whoever wrote its class."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from .. import _validate
from ..memories import LoopedMemory

Factory = Callable[..., object]


def child_seeds(seed: int, n: int) -> list[int]:
    """``n`` independent seeds derived from one (data, memory init, ...)."""
    seed = _validate.seed(seed)
    return [int(s) for s in np.random.SeedSequence(seed).generate_state(n)]


def check_protocol(memory: object, where: str = "factory") -> None:
    """Raise a ``TypeError`` naming what ``memory`` lacks of the update/read protocol."""
    missing = []
    if not callable(getattr(memory, "update", None)):
        missing.append("update(keys, values)")
    if not callable(memory):
        missing.append("__call__(queries)")
    if missing:
        raise TypeError(
            f"{where} returned a {type(memory).__name__} without "
            + " and ".join(missing)
            + "; a memory needs update(keys, values) and __call__(queries)"
        )


def build_memory(factory: Factory, *, dim: int, trials: int, seed: int) -> object:
    """Call ``factory`` to get ``trials`` independent memories behind the batched protocol.

    A factory with a ``trials`` keyword is called once as ``factory(dim, trials=trials)``;
    any other is called ``trials`` times as ``factory(dim)`` and the results are wrapped
    in a :class:`~memnb.memories.LoopedMemory`. torch's global RNG is seeded with
    ``seed`` for the call (and restored afterwards), so random initial states repeat.
    """
    if not callable(factory):
        raise TypeError(
            f"factory must be callable as factory(dim) or factory(dim, trials=T), "
            f"got {type(factory).__name__}"
        )
    dim = _validate.positive_int("dim", dim)
    trials = _validate.positive_int("trials", trials)
    seed = _validate.seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if _validate.accepts(factory, "trials"):
            memory = factory(dim, trials=trials)
            check_protocol(memory)
        else:
            singles = [factory(dim) for _ in range(trials)]
            check_protocol(singles[0])
            memory = LoopedMemory(singles)
    return memory


def _state_tensor(memory: object) -> torch.Tensor | None:
    if isinstance(memory, LoopedMemory):
        return _state_tensor(memory.memories[0])
    if isinstance(memory, torch.nn.Module):
        for tensor in (*memory.parameters(), *memory.buffers()):
            if tensor.is_floating_point():
                return tensor
    return None


def place_like(memory: object, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Move data to the device and floating-point dtype of the memory's state.

    A memory that is not a ``torch.nn.Module`` (or holds no floating tensors) gets the
    data as it is: float32 on the CPU.
    """
    state = _state_tensor(memory)
    if state is None:
        return tensors
    return tuple(t.to(device=state.device, dtype=state.dtype) for t in tensors)


def label_of(factory: Factory, label: str | None) -> str:
    """A name for the memory in result frames: ``label`` or the factory's name."""
    if label is not None:
        return str(label)
    inner = getattr(factory, "func", factory)  # functools.partial
    return getattr(inner, "__name__", type(inner).__name__)
