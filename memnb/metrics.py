"""Retrieval metrics. Each takes ``(..., N, d)`` tensors and returns one number per item."""

from __future__ import annotations

import torch

from . import _validate

__all__ = [
    "average_accuracy",
    "backward_transfer",
    "cosine",
    "cosine_similarity",
    "forgetting_measure",
    "mse",
    "nearest_neighbor_recall",
    "nearest_target_recall",
]


def _pair(retrieved: object, target: object) -> tuple[torch.Tensor, torch.Tensor]:
    retrieved = _validate.float_type("retrieved", retrieved)
    target = _validate.float_type("target", target)
    if retrieved.shape != target.shape:
        raise ValueError(
            f"retrieved and target must have the same shape, got {tuple(retrieved.shape)} "
            f"and {tuple(target.shape)}"
        )
    if retrieved.dim() < 1:
        raise ValueError("retrieved must have at least one dimension (the features), got a scalar")
    _validate.same_device(("retrieved", "target"), retrieved, target)
    return _validate.finite("retrieved", retrieved), _validate.finite("target", target)


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
    a, b = _validate.float_type("a", a), _validate.float_type("b", b)
    _validate.same_device(("a", "b"), a, b)
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

    Whatever the inputs' dtype, the answer is that of cosines computed in float64 (float32
    inputs are exact in float64), so a float32 and a float64 memory holding the same
    reads score the same; most items are decided by a float32 screen first (see
    :func:`_screened_nearest`).
    """
    retrieved = _validate.float_type("retrieved", retrieved)
    candidates = _validate.float_type("candidates", candidates)
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
    _validate.same_device(("retrieved", "candidates"), retrieved, candidates)
    _validate.finite("retrieved", retrieved)
    _validate.finite("candidates", candidates)
    if n == 0 or retrieved.shape[-1] == 0:  # no items, or no features: nothing recalled
        return torch.zeros(retrieved.shape[:-1], dtype=torch.bool, device=retrieved.device)
    if _exact_float32_matmul(retrieved.device):
        hit = _screened_nearest(retrieved, candidates)
    else:
        hit = _nearest_is_own(_float64(retrieved), _float64(candidates)).to(retrieved.device)
    return hit & (retrieved.abs().amax(dim=-1) > 0)


def _nearest_is_own(retrieved: torch.Tensor, candidates: torch.Tensor) -> torch.Tensor:
    """Is item ``i`` closest by cosine to candidate ``i``? (ties: the lowest index wins)."""
    own = torch.arange(retrieved.shape[-2], device=retrieved.device)
    return (_unit(retrieved) @ _unit(candidates).transpose(-2, -1)).argmax(dim=-1) == own


def _unit(x: torch.Tensor) -> torch.Tensor:
    """Rows of ``x`` normalised to norm 1 (zero rows stay zero). Each row is divided by its
    largest entry first, so that tiny or huge rows get their direction too."""
    return torch.nn.functional.normalize(_rescaled(x), dim=-1)


def _screened_nearest(retrieved: torch.Tensor, candidates: torch.Tensor) -> torch.Tensor:
    """:func:`_nearest_is_own` of the vectors in float64, screened in float32.

    Every cosine is first computed in float32, from vectors divided by their largest
    entry, rounded to float32 and normalised there. Its error is then at most
    ``(2 d + 7) u`` (``u = 2**-24``: rounding the inputs, the norms, and a sum of ``d``
    products). Where an item's own score beats every other one by more than twice that
    bound, or trails one by more, the float64 answer is the same. The trials with an
    item within that margin are scored again in float64, so the result is that of
    :func:`_nearest_is_own` on the float64 vectors, at a fraction of its cost. (Zero
    vectors, which count as misses, are not scored again.)
    """
    n, m, d = retrieved.shape[-2], candidates.shape[-2], retrieved.shape[-1]
    if m == 1:  # one candidate: it is the nearest
        return torch.ones(retrieved.shape[:-1], dtype=torch.bool, device=retrieved.device)
    x, y = retrieved.reshape(-1, n, d), candidates.reshape(-1, m, d)
    r, r_nonzero = _unit_float32(x)
    c, _ = _unit_float32(y)
    scores = torch.bmm(r, c.transpose(-2, -1).contiguous())
    own = scores.diagonal(dim1=-2, dim2=-1).clone()
    scores.diagonal(dim1=-2, dim2=-1).fill_(-torch.inf)
    lead = own - scores.amax(dim=-1)
    margin = 2 * (2 * d + 8) * 2.0**-24  # twice the error bound, with one u to spare
    hit = lead > margin
    close = (lead.abs() <= margin) & r_nonzero
    again = close.any(dim=-1).nonzero().squeeze(-1)
    if again.numel():
        hit[again] = _nearest_is_own(_float64(x[again]), _float64(y[again])).to(hit.device)
    return hit.reshape(retrieved.shape[:-1])


def _unit_float32(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows of ``x`` as float32 unit vectors (zero rows stay zero), and which are nonzero.

    Each row is divided by its largest entry in float64 or float32 (narrower floats are
    first converted to float32, exactly), then rounded to float32: one rounding per entry.
    """
    if x.dtype != torch.float64:
        x = x.float()
    scale = x.abs().amax(dim=-1, keepdim=True)
    nonzero = scale > 0
    x = (x / torch.where(nonzero, scale, 1.0)).float()
    return torch.nn.functional.normalize(x, dim=-1), nonzero.squeeze(-1)


