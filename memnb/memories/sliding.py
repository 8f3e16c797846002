"""Sliding-window attention: a softmax store that keeps only the last pairs written."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar

import torch

from .. import _validate
from .attention import AttentionMemory


class SlidingWindowMemory(AttentionMemory):
    """An :class:`AttentionMemory` that keeps only the last ``window`` pairs written.

    Read exactly as :class:`AttentionMemory`: ``w = softmax(beta * q K^T)`` over the pairs
    held (raw dot products, no ``1/sqrt(dim)``, so ``beta = 1`` suits standard normal
    keys and ``beta = dim`` unit-norm keys), then ``w V``.

    Write: ``update(keys, values)`` appends the N pairs in order and then drops the
    oldest pairs beyond ``window``, so each trial holds ``min(pairs written, window)``
    pairs: the state, and the cost of a read, stop growing. A pair is recalled exactly as
    by an unbounded store while it is among the last ``window`` written, and not at all
    afterwards. This is the local attention of sliding-window transformers (Longformer,
    Mistral) seen as a memory.

    Before any write the store is empty and a read returns zeros. ``update`` returns the
    per-trial MSE of the read of ``keys`` just before the write.

    Args:
        dim: key dimension d.
        window: the most pairs held (>= 1). None: ``dim * dv / (dim + dv)`` (rounded), the
            window whose state, ``window * (dim + dv)`` floats, equals that of a ``dim x dv``
            matrix memory; ``dim / 2`` when keys and values have the same dimension.
        beta: inverse temperature of the softmax, applied to raw dot products (>= 0).
        trials: None for inputs ``(N, d)``, or T for T independent memories, ``(T, N, d)``.
        value_dim: value dimension (defaults to ``dim``).
        device, dtype: where the store lives and its floating-point type.
    """

    # Around the default beta = 1 (best for standard normal keys), a factor of 2 apart.
    hyperparameters: ClassVar[Mapping[str, tuple]] = MappingProxyType(
        {"beta": (0.25, 0.5, 1.0, 2.0, 4.0)}
    )

    def __init__(
        self,
        dim: int,
        window: int | None = None,
        beta: float = 1.0,
        trials: int | None = None,
        *,
        value_dim: int | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__(dim, beta, trials, value_dim=value_dim, device=device, dtype=dtype)
        if window is None:  # the state of a (dim, value_dim) matrix: window (dim + dv) = dim dv
            window = max(1, round(self.key_dim * self.value_dim / (self.key_dim + self.value_dim)))
        self.window = _validate.positive_int("window", window)

    def _write(self, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        before = super()._write(k, v)
        if self.n_stored > self.window:
            # The last pairs, a window of the same block; the block is copied into a new one
            # once it holds far more rows than the window, so that dropped pairs are freed.
            for name in ("stored_keys", "stored_values"):
                kept = getattr(self, name)[:, -self.window :]
                if self._blocks[name].shape[-2] > 4 * self.window:
                    kept = kept.clone()
                    self._blocks[name] = kept
                setattr(self, name, kept)
        return before

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, window={self.window}"
