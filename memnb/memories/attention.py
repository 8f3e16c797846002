"""Attention memory: keep every pair written and read by a softmax over all stored keys."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar

import torch

from .. import _validate
from .base import BatchedMemory, per_trial_mse


class AttentionMemory(BatchedMemory):
    """An exact store: every written pair is kept; a read is a softmax over all of them.

    Read: ``w = softmax(beta * q K^T)`` over the stored keys ``K``, then ``w V``. This is
    the update rule of a modern (continuous) Hopfield network, and the attention of a
    transformer whose keys and values are the pairs written so far.

    ``beta`` multiplies the *raw* dot products (there is no ``1/sqrt(dim)``, unlike
    :class:`EpisodicMemory`), so how sharp a read is depends on the keys' norms. For a
    query equal to a stored key ``k`` with ``|k|^2 = s`` and the other keys independent
    random directions of the same norm, the correct score is ``beta s`` and a wrong one
    is about normal with standard deviation ``beta s / sqrt(dim)``, so the weight on the
    correct pair is about ``1 / (1 + (N - 1) exp(beta^2 s^2 / (2 dim) - beta s))``
    (:func:`memnb.theory.attention_weight`), an average over the wrong scores that holds
    only while ``N`` is large next to ``exp(beta^2 s^2 / dim)``. For queries that are
    stored keys the weight on the correct pair rises with ``beta``: small ``beta`` blurs
    the read towards the mean of all stored values (close to linear attention), large
    ``beta`` approaches a nearest-key lookup. The default ``beta = 1`` on standard normal
    keys (``s`` about ``dim``) is as selective as ``beta = dim`` on unit-norm keys.

    Write: ``update(keys, values)`` appends the N pairs to the store of every trial (all
    trials receive the same N, so the store stays one tensor ``(T, stored, d)``). Writing
    a pair twice stores it twice, which leaves the read unchanged when every pair is
    repeated equally often. Nothing is learned and nothing is overwritten; the cost is
    memory and read time that grow with every write. The store is the head of a larger
    block that a write fills in place; a full block is copied into one twice the pairs'
    length, so that a long run of small writes copies each pair a few times, not once
    per write. A tensor read from ``stored_keys`` or ``stored_values`` keeps its values
    through later writes.

    Before any write the store is empty and a read returns zeros. ``update`` returns the
    per-trial MSE of the read of ``keys`` just before the write.

    Args:
        dim: key dimension d.
        beta: inverse temperature of the softmax, applied to raw dot products (>= 0).
        trials: None for one memory with inputs ``(N, d)``, or T independent memories
            with inputs ``(T, N, d)``.
        value_dim: value dimension (defaults to ``dim``).
        device, dtype: where the store lives and its floating-point type.
    """

    # From 0.1 to 100 on a log scale: beta = 1 suits standard normal keys, beta = dim
    # unit-norm keys (see above).
    hyperparameters: ClassVar[Mapping[str, tuple]] = MappingProxyType(
        {"beta": (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)}
    )

    def __init__(
        self,
        dim: int,
        beta: float = 1.0,
        trials: int | None = None,
        *,
        value_dim: int | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__(dim, value_dim, trials)
        self.beta = _validate.positive_float("beta", beta, allow_zero=True)
        _validate.float_dtype("dtype", dtype)
        _validate.torch_device("device", device)
        t = self.n_trials
        self.register_buffer(
            "stored_keys", torch.zeros(t, 0, self.key_dim, dtype=dtype, device=device)
        )
        self.register_buffer(
            "stored_values", torch.zeros(t, 0, self.value_dim, dtype=dtype, device=device)
        )
        # The blocks the stored pairs are windows of (see _append); a buffer that is not a
        # window of its block (loaded, moved to another device or dtype) gets a new block.
        self._blocks: dict[str, torch.Tensor | None] = {"stored_keys": None, "stored_values": None}

    @property
    def n_stored(self) -> int:
        """How many pairs each trial holds (the same for every trial)."""
        return self.stored_keys.shape[-2]

    def _state(self) -> torch.Tensor:
        return self.stored_values

    def state_size(self) -> int:
        """Floats one trial holds now: ``pairs stored x (dim + value_dim)`` (grows)."""
        return self.n_stored * (self.key_dim + self.value_dim)

    def weights(self, queries: torch.Tensor) -> torch.Tensor:
        """Softmax weights of the queries over the stored pairs.

        ``queries`` is ``(N, dim)`` or ``(T, N, dim)``; the result is ``(N, stored)`` or
        ``(T, N, stored)``, each row summing to one (empty before the first write).
        """
        q = self._batch("queries", queries, self.key_dim)
        with torch.no_grad():
            return self._unbatch(self._weights(q))

    def _weights(self, q: torch.Tensor) -> torch.Tensor:
        # Scaling the N x d queries costs less than scaling the N x stored scores.
        weights = torch.softmax((self.beta * q) @ self.stored_keys.transpose(-2, -1), dim=-1)
        # Weights under the smallest normal float are subnormal numbers, which make the
        # product with the values many times slower on a CPU. They change no read (the
        # largest weight of a row is at least 1 / stored), so they are set to zero, in one
        # pass: every weight not above the float just under the smallest normal one.
        return torch.nn.functional.threshold_(weights, _below_normal(weights.dtype), 0.0)

    def _read(self, q: torch.Tensor) -> torch.Tensor:
        if self.n_stored == 0:
            return q.new_zeros(*q.shape[:-1], self.value_dim)
        return self._weights(q) @ self.stored_values

    def _write(self, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            before = per_trial_mse(self._read(k), v)
            self._append("stored_keys", k.detach())
            self._append("stored_values", v.detach())
        return before

    def _append(self, name: str, new: torch.Tensor) -> None:
        """Set the buffer ``name`` ``(T, n, d)`` to itself followed by ``new`` ``(T, m, d)``:
        in place, in the rows of its block after it, when it is a window of its block with
        room there; else in a new block of ``2 (n + m)`` rows."""
        stored, block = getattr(self, name), self._blocks[name]
        n, m = stored.shape[-2], new.shape[-2]
        start = _window_start(stored, block)
        if start is None or start + n + m > block.shape[-2]:
            block = stored.new_empty(stored.shape[0], 2 * (n + m), stored.shape[-1])
            block[:, :n] = stored
            start = 0
        block[:, start + n : start + n + m] = new
        self._blocks[name] = block
        setattr(self, name, block[:, start : start + n + m])

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, beta={self.beta}, n_stored={self.n_stored}"


@functools.cache
def _below_normal(dtype: torch.dtype) -> float:
    """The largest float of ``dtype`` under its smallest normal number."""
    tiny = torch.tensor(torch.finfo(dtype).tiny, dtype=dtype)
    return torch.nextafter(tiny, torch.zeros_like(tiny)).item()


def _window_start(stored: torch.Tensor, block: torch.Tensor | None) -> int | None:
    """The row of ``block`` ``(T, rows, d)`` at which ``stored`` ``(T, n, d)`` starts, when
    ``stored`` is the rows ``[start, start + n)`` of it; else None."""
    if (
        block is None
        or stored.dtype != block.dtype
        or stored.device != block.device
        or stored.untyped_storage().data_ptr() != block.untyped_storage().data_ptr()
        or stored.stride() != block.stride()
        or stored.shape[::2] != block.shape[::2]
    ):
        return None
    start, rest = divmod(stored.storage_offset() - block.storage_offset(), block.stride(-2))
    return start if rest == 0 and 0 <= start <= block.shape[-2] - stored.shape[-2] else None