def _float64(x: torch.Tensor) -> torch.Tensor:
    """``x`` in float64, moved to the CPU from a device without float64 (Apple's MPS)."""
    return x.to(device="cpu" if x.device.type == "mps" else x.device, dtype=torch.float64)


def _exact_float32_matmul(device: torch.device) -> bool:
    """Are float32 products on ``device`` computed in full float32 (no TF32 or bfloat16)?

    Looks at torch's per-backend setting (``fp32_precision``, which may inherit the global
    one) and its older global one (``get_float32_matmul_precision``, and ``allow_tf32`` on
    CUDA); when torch cannot tell (it refuses a mix of the two), the answer is no.
    """
    if device.type not in ("cpu", "cuda"):
        return False
    cuda = device.type == "cuda"
    backend = torch.backends.cuda if cuda else torch.backends.mkldnn
    try:
        precision = getattr(backend.matmul, "fp32_precision", "none")
        if precision == "none":  # inherits torch's global setting
            precision = getattr(torch.backends, "fp32_precision", "none")
        legacy = torch.get_float32_matmul_precision()
        tf32 = cuda and torch.backends.cuda.matmul.allow_tf32
    except (RuntimeError, AttributeError):
        return False
    return precision in ("none", "ieee") and legacy == "highest" and not tf32


def nearest_target_recall(
    retrieved: torch.Tensor, candidates: torch.Tensor, targets: torch.Tensor
) -> torch.Tensor:
    """Is each retrieved vector closest, by cosine, to its own target among the candidates?

    As :func:`nearest_neighbor_recall`, but item ``i``'s own target is
    ``candidates[..., targets[..., i], :]``, so several items may share one target (all
    the keys of a cluster, say). ``retrieved`` is ``(..., N, d)``, ``candidates``
    ``(..., M, d)`` and ``targets`` integer indices ``(..., N)`` or ``(N,)`` in ``[0, M)``.
    Returns a boolean tensor ``(..., N)``; a zero retrieved vector counts as a miss.
    """
    retrieved = _validate.float_type("retrieved", retrieved)
    candidates = _validate.float_type("candidates", candidates)
    if retrieved.dim() < 2 or candidates.dim() != retrieved.dim():
        raise ValueError(
            f"retrieved (..., N, d) and candidates (..., M, d) must have the same rank >= 2, "
            f"got {tuple(retrieved.shape)} and {tuple(candidates.shape)}"
        )
    if retrieved.shape[:-2] != candidates.shape[:-2] or retrieved.shape[-1] != candidates.shape[-1]:
        raise ValueError(
            f"candidates must have shape (..., M, {retrieved.shape[-1]}) with batch axes "
            f"{tuple(retrieved.shape[:-2])}, got {tuple(candidates.shape)}"
        )
    if not isinstance(targets, torch.Tensor) or targets.dtype not in (torch.int32, torch.int64):
        raise TypeError(f"targets must be an integer torch.Tensor, got {targets!r:.60}")
    n, m = retrieved.shape[-2], candidates.shape[-2]
    if targets.shape not in (retrieved.shape[:-1], (n,)):
        raise ValueError(
            f"targets must have shape {tuple(retrieved.shape[:-1])} or ({n},), "
            f"got {tuple(targets.shape)}"
        )
    _validate.same_device(("retrieved", "candidates"), retrieved, candidates)
    _validate.finite("retrieved", retrieved)
    _validate.finite("candidates", candidates)
    if targets.numel() and (targets.min() < 0 or targets.max() >= m):
        raise ValueError(
            f"targets must index the {m} candidates (0 <= target < {m}), got values in "
            f"[{int(targets.min())}, {int(targets.max())}]"
        )
    if n == 0 or retrieved.shape[-1] == 0:  # no items, or no features: nothing recalled
        return torch.zeros(retrieved.shape[:-1], dtype=torch.bool, device=retrieved.device)
    best = (_unit(retrieved) @ _unit(candidates).transpose(-2, -1)).argmax(dim=-1)
    return (best == targets.to(best.device)) & (retrieved.abs().amax(dim=-1) > 0)


