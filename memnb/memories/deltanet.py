"""DeltaNet and Gated DeltaNet: a matrix written pair by pair with the delta rule."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar

import torch
from torch.nn import functional

from .. import _validate
from .base import BatchedMemory, per_trial_mse

CHUNK = 64  # pairs solved at once by the chunked (WY) form of the recurrence


def _unit_rate(name: str, value: object) -> float:
    """Return ``value`` as a float in ``(0, 1]``, or raise naming ``name``."""
    value = _validate.positive_float(name, value)
    if value > 1:
        raise ValueError(f"{name} must be a number in (0, 1], got {value}")
    return value


def _same(kept: tuple, now: tuple) -> bool:
    """Do two stamps ``(tensor, version, ...)`` name the same tensor at the same version?"""
    return all(
        a is b if isinstance(a, torch.Tensor) else a == b for a, b in zip(kept, now, strict=True)
    )


def _unit_rows(x: torch.Tensor) -> torch.Tensor:
    """Rows of ``x`` (last axis) scaled to L2 norm one; a zero row stays zero."""
    return functional.normalize(x, dim=-1)


class _DeltaNet(BatchedMemory):
    """The gated delta rule over one ``(value_dim, dim)`` matrix per trial.

    Per pair, with ``k`` normalised: ``M <- alpha M (I - beta k k^T) + beta v k^T``.
    """

    def __init__(
        self,
        dim: int,
        beta: float,
        alpha: float,
        trials: int | None,
        value_dim: int | None,
        device: torch.device | str | None,
        dtype: torch.dtype,
    ) -> None:
        super().__init__(dim, value_dim, trials)
        self.beta = _unit_rate("beta", beta)
        self.alpha = _unit_rate("alpha", alpha)
        _validate.float_dtype("dtype", dtype)
        _validate.torch_device("device", device)
        shape = (self.n_trials, self.value_dim, self.key_dim)
        self.register_buffer("matrix", torch.zeros(shape, dtype=dtype, device=device))
        self._kept: tuple | None = None  # what a pass needs of its keys (see _key_part)

    def _state(self) -> torch.Tensor:
        return self.matrix

    def state_size(self) -> int:
        """Floats one trial holds: the ``value_dim x dim`` matrix."""
        return self.key_dim * self.value_dim

    def _read(self, q: torch.Tensor) -> torch.Tensor:
        return _unit_rows(q) @ self.matrix.transpose(-2, -1)

    def _write(self, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            unit, systems = self._key_part(k)
            read = unit @ self.matrix.transpose(-2, -1)
            before = per_trial_mse(read, v)
            for i, start in enumerate(range(0, k.shape[-2], CHUNK)):
                part = slice(start, start + CHUNK)
                # One chunk: the read just made is the product the chunk needs.
                now = read if len(systems) == 1 else None
                self._write_chunk(unit[:, part], v[:, part], systems[i], now)
        return before

    def _key_part(self, k: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The unit keys ``(T, N, d)`` and, per chunk, the lower unitriangular system
        of :meth:`_write_chunk`, which depend on the keys alone.

        A protocol writes the same keys pass after pass, so both are kept with the keys
        tensor they came from and its version counter (which any in-place change
        advances) and reused while the next write passes the same tensor: the numbers
        are the ones computed afresh, bit for bit.
        """
        stamp = None if k.is_inference() else (k, k._version, self.beta, self.alpha)
        kept = self._kept
        if stamp is not None and kept is not None and _same(kept[0], stamp):
            return kept[1]
        unit = _unit_rows(k)
        chunks = range(0, k.shape[-2], CHUNK)
        systems = [self._system(unit[:, start : start + CHUNK]) for start in chunks]
        self._kept = None if stamp is None else (stamp, (unit, systems))
        return unit, systems

    def _system(self, k: torch.Tensor) -> torch.Tensor:
        """``I + tril(beta alpha^(t-j) (k_t . k_j), -1)`` for unit keys ``(T, C, d)``."""
        c = k.shape[-2]
        steps = torch.arange(1, c + 1, device=k.device, dtype=torch.float64)
        gaps = (steps[:, None] - steps[None, :]).clamp(min=0)  # t - j where j <= t
        decay = (self.alpha**gaps).to(k.dtype)  # alpha^(t-j), (C, C)
        gram = k @ k.transpose(-2, -1)  # (T, C, C)
        system = torch.tril(self.beta * decay * gram, diagonal=-1)
        return system + torch.eye(c, dtype=k.dtype, device=k.device)

    def _write_chunk(
        self,
        k: torch.Tensor,
        v: torch.Tensor,
        system: torch.Tensor,
        read: torch.Tensor | None = None,
    ) -> None:
        """Apply the recurrence to the ``C`` pairs of unit keys ``k`` and values ``v``
        (``(T, C, d)``), in order; ``system`` is :meth:`_system` of ``k`` and ``read``
        (if given) the read ``M_0 k`` of the keys, ``(T, C, value_dim)``.

        Written as ``M_t = alpha M_{t-1} + u_t k_t^T`` with the new content
        ``u_t = beta (v_t - alpha M_{t-1} k_t)``. Unrolling ``M_{t-1}`` from the state
        ``M_0`` before the chunk gives the lower unitriangular system

            u_t + beta sum_{j<t} alpha^(t-j) (k_t . k_j) u_j = beta (v_t - alpha^t M_0 k_t),

        solved for all ``u`` at once; then ``M_C = alpha^C M_0 + sum_j alpha^(C-j) u_j k_j^T``.
        This is the WY (UT-transform) form of the delta rule: the same numbers as C
        single steps, up to float rounding, in a few batched products.
        """
        c = k.shape[-2]
        steps = torch.arange(1, c + 1, device=k.device, dtype=torch.float64)
        alpha_t = (self.alpha**steps).to(k.dtype)[:, None]  # alpha^t, (C, 1)
        alpha_rest = (self.alpha ** (c - steps)).to(k.dtype)[:, None]  # alpha^(C-j), (C, 1)
        read = k @ self.matrix.transpose(-2, -1) if read is None else read
        target = self.beta * (v - alpha_t * read)
        new = torch.linalg.solve_triangular(system, target, upper=False, unitriangular=True)
        last = self.alpha**c
        self.matrix.mul_(last).add_((alpha_rest * new).transpose(-2, -1) @ k)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, beta={self.beta}"


