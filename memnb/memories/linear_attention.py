"""Linear attention: a Hebbian matrix over a feature map of the keys."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import ClassVar

import torch
from torch.nn import functional

from .. import _validate
from .base import BatchedMemory, per_trial_mse

FEATURE_MAPS = ("identity", "elu+1", "dpfp")


def _elu_plus_one(x: torch.Tensor) -> torch.Tensor:
    return functional.elu(x) + 1.0


def _dpfp(x: torch.Tensor, nu: int) -> torch.Tensor:
    """DPFP-nu: with ``r = relu([x, -x])``, the products ``r * roll(r, i)``, i = 1..nu."""
    r = functional.relu(torch.cat([x, -x], dim=-1))
    return torch.cat([r * torch.roll(r, shifts=i, dims=-1) for i in range(1, nu + 1)], dim=-1)


class LinearAttentionMemory(BatchedMemory):
    """Linear attention: ``M <- M + v phi(k)^T`` for every pair; read ``M phi(q)``.

    The memory of a linear transformer (Katharopoulos et al., 2020), seen as a fast
    weight matrix that is written by a sum of outer products (Schlag, Irie and
    Schmidhuber, "Linear Transformers Are Secretly Fast Weight Programmers", ICML 2021).
    The read is not divided by a normaliser ``z^T phi(q)``. The feature map ``phi``:

    - ``"identity"``: ``phi(x) = x`` (the Hebbian :class:`MatrixAssociativeMemory`),
      ``feature_dim = dim``;
    - ``"elu+1"``: ``phi(x) = elu(x) + 1``, positive features, ``feature_dim = dim``;
    - ``"dpfp"``: deterministic parameter-free projection DPFP-nu of Schlag et al.: with
      ``r = relu([x, -x])`` (size ``2 dim``), ``phi(x)`` concatenates ``r * roll(r, i)``
      for ``i = 1..nu``, so ``feature_dim = 2 nu dim``. Larger ``nu`` gives more, sparser
      features and so less crosstalk between keys. ``nu`` must be below ``dim``: a roll
      by ``dim`` pairs ``relu(x_j)`` with ``relu(-x_j)``, whose product is always zero.
      ``nu`` is ignored by the other maps.

    The matrix ``(value_dim, feature_dim)`` starts at zero, so before any write every
    query returns zero. Writing all N pairs at once or one at a time gives the same
    matrix. ``update`` returns the per-trial MSE of the read of ``keys`` just before the
    write.

    Args:
        dim: key dimension d.
        feature_map: ``"identity"``, ``"elu+1"`` or ``"dpfp"``.
        nu: number of rolls of DPFP (``1 <= nu < dim``).
        trials: None for inputs ``(N, d)``, or T for T independent memories, ``(T, N, d)``.
        value_dim: value dimension (defaults to ``dim``).
        device, dtype: where the matrix lives and its floating-point type.
    """

    hyperparameters: ClassVar[Mapping[str, tuple]] = MappingProxyType(
        {"feature_map": FEATURE_MAPS, "nu": (1, 2, 3)}
    )

    def __init__(
        self,
        dim: int,
        feature_map: str = "identity",
        nu: int = 1,
        trials: int | None = None,
        *,
        value_dim: int | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__(dim, value_dim, trials)
        self.feature_map = _validate.one_of("feature_map", feature_map, FEATURE_MAPS)
        self.nu = _validate.positive_int("nu", nu)
        if self.feature_map == "dpfp" and self.nu >= self.key_dim:
            raise ValueError(
                f"nu must be below dim={self.key_dim} for feature_map='dpfp' (a roll by dim "
                f"or more gives zero or repeated features), got nu={self.nu}"
            )
        _validate.float_dtype("dtype", dtype)
        _validate.torch_device("device", device)
        shape = (self.n_trials, self.value_dim, self.feature_dim)
        self.register_buffer("matrix", torch.zeros(shape, dtype=dtype, device=device))

    @property
    def feature_dim(self) -> int:
        """Size of ``phi(k)``: ``dim``, or ``2 nu dim`` for DPFP."""
        return 2 * self.nu * self.key_dim if self.feature_map == "dpfp" else self.key_dim

    @property
    def _phi(self) -> Callable[[torch.Tensor], torch.Tensor]:
        if self.feature_map == "elu+1":
            return _elu_plus_one
        if self.feature_map == "dpfp":
            return lambda x: _dpfp(x, self.nu)
        return lambda x: x

    def features(self, keys: torch.Tensor) -> torch.Tensor:
        """``phi(keys)``: ``(N, dim)`` or ``(T, N, dim)`` -> ``(..., feature_dim)``."""
        return self._unbatch(self._phi(self._batch("keys", keys, self.key_dim)))

    def _state(self) -> torch.Tensor:
        return self.matrix

    def state_size(self) -> int:
        """Floats one trial holds: the ``value_dim x feature_dim`` matrix."""
        return self.value_dim * self.feature_dim

    def _read(self, q: torch.Tensor) -> torch.Tensor:
        return self._phi(q) @ self.matrix.transpose(-2, -1)

    def _write(self, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            before = per_trial_mse(self._read(k), v)
            self.matrix += v.transpose(-2, -1) @ self._phi(k)
        return before

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, feature_map={self.feature_map!r}, nu={self.nu}"