# ---------------------------------------------------------------------------------------------
# Continual learning: summaries of the accuracy matrix R[i, j], the accuracy on task j after
# learning tasks 0..i in order. R has shape (..., T, T): one matrix per trial, say.


def _accuracy_matrix(matrix: object, min_tasks: int) -> torch.Tensor:
    if isinstance(matrix, torch.Tensor):
        r = matrix.detach().to(torch.float64)
    else:
        try:
            r = torch.as_tensor(matrix, dtype=torch.float64)
        except (TypeError, ValueError, RuntimeError) as err:
            raise TypeError(
                f"matrix must be a tensor or array of accuracies, got {type(matrix).__name__}"
            ) from err
    if r.dim() < 2 or r.shape[-1] != r.shape[-2]:
        raise ValueError(f"matrix must have shape (..., T, T), got {tuple(r.shape)}")
    if r.shape[-1] < min_tasks:
        raise ValueError(
            f"matrix must cover at least {min_tasks} tasks for this measure, "
            f"got shape {tuple(r.shape)}"
        )
    return r


def average_accuracy(matrix: torch.Tensor) -> torch.Tensor:
    """Mean accuracy over all T tasks after the last one is learned: ``mean_j R[T-1, j]``.

    ``matrix`` is ``(..., T, T)`` (a tensor or an array); returns ``(...)`` in float64.
    """
    r = _accuracy_matrix(matrix, 1)
    return r[..., -1, :].mean(dim=-1)


def backward_transfer(matrix: torch.Tensor) -> torch.Tensor:
    """Backward transfer (Lopez-Paz & Ranzato, 2017): how learning later tasks changed the
    earlier ones, ``BWT = 1/(T-1) sum_{i < T-1} (R[T-1, i] - R[i, i])``.

    Negative values are forgetting. For two tasks ``BWT = A2 - A1``, where ``A1`` is the
    accuracy on the first task right after learning it and ``A2`` after the second.
    ``matrix`` is ``(..., T, T)`` with ``T >= 2``; returns ``(...)`` in float64.
    """
    r = _accuracy_matrix(matrix, 2)
    final = r[..., -1, :-1]
    just_learned = torch.diagonal(r, dim1=-2, dim2=-1)[..., :-1]
    return (final - just_learned).mean(dim=-1)


def forgetting_measure(matrix: torch.Tensor) -> torch.Tensor:
    """Average forgetting (Chaudhry et al., 2018): for every task but the last, its best
    accuracy at any point after it was learned and before the last task, minus its final
    accuracy, ``f_j = max_{j <= l < T-1} R[l, j] - R[T-1, j]``, averaged over ``j < T-1``.

    Accuracies on a task before it was learned are not counted, as a task is only
    evaluated once it has been learned in that definition. For two tasks this is the
    forgetting score ``A1 - A2``. ``matrix`` is ``(..., T, T)`` with ``T >= 2``; returns
    ``(...)`` in float64.
    """
    r = _accuracy_matrix(matrix, 2)
    t = r.shape[-1]
    learned = torch.ones(t - 1, t - 1, dtype=torch.bool, device=r.device).tril()  # l >= j
    earlier = r[..., :-1, :-1].masked_fill(~learned, float("-inf"))
    best = earlier.amax(dim=-2)
    return (best - r[..., -1, :-1]).mean(dim=-1)
