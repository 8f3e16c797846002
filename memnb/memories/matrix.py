"""Matrix memories: one ``(value_dim, dim)`` matrix per trial, written in closed form."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar

import torch

from .. import _validate
from .base import BatchedMemory, per_trial_mse


class _MatrixMemory(BatchedMemory):
    def __init__(
        self,
        dim: int,
        trials: int | None,
        value_dim: int | None,
        device: torch.device | str | None,
        dtype: torch.dtype,
    ) -> None:
        super().__init__(dim, value_dim, trials)
        _validate.float_dtype("dtype", dtype)
        _validate.torch_device("device", device)
        shape = (self.n_trials, self.value_dim, self.key_dim)
        self.register_buffer("matrix", torch.zeros(shape, dtype=dtype, device=device))

    def _state(self) -> torch.Tensor:
        return self.matrix

    def state_size(self) -> int:
        """Floats one trial holds: the ``value_dim x dim`` matrix."""
        return self.key_dim * self.value_dim

    def _read(self, q: torch.Tensor) -> torch.Tensor:
        return q @ self.matrix.transpose(-2, -1)


class MatrixAssociativeMemory(_MatrixMemory):
    """Hebbian (outer-product) memory: ``M += sum_n v_n k_n^T``; read ``q M^T``.

    The matrix starts at zero, so before any write every query returns zero.
    ``update`` returns the per-trial MSE of the read of ``keys`` just before the write.

    Args:
        dim: key dimension d.
        trials: None for inputs ``(N, d)``, or T for T independent memories, ``(T, N, d)``.
        value_dim: value dimension (defaults to ``dim``).
        device, dtype: where the matrix lives and its floating-point type.
    """

    # Nothing to tune: the Hebbian write has no step size or scale.
    hyperparameters: ClassVar[Mapping[str, tuple]] = MappingProxyType({})

    def __init__(
        self,
        dim: int,
        trials: int | None = None,
        *,
        value_dim: int | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__(dim, trials, value_dim, device, dtype)

    def _write(self, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():  # the write is closed-form: no autograd graph across writes
            before = per_trial_mse(self._read(k), v)
            self.matrix += v.transpose(-2, -1) @ k
        return before


class DeltaRuleMemory(_MatrixMemory):
    """Delta-rule (fast-weight) memory: one gradient step on ``1/2 sum_n |M k_n - v_n|^2``.

    The step is ``M += lr * sum_n (v_n - M k_n) k_n^T``: Widrow-Hoff's rule applied to the
    whole batch at once. It is not DeltaNet's write, which takes one pair at a time with
    L2-normalised keys (:class:`~memnb.memories.deltanet.DeltaNetMemory`); a batch step is
    stable only while ``lr * lambda_max(K^T K) < 2``.
    For one pair the read error shrinks by ``(1 - lr |k|^2)`` per write, so the MSE
    falls by ``(1 - lr |k|^2)^2`` per write and diverges once ``lr |k|^2 > 2``.
    With standard normal keys ``|k|^2`` is about ``dim``, hence the default
    ``lr = 1 / dim`` (``lr=None``), which writes a single pair in about one step.

    ``update`` returns the per-trial MSE of the read of ``keys`` just before the write.

    Args:
        dim: key dimension d.
        lr: step size (None: ``1 / dim``).
        trials: None for inputs ``(N, d)``, or T for T independent memories, ``(T, N, d)``.
        value_dim: value dimension (defaults to ``dim``).
        device, dtype: where the matrix lives and its floating-point type.
    """

    # Plain step sizes for the book's d = 32 to 64: from steps a batch of N = 8 d pairs
    # takes stably (lr < 2 / (sqrt(N) + sqrt(d))^2, about 0.002 at d = 64) to steps
    # beyond 2 / d, where even one pair diverges. For another d, pass tune() a grid.
    hyperparameters: ClassVar[Mapping[str, tuple]] = MappingProxyType(
        {"lr": (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1)}
    )

    def __init__(
        self,
        dim: int,
        lr: float | None = None,
        trials: int | None = None,
        *,
        value_dim: int | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__(dim, trials, value_dim, device, dtype)
        self.lr = 1.0 / self.key_dim if lr is None else _validate.positive_float("lr", lr)

    def _write(self, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            error = v - self._read(k)
            self.matrix += self.lr * (error.transpose(-2, -1) @ k)
        return error.pow(2).mean(dim=(-2, -1))

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, lr={self.lr}"
