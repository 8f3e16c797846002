"""The modern Hopfield network: the attention read, iterated on its own output."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar

import torch

from .. import _validate
from .attention import AttentionMemory

SETTLED = 1e-4  # a state that moves by less than this fraction of its norm has settled


class ModernHopfieldMemory(AttentionMemory):
    """:class:`AttentionMemory` whose read is repeated: the update of a modern Hopfield network.

    Ramsauer et al. (2021) show that the softmax read of an attention memory is one step
    of a continuous Hopfield network with the energy

        E(x) = -(1 / beta) log sum_mu exp(beta k_mu . x) + |x|^2 / 2

    over the stored keys ``k_mu`` (:meth:`energy`, constants left out). The update
    ``x <- softmax(beta x K^T) K`` never raises it, and a state it no longer moves is a
    fixed point: a stored pattern when ``beta`` separates the patterns well, a blend of
    several (a metastable state) when it does not.

    Read: from the query ``x_0 = q``, ``iterations - 1`` updates among the stored keys,
    ``x_k = softmax(beta x_(k-1) K^T) K``, then the read of the values
    ``softmax(beta x K^T) V``. With ``iterations = 1`` this is :class:`AttentionMemory`'s
    read exactly; when the memory stores patterns as their own values
    (``update(patterns, patterns)``) it is ``iterations`` updates of the network. Write,
    state and ``beta`` (on raw dot products) are those of :class:`AttentionMemory`.

    Args:
        dim: key dimension d.
        beta: inverse temperature of the softmax, applied to raw dot products (>= 0).
        iterations: how many updates a read makes (>= 1).
        trials: None for inputs ``(N, d)``, or T independent memories, ``(T, N, d)``.
        value_dim: value dimension (defaults to ``dim``).
        device, dtype: where the store lives and its floating-point type.
    """

    # beta on raw dot products, as for AttentionMemory; the number of updates is a choice of
    # how long to read, not of what is stored.
    hyperparameters: ClassVar[Mapping[str, tuple]] = MappingProxyType(
        {"beta": (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)}
    )

    def __init__(
        self,
        dim: int,
        beta: float = 1.0,
        iterations: int = 1,
        trials: int | None = None,
        *,
        value_dim: int | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__(dim, beta, trials, value_dim=value_dim, device=device, dtype=dtype)
        self.iterations = _validate.positive_int("iterations", iterations)

    def _update(self, x: torch.Tensor) -> torch.Tensor:
        return self._weights(x) @ self.stored_keys

    def _run(self, q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The read of ``q`` ``(T, N, d)``, how many of the ``iterations`` updates moved the
        state by at least ``SETTLED`` of its norm, and whether one more update would move
        the state reached by less (whether it is, to that precision, a fixed point)."""
        moved = torch.zeros(q.shape[:-1], dtype=torch.int64, device=q.device)
        if self.n_stored == 0:
            reads = q.new_zeros(*q.shape[:-1], self.value_dim)
            return reads, moved, torch.ones_like(moved, dtype=torch.bool)
        x = q
        for k in range(self.iterations + 1):
            new = self._update(x)
            still = (new - x).norm(dim=-1) < SETTLED * x.norm(dim=-1)
            if k == self.iterations - 1:
                reads = self._weights(x) @ self.stored_values
            if k < self.iterations:
                moved += ~still
                x = new
        return reads, moved, still

    def _read(self, q: torch.Tensor) -> torch.Tensor:
        if self.n_stored == 0:
            return q.new_zeros(*q.shape[:-1], self.value_dim)
        x = q
        for _ in range(self.iterations - 1):
            x = self._update(x)
        return self._weights(x) @ self.stored_values

    def settle(self, queries: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Read ``queries`` and say how: ``(reads, steps, settled)``.

        ``reads`` is what ``memory(queries)`` returns; ``steps`` (int64) and ``settled``
        (bool), ``(N,)`` or ``(T, N)``, count the updates (of the ``iterations``) that moved
        the state by at least ``SETTLED`` (1e-4) of its norm, and say whether one more
        update would move the state reached by less: a fixed point to that precision
        (before any write: 0 and True).
        """
        q = self._batch("queries", queries, self.key_dim)
        with torch.no_grad():
            reads, steps, settled = self._run(q)
        return self._unbatch(reads), self._unbatch(steps), self._unbatch(settled)

    def energy(self, states: torch.Tensor) -> torch.Tensor:
        """``E(x) = -(1/beta) logsumexp(beta K x) + |x|^2 / 2`` of ``states`` ``(N, dim)`` or
        ``(T, N, dim)`` over the stored keys: ``(N,)`` or ``(T, N)``, float64.

        Needs ``beta > 0`` and at least one stored pattern (a ``ValueError`` otherwise).
        """
        x = self._batch("states", states, self.key_dim)
        if self.beta == 0:
            raise ValueError("the energy needs beta > 0, got beta=0.0")
        if self.n_stored == 0:
            raise ValueError("the energy needs at least one stored pattern; none is written yet")
        with torch.no_grad():
            x = x.double()
            scores = self.beta * (x @ self.stored_keys.double().transpose(-2, -1))
            energy = -torch.logsumexp(scores, dim=-1) / self.beta + x.pow(2).sum(dim=-1) / 2
        return self._unbatch(energy)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, iterations={self.iterations}"