class DeltaNetMemory(_DeltaNet):
    """DeltaNet: a matrix written pair by pair with the delta rule on unit keys.

    One ``update(keys, values)`` is one pass over the N pairs in the given order. Each
    key is scaled to norm one, ``k^ = k / |k|``, and each pair writes

        M <- M + beta (v - M k^) k^T

    (Schlag, Irie and Schmidhuber, "Linear Transformers Are Secretly Fast Weight
    Programmers", ICML 2021). The read ``M k^`` of a key moves a fraction ``beta`` of the
    way to its value: with ``beta = 1`` the last value written under a key replaces what
    the key held, which a Hebbian sum cannot do. Each step multiplies ``M`` by
    ``I - beta k^ k^T``, whose eigenvalues are ``1 - beta`` and 1, so for ``beta`` in
    ``(0, 1]`` no step increases the distance between two states: the write is stable
    whatever the keys' scale. Unlike :class:`DeltaRuleMemory`, which takes one gradient
    step on all N pairs at once, the pairs are written one after the other. The pass is
    computed in chunks of ``CHUNK`` pairs by the equivalent WY form (same result to float
    rounding); what that form needs of the keys alone is kept while the next write passes
    the same, unchanged keys tensor (the numbers are those computed afresh, bit for bit).

    Read: ``M q^`` with the query scaled to norm one. The matrix starts at zero, so
    before any write every query returns zero; a zero key or query is left at zero (it
    writes nothing and reads zero). ``update`` returns the per-trial MSE of the read of
    ``keys`` just before the write.

    Args:
        dim: key dimension d.
        beta: writing strength, in ``(0, 1]``.
        trials: None for inputs ``(N, d)``, or T for T independent memories, ``(T, N, d)``.
        value_dim: value dimension (defaults to ``dim``).
        device, dtype: where the matrix lives and its floating-point type.
    """

    hyperparameters: ClassVar[Mapping[str, tuple]] = MappingProxyType(
        {"beta": (0.1, 0.25, 0.5, 1.0)}
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
        super().__init__(dim, beta, 1.0, trials, value_dim, device, dtype)


class GatedDeltaNetMemory(_DeltaNet):
    """Gated DeltaNet: the delta rule of :class:`DeltaNetMemory` with a forgetting gate.

    Each pair, in order, with the key scaled to norm one, writes

        M <- alpha M (I - beta k^ k^T) + beta v k^T

    (Yang, Kautz and Hatamizadeh, "Gated Delta Networks: Improving Mamba2 with Delta
    Rule", ICLR 2025). The gate ``alpha`` decays everything stored by that factor per
    pair written, so a pair written ``n`` pairs ago keeps about ``alpha^n`` of its read;
    ``alpha = 1`` is :class:`DeltaNetMemory` exactly. Here ``alpha`` and ``beta`` are
    constants (the paper makes them functions of the input).

    Read: ``M q^``. ``update`` returns the per-trial MSE of the read of ``keys`` just
    before the write.

    Args:
        dim: key dimension d.
        beta: writing strength, in ``(0, 1]``.
        alpha: fraction of the matrix kept at each pair, in ``(0, 1]``.
        trials: None for inputs ``(N, d)``, or T for T independent memories, ``(T, N, d)``.
        value_dim: value dimension (defaults to ``dim``).
        device, dtype: where the matrix lives and its floating-point type.
    """

    hyperparameters: ClassVar[Mapping[str, tuple]] = MappingProxyType(
        {"beta": (0.25, 0.5, 1.0), "alpha": (0.9, 0.95, 0.99, 1.0)}
    )

    def __init__(
        self,
        dim: int,
        beta: float = 1.0,
        alpha: float = 1.0,
        trials: int | None = None,
        *,
        value_dim: int | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__(dim, beta, alpha, trials, value_dim, device, dtype)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, alpha={self.alpha}"
