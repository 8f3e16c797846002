"""The shared machinery of memnb's memories: trials axis, input checks, the protocol."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch
from torch import nn

from .. import _validate


@runtime_checkable
class Memory(Protocol):
    """What every experiment needs of a memory: a write and a read.

    ``update(keys, values)`` writes once; ``memory(queries)`` returns the retrieved values.
    Shapes are ``(N, d)``, or ``(T, N, d)`` for a memory built with ``trials=T``.
    """

    def update(self, keys: torch.Tensor, values: torch.Tensor) -> object: ...

    def __call__(self, queries: torch.Tensor) -> torch.Tensor: ...


class BatchedMemory(nn.Module):
    """Base class: T independent memories stored along a leading trials axis.

    Subclasses implement ``_read(q)`` and ``_write(k, v)`` on tensors of shape
    ``(T, N, d)``, and always see a trials axis, even when built with ``trials=None``
    (then T = 1 and the axis is removed again on the way out).
    """

    def __init__(self, key_dim: int, value_dim: int | None, trials: int | None) -> None:
        super().__init__()
        self.key_dim = _validate.positive_int("dim", key_dim)
        self.value_dim = (
            self.key_dim if value_dim is None else _validate.positive_int("value_dim", value_dim)
        )
        self.trials = _validate.optional_trials(trials)

    @property
    def n_trials(self) -> int:
        """T, the size of the leading trials axis of the state (1 when ``trials=None``)."""
        return 1 if self.trials is None else self.trials

    def _state(self) -> torch.Tensor:
        raise NotImplementedError

    @property
    def device(self) -> torch.device:
        return self._state().device

    @property
    def dtype(self) -> torch.dtype:
        return self._state().dtype

    def _batch(self, name: str, x: object, dim: int, n: int | None = None) -> torch.Tensor:
        return _validate.batch(
            name, x, trials=self.trials, dim=dim, n=n, device=self.device, dtype=self.dtype
        )

    def _unbatch(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.trials is not None else x.squeeze(0)

    def forward(self, queries: torch.Tensor) -> torch.Tensor:
        """Read: ``(N, key_dim)`` or ``(T, N, key_dim)`` queries -> retrieved values."""
        q = self._batch("queries", queries, self.key_dim)
        with torch.no_grad():
            return self._unbatch(self._read(q))

    def update(self, keys: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        """Write the pairs once; return the per-trial loss of this write, ``()`` or ``(T,)``."""
        k = self._batch("keys", keys, self.key_dim)
        v = self._batch("values", values, self.value_dim, n=k.shape[-2])
        loss = self._write(k, v)
        return self._unbatch(loss.detach())

    def _read(self, q: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _write(self, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def extra_repr(self) -> str:
        return f"dim={self.key_dim}, value_dim={self.value_dim}, trials={self.trials}"


def per_trial_mse(retrieved: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error over items and features, one number per trial: ``(T, N, d) -> (T,)``."""
    return (retrieved - target).pow(2).mean(dim=(-2, -1))


def mse_and_gradient(
    output: torch.Tensor, target: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The per-trial MSE of ``output`` against ``target`` ``(T, N, d)``, ``(T,)``, and the
    gradient of its sum over trials with respect to ``output``."""
    diff = output.sub(target)
    size = target.shape[-2] * target.shape[-1]
    per_trial = torch.linalg.vector_norm(diff, dim=(-2, -1)).square_().div_(size)
    return per_trial, diff.mul_(2.0 / size)


def init_generator(seed: int | torch.Generator | None) -> torch.Generator | None:
    """A generator for a memory's random initial state (None: torch's global generator)."""
    if seed is None or isinstance(seed, torch.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(
            f"seed must be an int, a torch.Generator or None, got {type(seed).__name__}"
        )
    return torch.Generator().manual_seed(seed)
