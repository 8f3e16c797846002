"""A slot memory behind projections: tokens of one dimension, slots of another."""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar

import torch
from torch import nn

from .. import _validate
from .base import init_generator, mse_and_gradient, per_trial_mse
from .slot import EpisodicMemory

DESIGNS = ("learned", "frozen", "readout")


class ProjectingEpisodicMemory(EpisodicMemory):
    """An :class:`EpisodicMemory` of dimension ``memory_dim`` that stores ``token_dim`` tokens.

    Keys, values and queries are tokens, ``(N, token_dim)`` or ``(T, N, token_dim)``, and
    a read returns tokens. Inside, a fixed random key projection ``P_K`` of shape
    ``(memory_dim, token_dim)`` maps each key (and query) to the memory's space, where
    the slots are read as in :class:`EpisodicMemory`. ``value_projection`` chooses how
    values get in and reads get out:

    - ``"learned"``: values enter as ``P_V v`` with a *learned* ``P_V``, and one write is
      one optimizer step on the memory's own loss ``MSE(read(P_K k), P_V v)``, which
      trains the slots and ``P_V`` together. A read returns ``pinv(P_V) read(P_K q)``.
      This is the naive design: ``P_V = 0`` with zero slot values makes the loss zero.
    - ``"frozen"``: as ``"learned"``, but ``P_V`` is a fixed random matrix.
    - ``"readout"``: no value projection; the slot values live in the memory's space and
      a learned readout ``R`` of shape ``(token_dim, memory_dim)`` (random at first, with
      entries of variance ``1 / memory_dim``) maps a read back to tokens. One write is
      one step on ``MSE(R read(P_K k), v)``, measured in token space.

    The random projections have entries of variance ``1 / token_dim``, so a standard
    normal token becomes a roughly standard normal vector of the memory's space. All
    projections carry the trials axis, ``(T, memory_dim, token_dim)``: ``trials=T`` is T
    independent memories. Learned projections are added to ``self.optimizer`` with
    ``add_param_group`` (same optimizer, same learning rate as the slots).

    Args:
        token_dim: dimension of keys, values and queries.
        memory_dim: dimension of the slots.
        memory_size, lr, beta, trials: as in :class:`EpisodicMemory`.
        value_projection: ``"learned"``, ``"frozen"`` or ``"readout"``.
        seed: an int or ``torch.Generator`` for the slots and projections.
        device, dtype: where the state lives and its floating-point type.
    """

    # As EpisodicMemory's; the dimensions and the design are not tuned.
    hyperparameters: ClassVar[Mapping[str, tuple]] = MappingProxyType(
        {"lr": (0.003, 0.01, 0.03, 0.1, 0.3, 1.0), "beta": (0.3, 1.0, 3.0, 10.0)}
    )

    def __init__(
        self,
        token_dim: int,
        memory_dim: int,
        memory_size: int = 100,
        lr: float = 0.1,
        beta: float = 1.0,
        trials: int | None = None,
        *,
        value_projection: str = "frozen",
        seed: int | torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        if value_projection not in DESIGNS:
            raise ValueError(f"value_projection must be one of {DESIGNS}, got {value_projection!r}")
        token_dim = _validate.positive_int("token_dim", token_dim)
        memory_dim = _validate.positive_int("memory_dim", memory_dim)
        gen = init_generator(seed)
        super().__init__(
            memory_dim, memory_size, lr, beta, trials, seed=gen, device=device, dtype=dtype
        )
        self.token_dim, self.memory_dim = token_dim, memory_dim
        self.value_projection = value_projection
        t, shape = self.n_trials, (self.n_trials, memory_dim, token_dim)
        scale = 1.0 / math.sqrt(token_dim)
        key_proj = torch.randn(shape, generator=gen, dtype=dtype) * scale
        value_proj = torch.randn(shape, generator=gen, dtype=dtype) * scale
        self.register_buffer("key_proj", key_proj.to(device))
        if value_projection == "learned":
            self.value_proj = nn.Parameter(value_proj.to(device))
            self.optimizer.add_param_group({"params": [self.value_proj]})
        elif value_projection == "frozen":
            self.register_buffer("value_proj", value_proj.to(device))
        else:
            readout = torch.randn(t, token_dim, memory_dim, generator=gen, dtype=dtype)
            self.readout = nn.Parameter((readout / math.sqrt(memory_dim)).to(device))
            self.optimizer.add_param_group({"params": [self.readout]})
        # Products with a fixed projection, and the inverse of P_V, kept between the calls
        # that reuse them (see _fixed_product and _inverse).
        self._kept: dict[str, tuple] = {}

    def _tokens(self, name: str, x: object, n: int | None = None) -> torch.Tensor:
        shape = tuple(getattr(x, "shape", ()))
        if len(shape) >= 1 and shape[-1] != self.token_dim:
            raise ValueError(
                f"{name} must have last dimension token_dim={self.token_dim} "
                f"(the memory_dim is {self.memory_dim}), got shape {shape}"
            )
        return self._batch(name, x, self.token_dim, n=n)

    def _project_keys(self, k: torch.Tensor) -> torch.Tensor:
        """Batched tokens ``(T, N, token_dim)`` -> keys inside, ``(T, N, memory_dim)``."""
        return self._fixed_product("keys", k, self.key_proj)

    def _project_targets(self, v: torch.Tensor) -> torch.Tensor:
        """Batched values ``(T, N, token_dim)`` -> ``P_V v``, ``(T, N, memory_dim)``."""
        return self._fixed_product("values", v, self.value_proj)

    def _fixed_product(self, name: str, x: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
        """``x @ matrix^T``, reused while neither changes.

        A protocol writes the same pairs again and again, so the keys (and, for a frozen
        ``P_V``, the values) are projected once. The product is kept with the tensors it
        came from and their version counters, which any in-place change (an optimizer
        step, ``copy_``) advances; a matrix that is learned is never kept, since autograd
        may need its product. The result is the product computed afresh, bit for bit.
        """
        if matrix.requires_grad or x.is_inference() or matrix.is_inference():
            return x @ matrix.transpose(-2, -1)  # inference tensors have no version counter
        stamp = (x, x._version, matrix, matrix._version)
        kept = self._kept.get(name)
        if kept is None or not _same(kept[0], stamp):
            kept = (stamp, x @ matrix.transpose(-2, -1))
            self._kept[name] = kept
        return kept[1]

    def _to_tokens(self, r: torch.Tensor) -> torch.Tensor:
        """Batched reads ``(T, N, memory_dim)`` -> tokens ``(T, N, token_dim)``."""
        if self.value_projection == "readout":
            return r @ self.readout.transpose(-2, -1)
        return r @ self._inverse()[0].to(r.dtype).transpose(-2, -1)

    def _inverse(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The pseudo-inverse of ``P_V``, ``(T, token_dim, memory_dim)``, and its singular
        values, ``(T, min(memory_dim, token_dim))`` ascending, both in float64.

        Both come from one symmetric eigendecomposition of the smaller Gram matrix, ``G =
        P P^T`` (or ``P^T P``, whichever is ``min(m, d)`` square): its eigenvalues are the
        squared singular values, and ``pinv(P) = P^T G^+`` (or ``G^+ P^T``), with ``G^+``
        inverting the eigenvalues above ``eps * max(m, d) * lambda_max`` (smaller ones are
        float64 rounding of the Gram matrix and count as zero, as :func:`torch.linalg.pinv`
        drops tiny singular values). This costs a fraction of an SVD, and the result is
        kept until ``P_V`` changes: a frozen one is decomposed once per memory.
        """
        matrix = self.value_proj
        stamp = None if matrix.is_inference() else (matrix, matrix._version)
        kept = self._kept.get("inverse")
        if kept is not None and stamp is not None and _same(kept[0], stamp):
            return kept[1]
        p = matrix.detach().double()
        wide = p.shape[-2] <= p.shape[-1]  # memory_dim <= token_dim: G = P P^T
        gram = p @ p.mT if wide else p.mT @ p
        eigenvalues, vectors = torch.linalg.eigh(gram)
        eigenvalues = eigenvalues.clamp_min(0.0)
        cutoff = torch.finfo(p.dtype).eps * max(p.shape[-2:]) * eigenvalues[..., -1:]
        inverse = torch.where(eigenvalues > cutoff, 1.0 / eigenvalues, 0.0)
        gram_inverse = (vectors * inverse.unsqueeze(-2)) @ vectors.mT
        pinv = p.mT @ gram_inverse if wide else gram_inverse @ p.mT
        self._kept["inverse"] = (stamp, (pinv, eigenvalues.sqrt()))
        return pinv, eigenvalues.sqrt()

    def singular_values(self) -> torch.Tensor | None:
        """Singular values of ``P_V``, ascending: ``(min(memory_dim, token_dim),)`` or
        ``(T, min(memory_dim, token_dim))``, float64; None for ``"readout"`` (no ``P_V``).

        The smallest one sets how much the pseudo-inverse that brings reads back to tokens
        amplifies a read's error.
        """
        if self.value_projection == "readout":
            return None
        return self._unbatch(self._inverse()[1])

    def project_values(self, values: torch.Tensor) -> torch.Tensor | None:
        """Values as stored inside, ``P_V v``: ``(N, memory_dim)`` or ``(T, N, memory_dim)``.

        None for ``"readout"``, which has no value projection.
        """
        v = self._tokens("values", values)
        if self.value_projection == "readout":
            return None
        return self._unbatch((v @ self.value_proj.transpose(-2, -1)).detach())

    def loss(self, keys: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        """The loss a write of these pairs would descend, without writing: ``()`` or ``(T,)``."""
        k = self._tokens("keys", keys)
        v = self._tokens("values", values, n=k.shape[-2])
        with torch.no_grad():
            return self._unbatch(self._loss(k, v))

    def state_size(self) -> int:
        """Floats one trial holds: the slots, ``memory_size x 2 memory_dim``, plus the key
        projection and the value projection (or the readout), ``memory_dim x token_dim``
        each. Fixed random projections count too: each trial draws and keeps its own.
        """
        projection = self.readout if self.value_projection == "readout" else self.value_proj
        return super().state_size() + self.key_proj[0].numel() + projection[0].numel()

    def value_norm(self) -> torch.Tensor:
        """Per-trial Frobenius norm of ``P_V`` (of the readout for ``"readout"``): ``(T,)``."""
        matrix = self.readout if self.value_projection == "readout" else self.value_proj
        return self._unbatch(matrix.detach().norm(dim=(-2, -1)))

    def forward(self, queries: torch.Tensor) -> torch.Tensor:
        """Read: ``(N, token_dim)`` or ``(T, N, token_dim)`` queries -> tokens, same shape."""
        q = self._tokens("queries", queries)
        with torch.no_grad():
            return self._unbatch(self._to_tokens(self._read(self._project_keys(q))))

    def update(self, keys: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        """One optimizer step; returns the per-trial loss it descended (before the step).

        For ``"learned"`` and ``"frozen"`` that loss is measured in the memory's space,
        for ``"readout"`` in token space.
        """
        k = self._tokens("keys", keys)
        v = self._tokens("values", values, n=k.shape[-2])
        return self._unbatch(self._write(k, v).detach())

    def _gradients(self, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """Set the gradients of the summed :meth:`_loss` on the slots and the learned
        projection (``P_V`` of ``"learned"``, ``R`` of ``"readout"``); return the loss.

        Written out as in :class:`EpisodicMemory`: with ``dR`` the gradient at the read,
        ``"learned"`` gives ``P_V`` the gradient ``-dR^T v``; ``"readout"`` gives ``R``
        ``dY^T r`` and the read ``dY R``, where ``r`` is the read, ``Y = r R^T`` its tokens
        and ``dY`` the gradient at them. The results differ from autograd's by float
        rounding only.
        """
        keys = self._project_keys(k)
        scale, weights, read = self._slot_read(keys)
        if self.value_projection == "readout":
            per_trial, d_tokens = mse_and_gradient(read @ self.readout.transpose(-2, -1), v)
            self.readout.grad = d_tokens.transpose(-2, -1) @ read
            d_read = d_tokens @ self.readout
        else:
            target = self._project_targets(v)
            per_trial, d_read = mse_and_gradient(read, target)
            if self.value_projection == "learned":
                self.value_proj.grad = -(d_read.transpose(-2, -1) @ v)
        self._slot_backward(keys, scale, weights, read, d_read)
        return per_trial

    def _loss(self, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        read = self._read(self._project_keys(k))
        if self.value_projection == "readout":
            return per_trial_mse(read @ self.readout.transpose(-2, -1), v)
        return per_trial_mse(read, self._project_targets(v))

    def extra_repr(self) -> str:
        return (
            f"token_dim={self.token_dim}, memory_dim={self.memory_dim}, "
            f"value_projection={self.value_projection!r}, memory_size={self.memory_size}, "
            f"lr={self.lr}, beta={self.beta}, trials={self.trials}"
        )


def _same(kept: tuple, now: tuple) -> bool:
    """Do two stamps ``(tensor, version, ...)`` name the same tensors at the same versions?"""
    return all(
        a is b if isinstance(a, torch.Tensor) else a == b for a, b in zip(kept, now, strict=True)
    )
