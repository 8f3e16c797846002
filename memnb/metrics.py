"""Retrieval metrics. Each takes ``(..., N, d)`` tensors and returns one number per item."""

from __future__ import annotations

import torch

from . import _validate


def _pair(retrieved: object, target: object) -> tuple[torch.Tensor, torch.Tensor]:
    retrieved = _validate.float_tensor("retrieved", retrieved)
    target = _validate.float_tensor("target", target)
    if retrieved.shape != target.shape:
        raise ValueError(
            f"retrieved and target must have the same shape, got {tuple(retrieved.shape)} "
            f"and {tuple(target.shape)}"
        )
    if retrieved.dim() < 1:
        raise ValueError("retrieved must have at least one dimension (the features), got a scalar")
    if retrieved.device != target.device:
        raise ValueError(f"retrieved is on {retrieved.device} but target is on {target.device}")
    return retrieved, target


def mse(retrieved: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the last (feature) axis: ``(..., d) -> (...)``."""
    retrieved, target = _pair(retrieved, target)
    return (retrieved - target).pow(2).mean(dim=-1)


def cosine_similarity(retrieved: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cosine similarity over the last axis: ``(..., d) -> (...)``; 0 where a vector is zero."""
    return cosine(*_pair(retrieved, target))


def cosine(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """:func:`cosine_similarity` without input checks (NaN where an input is not finite).

    Each vector is first divided by its largest absolute entry, so the result is exact
    for vectors whose squared norm would overflow or underflow the dtype.
    """
    a, b = _rescaled(a), _rescaled(b)
    dot = (a * b).sum(dim=-1)
    norms = a.norm(dim=-1) * b.norm(dim=-1)
    return torch.where(norms > 0, dot / torch.where(norms > 0, norms, 1.0), 0.0)


def _rescaled(x: torch.Tensor) -> torch.Tensor:
    scale = x.abs().amax(dim=-1, keepdim=True)
    return x / torch.where(scale > 0, scale, 1.0)


def nearest_neighbor_recall(retrieved: torch.Tensor, candidates: torch.Tensor) -> torch.Tensor:
    """Is each retrieved vector closest, by cosine, to its own target among the candidates?

    ``retrieved`` is ``(..., N, d)`` and ``candidates`` ``(..., M, d)`` with ``M >= N``;
    item ``i``'s own target is ``candidates[..., i, :]`` (the others are distractors).
    Returns a boolean tensor ``(..., N)``. A zero retrieved vector counts as a miss.
    Ties are broken toward the lowest index, as ``argmax`` does.
    """
    retrieved = _validate.float_tensor("retrieved", retrieved)
    candidates = _validate.float_tensor("candidates", candidates)
    if retrieved.dim() < 2 or candidates.dim() != retrieved.dim():
        raise ValueError(
            f"retrieved (..., N, d) and candidates (..., M, d) must have the same rank >= 2, "
            f"got {tuple(retrieved.shape)} and {tuple(candidates.shape)}"
        )
    n, m = retrieved.shape[-2], candidates.shape[-2]
    same_batch = retrieved.shape[:-2] == candidates.shape[:-2]
    if not same_batch or retrieved.shape[-1] != candidates.shape[-1] or m < n:
        raise ValueError(
            f"candidates must have shape (..., M >= {n}, {retrieved.shape[-1]}) with batch axes "
            f"{tuple(retrieved.shape[:-2])}, got {tuple(candidates.shape)}"
        )
    if retrieved.device != candidates.device:
        raise ValueError(
            f"retrieved is on {retrieved.device} but candidates on {candidates.device}"
        )
    r = torch.nn.functional.normalize(retrieved, dim=-1)
    c = torch.nn.functional.normalize(candidates, dim=-1)
    best = (r @ c.transpose(-2, -1)).argmax(dim=-1)
    own = torch.arange(n, device=retrieved.device)
    hit = best == own
    return hit & (retrieved.norm(dim=-1) > 0)
