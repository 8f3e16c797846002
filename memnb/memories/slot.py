"""Slot memory: learnable keys and values, a softmax read, written by gradient steps."""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar

import torch
from torch import nn

from .. import _validate
from . import _optim
from .base import BatchedMemory, init_generator, mse_and_gradient, per_trial_mse

_OPTIMIZERS = {"adam": _optim.Adam, "sgd": _optim.SGD}


def _make_optimizer(name: str, params: list[nn.Parameter], lr: float) -> _optim.Optimizer:
    """``name``'s optimizer over ``params``: the update of torch's Adam or SGD
    (:mod:`memnb.memories._optim` says why not torch's classes themselves)."""
    return _OPTIMIZERS[name](params, lr=lr)


class EpisodicMemory(BatchedMemory):
    """A memory of ``memory_size`` slots, each a learnable key and a learnable value.

    Read: ``w = softmax(beta * q K^T / sqrt(dim))`` over the slots, then ``w V``.
    The ``1/sqrt(dim)`` keeps the scores of unit-variance Gaussian keys at unit scale
    whatever the dimension, so ``beta`` alone sets how sharp the read is.

    Write: ``update(keys, values)`` is exactly one step of ``self.optimizer`` on the mean
    squared error between the read of ``keys`` and ``values``. With ``trials=T`` the loss
    is the *sum* of the T per-trial MSEs, so each trial's gradient is the one it would
    have alone; Adam and SGD act elementwise, so the trials never mix.

    Slot keys and values start as independent standard normal draws, so before any
    write a query returns a random mixture of random values.

    Defaults: Adam with ``lr=0.1``. Adam moves each slot coordinate by about ``lr`` per
    step whatever the gradient's scale, and the read averages slots whose weights sum
    to one, so the read also moves about ``lr`` per coordinate and step. A new
    unit-variance target is then about 0.5-1 away per coordinate, and 5 to 10 steps
    close 90 % of the squared error (measured in the adaptation chapter). Plain SGD
    would need a learning rate scaled by ``dim / |w|^2``, which changes with the
    dimension and the sharpness of the read.

    Args:
        dim: key dimension d.
        memory_size: number of slots S.
        lr: learning rate of the internal optimizer.
        beta: inverse temperature of the softmax read.
        trials: None for one memory with inputs ``(N, d)``, or T independent memories
            with inputs ``(T, N, d)``.
        value_dim: value dimension (defaults to ``dim``).
        optimizer: ``"adam"`` or ``"sgd"``: the updates of ``torch.optim.Adam`` and
            ``torch.optim.SGD``, bit for bit (see :mod:`memnb.memories._optim`).
        seed: an int or ``torch.Generator`` for the initial slots (None: torch's global RNG).
        device, dtype: where the slots live and their floating-point type.
    """

    # Grids around the defaults on a log scale; memory_size is a budget, not tuned.
    hyperparameters: ClassVar[Mapping[str, tuple]] = MappingProxyType(
        {"lr": (0.003, 0.01, 0.03, 0.1, 0.3, 1.0), "beta": (0.3, 1.0, 3.0, 10.0)}
    )

    def __init__(
        self,
        dim: int,
        memory_size: int = 100,
        lr: float = 0.1,
        beta: float = 1.0,
        trials: int | None = None,
        *,
        value_dim: int | None = None,
        optimizer: str = "adam",
        seed: int | torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__(dim, value_dim, trials)
        self.memory_size = _validate.positive_int("memory_size", memory_size)
        self.lr = _validate.positive_float("lr", lr)
        self.beta = _validate.positive_float("beta", beta, allow_zero=True)
        if optimizer not in _OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {sorted(_OPTIMIZERS)}, got {optimizer!r}")
        _validate.float_dtype("dtype", dtype)
        _validate.torch_device("device", device)
        gen = init_generator(seed)
        t, s = self.n_trials, self.memory_size
        keys = torch.randn(t, s, self.key_dim, generator=gen, dtype=dtype)
        values = torch.randn(t, s, self.value_dim, generator=gen, dtype=dtype)
        self.slot_keys = nn.Parameter(keys.to(device))
        self.slot_values = nn.Parameter(values.to(device))
        self._scratch_tensors: dict[str, torch.Tensor] = {}  # see _scratch
        self.optimizer = _make_optimizer(optimizer, [self.slot_keys, self.slot_values], self.lr)

    def _state(self) -> torch.Tensor:
        return self.slot_values

    def state_size(self) -> int:
        """Floats one trial holds: ``memory_size x (dim + value_dim)``, keys and values."""
        return self.memory_size * (self.key_dim + self.value_dim)

    def _weights(self, q: torch.Tensor) -> torch.Tensor:
        """Slot weights of a batched query ``(T, N, d)``: ``(T, N, memory_size)``."""
        # Scaling the N x d queries costs less than scaling the N x memory_size scores.
        scores = (q * (self.beta / math.sqrt(self.key_dim))) @ self.slot_keys.transpose(-2, -1)
        return torch.softmax(scores, dim=-1)

    def _read(self, q: torch.Tensor) -> torch.Tensor:
        return self._weights(q) @ self.slot_values

    def _write(self, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        if not self._closed_form():  # a loss or read without written-out gradients
            return self._autograd_write(k, v)
        self.optimizer.zero_grad(set_to_none=True)
        with torch.no_grad():
            per_trial = self._gradients(k, v)
        self.optimizer.step()
        return per_trial

    def _closed_form(self) -> bool:
        """Are ``_gradients`` those of ``_loss``? True when the class that defines the loss
        also wrote out its gradients and the read is this class's; a subclass that
        changes either alone is differentiated by autograd."""

        def owner(name: str) -> type:
            return next(c for c in type(self).__mro__ if name in vars(c))

        return owner("_gradients") is owner("_loss") and owner("_read") is EpisodicMemory

    def _gradients(self, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """Set the gradients of the summed per-trial MSE of the read of ``k`` against ``v``
        on the slot keys and values (:meth:`_slot_backward`); return the per-trial MSE."""
        scale, weights, read = self._slot_read(k)
        per_trial, d_read = mse_and_gradient(read, v)
        self._slot_backward(k, scale, weights, read, d_read)
        return per_trial

    def _slot_read(self, k: torch.Tensor) -> tuple[float, torch.Tensor, torch.Tensor]:
        """The read of keys ``(T, N, d)`` as :meth:`_read` makes it, with what its gradients
        need: ``(c, weights (T, N, S), read (T, N, d_v))``, ``c = beta / sqrt(dim)``.

        The scale ``c`` multiplies the S x d slot keys, not the N x d keys.
        """
        scale = self.beta / math.sqrt(self.key_dim)
        scaled_keys = (self.slot_keys * scale).transpose(-2, -1)  # (T, d, S)
        t, n, s = k.shape[0], k.shape[1], self.memory_size
        weights = torch.bmm(k, scaled_keys, out=self._scratch("weights", (t, n, s), k))
        torch.softmax(weights, dim=-1, out=weights)
        read = self._scratch("read", (t, n, self.value_dim), k)
        return scale, weights, torch.bmm(weights, self.slot_values, out=read)

    def _scratch(self, name: str, shape: tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
        """A tensor of ``shape`` (``like``'s dtype and device) that a write fills and uses
        before it returns, kept for the next write of the same size.

        A write of N pairs needs a few N x S and N x d intermediates; allocating them anew
        on every write made the allocator hand their pages back to the system and fault
        them in again (about a third of a write's time at N = 512). Nothing read from the
        memory ever returns one of these tensors.
        """
        kept, wanted = self._scratch_tensors.get(name), (shape, like.dtype, like.device)
        if kept is None or (kept.shape, kept.dtype, kept.device) != wanted:
            kept = torch.empty(shape, dtype=like.dtype, device=like.device)
            self._scratch_tensors[name] = kept
        return kept

    def _slot_backward(
        self,
        k: torch.Tensor,
        scale: float,
        weights: torch.Tensor,
        read: torch.Tensor,
        d_read: torch.Tensor,
    ) -> None:
        """Set the slots' gradients from ``d_read``, the gradient of the loss at the read.

        The gradients autograd would find, written out: with ``R = W V_s`` and ``W =
        softmax(c k K_s^T)``, the slot values get ``W^T dR`` and the slot keys ``c G^T k``
        with ``G = W * (dR V_s^T - s)``, where ``s`` is the row sum of ``W * (dR V_s^T)``,
        which equals ``dR . R`` row by row (an N x d product instead of another N x S
        one). The matrix products are autograd's (three of N x S x d); the results differ
        from autograd's by float rounding only.
        """
        shift = torch.linalg.vecdot(d_read, read).unsqueeze_(-1)  # (T, N, 1)
        values_t = self.slot_values.transpose(-2, -1)
        d_scores = torch.bmm(d_read, values_t, out=self._scratch("d_scores", weights.shape, k))
        d_scores.sub_(shift).mul_(weights)
        self.slot_values.grad = torch.bmm(weights.transpose(-2, -1), d_read)
        self.slot_keys.grad = torch.bmm(d_scores.transpose(-2, -1), k).mul_(scale)

    def _autograd_write(self, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        with torch.enable_grad():  # a write is a gradient step, even inside no_grad()
            self.optimizer.zero_grad(set_to_none=True)
            per_trial = self._loss(k, v)
            per_trial.sum().backward()
            self.optimizer.step()
        return per_trial

    def _loss(self, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """Per-trial loss that one write descends; subclasses may extend it."""
        return per_trial_mse(self._read(k), v)

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, memory_size={self.memory_size}, lr={self.lr}, "
            f"beta={self.beta}, optimizer={type(self.optimizer).__name__}"
        )
