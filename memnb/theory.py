"""Closed forms that the measurements are held against."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from . import _validate

__all__ = [
    "attention_weight",
    "delta_rule_adaptation",
    "dense_capacity",
    "gram_eigenvalue_edges",
    "hebbian_adaptation",
    "hebbian_cosine",
    "hebbian_recall",
    "hopfield_critical_load",
    "hopfield_overlap",
    "least_squares_cosine",
    "modern_capacity",
    "stable_lr",
]


def _start_and_steps(
    frame: pd.DataFrame, by: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: its run's MSE at step 0, the step, and the run's ``|k|^2``.

    A run is one trial of one setting: the rows that share the ``by`` columns.
    """
    keys = list(by)
    _validate.require_columns(frame, [*keys, "step", "mse", "key_sq_norm"])
    mse0 = frame[frame["step"] == 0].set_index(keys)["mse"]
    if not mse0.index.is_unique:
        raise ValueError(f"the columns {keys} do not identify one run per trial; pass by=")
    start = np.asarray(frame.set_index(keys).index.map(mse0), dtype=float)
    return start, frame["step"].to_numpy(), frame["key_sq_norm"].to_numpy()


def delta_rule_adaptation(
    frame: pd.DataFrame, lr: float | pd.Series, by: Sequence[str] = ("memory", "trial")
) -> pd.Series:
    """Predicted MSE of :class:`~memnb.DeltaRuleMemory` in the adaptation protocol.

    One write of ``(k, v)`` changes the read of ``k`` by ``lr |k|^2 (v - M k)``, so the
    error vector is multiplied by ``(1 - lr |k|^2)`` and the MSE by its square:
    ``MSE_t = (1 - lr |k|^2)^(2 t) MSE_0``. ``frame`` is an adaptation frame (columns
    ``trial, step, mse, key_sq_norm``); the result is aligned with its rows. ``lr`` is one
    number, or a column of ``frame`` (one learning rate per row, as in a sweep); ``by``
    names the columns that identify one run (e.g. ``("lr", "trial")`` in an lr sweep).
    """
    start, step, key_sq_norm = _start_and_steps(frame, by)
    factor = (1.0 - _rates(lr, len(frame)) * key_sq_norm) ** 2
    return pd.Series(start * factor**step, index=frame.index, name="mse_theory")


def hebbian_adaptation(frame: pd.DataFrame, by: Sequence[str] = ("memory", "trial")) -> pd.Series:
    """Predicted MSE of :class:`~memnb.MatrixAssociativeMemory` in the adaptation protocol.

    From ``M = 0``, ``t`` writes of ``(k, v)`` give ``M = t v k^T`` and the read
    ``M k = t |k|^2 v``, so ``MSE_t = (t |k|^2 - 1)^2 MSE_0`` with ``MSE_0 = |v|^2 / d``.
    The write never looks at the error: it adds the same outer product every time.
    """
    start, step, key_sq_norm = _start_and_steps(frame, by)
    return pd.Series(start * (step * key_sq_norm - 1.0) ** 2, index=frame.index, name="mse_theory")


# ---------------------------------------------------------------------------------------------
# Capacity: N random pairs written at once, then recalled by the nearest stored value.


def _numbers(name: str, value: object, *, allow_zero: bool = False) -> np.ndarray:
    """``value`` (a number or an array of them) as a float array of finite numbers > 0
    (>= 0 with ``allow_zero``); raise naming ``name`` otherwise."""
    try:
        if isinstance(value, str | bytes):
            raise TypeError
        numbers = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{name} must be a number or an array of numbers, got {value!r:.60}"
        ) from error
    low = numbers >= 0 if allow_zero else numbers > 0
    if not np.all(np.isfinite(numbers) & low):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must hold finite numbers {bound}, got {value!r:.60}")
    return numbers


def _rates(lr: object, rows: int) -> np.ndarray:
    """``lr`` as a float array: one positive number, or one per row of the frame."""
    rates = _numbers("lr", lr)
    if rates.shape not in ((), (rows,)):
        raise ValueError(
            f"lr must be one number or one per row of the frame ({rows},), got shape {rates.shape}"
        )
    return rates


def _items(n_items: object) -> np.ndarray:
    n = np.asarray(n_items, dtype=float)
    if n.size == 0 or not np.all(np.isfinite(n)) or np.any(n < 1):
        raise ValueError(f"n_items must be numbers of items >= 1, got {n_items!r}")
    return n


def hebbian_cosine(n_items: object, dim: int) -> np.ndarray:
    """Cosine between the Hebbian read of a stored key and its value: ``sqrt(d / (d + N - 1))``.

    For N pairs of independent unit-norm random keys and values in ``dim`` dimensions, the
    read of key i is ``v_i + sum_{j != i} (k_j . k_i) v_j``: the value plus N - 1 others,
    each with a weight of variance ``1 / d``. Its squared norm is about ``1 + (N - 1) / d``
    and its component along ``v_i`` about 1.
    """
    n = _items(n_items)
    _validate.positive_float("dim", dim)
    return np.sqrt(dim / (dim + n - 1.0))


def hebbian_recall(n_items: object, dim: int, nodes: int = 101) -> np.ndarray:
    """Gaussian approximation of the Hebbian memory's nearest-neighbour recall accuracy.

    With unit-norm random keys and values, the read of key i scores ``s = 1 + e`` against
    its own value, ``e`` normal with variance ``(N - 1) / d^2``, and each of the N - 1
    other values scores about normal, mean 0 and variance ``2 / d + (N - 2) / d^2``.
    Treating these N scores as independent, the item is recalled with probability
    ``E_s[Phi(s / sigma_wrong)^(N - 1)]``, computed by Gauss-Hermite quadrature over ``s``.
    """
    n = _items(n_items)[..., None]
    _validate.positive_float("dim", dim)
    nodes = _validate.positive_int("nodes", nodes)
    z, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / math.sqrt(2.0 * math.pi)
    correct = 1.0 + np.sqrt(n - 1.0) / dim * z
    sigma_wrong = np.sqrt(2.0 / dim + np.maximum(n - 2.0, 0.0) / dim**2)
    log_phi = torch.special.log_ndtr(torch.as_tensor(correct / sigma_wrong)).numpy()
    return (w * np.exp((n - 1.0) * log_phi)).sum(axis=-1)


def least_squares_cosine(n_items: object, dim: int) -> np.ndarray:
    """Cosine of the least-squares read (the delta rule run to convergence): ``min(1, sqrt(d/N))``.

    Up to N = d random keys are linearly independent and the converged matrix maps every
    key to its value exactly. Beyond, the reads are the values projected onto a random
    d-dimensional subspace of the N-dimensional item space, which keeps a fraction d / N
    of each value's squared norm and its component along the value.
    """
    n = _items(n_items)
    _validate.positive_float("dim", dim)
    return np.sqrt(np.minimum(1.0, dim / n))


def gram_eigenvalue_edges(
    n_items: object, dim: int, key_sq_norm: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest nonzero eigenvalue of ``K^T K`` for N random keys (large d).

    The Marchenko-Pastur edges ``s (1 -/+ sqrt(N / d))^2`` for keys of squared norm ``s``
    (``s = 1`` for unit keys, about ``d`` for standard normal ones). A full-batch delta-rule
    write multiplies the error along an eigenvector by ``1 - lr * lambda``; it is stable
    when ``lr * lambda_max < 2``, and converges at a rate set by ``lambda_min / lambda_max``.
    """
    ratio = np.sqrt(_items(n_items) / _validate.positive_float("dim", dim))
    _validate.positive_float("key_sq_norm", key_sq_norm)
    return key_sq_norm * (1.0 - ratio) ** 2, key_sq_norm * (1.0 + ratio) ** 2


def stable_lr(
    n_items: int, dim: int, *, context_dim: int | None = None, key_rank: int | None = None
) -> float:
    """A delta-rule step for bulk writes of up to ``n_items`` keys of
    :func:`memnb.data.context_pairs`: ``1 / lambda_max`` of ``K^T K``.

    The keys span ``r = min(dim, context_dim, key_rank)`` dimensions with squared norm
    about ``dim``, so ``lambda_max`` is near the Marchenko-Pastur edge
    ``dim (1 + sqrt(N / r))^2`` (:func:`gram_eigenvalue_edges`); a step below
    ``2 / lambda_max`` shrinks the error along every direction.
    """
    n_items = _validate.positive_int("n_items", n_items)
    dim = _validate.positive_int("dim", dim)
    r = dim if context_dim is None else min(dim, _validate.positive_int("context_dim", context_dim))
    r = r if key_rank is None else min(r, _validate.positive_int("key_rank", key_rank))
    return 1.0 / (dim * (1.0 + (n_items / r) ** 0.5) ** 2)


def attention_weight(
    n_items: object, beta: float, dim: int, key_sq_norm: float = 1.0
) -> np.ndarray:
    """Softmax weight that an attention read of a stored key puts on its own pair.

    The own score is ``beta s`` (``s = |k|^2``); the N - 1 others are about normal with
    variance ``beta^2 s^2 / d``, so each contributes ``exp(beta^2 s^2 / (2 d))`` on average
    to the softmax sum: ``w = 1 / (1 + (N - 1) exp(beta^2 s^2 / (2 d) - beta s))``. The
    average is a good stand-in for the sum while ``N`` is large next to
    ``exp(beta^2 s^2 / d)``.
    """
    n = _items(n_items)
    _validate.positive_float("dim", dim)
    _validate.positive_float("key_sq_norm", key_sq_norm)
    _numbers("beta", beta, allow_zero=True)
    x = beta * key_sq_norm
    return 1.0 / (1.0 + (n - 1.0) * np.exp(x * x / (2.0 * dim) - x))


# ---------------------------------------------------------------------------------------------
# Hopfield networks: the classical capacity, dense and modern networks


def _ags_load(y: float) -> float:
    """The load at which the retrieval state has ``m = erf(y)`` (Amit, Gutfreund and
    Sompolinsky's equations at zero temperature, the noise eliminated)."""
    return 0.5 * (math.erf(y) / y - 2.0 / math.sqrt(math.pi) * math.exp(-y * y)) ** 2


def _ags_peak() -> float:
    """The ``y`` where :func:`_ags_load` is largest (golden-section search on [1, 2])."""
    low, high = 1.0, 2.0
    for _ in range(100):
        a, b = high - (high - low) / 1.618034, low + (high - low) / 1.618034
        if _ags_load(a) < _ags_load(b):
            low = a
        else:
            high = b
    return (low + high) / 2


def hopfield_critical_load() -> float:
    """The load P / d beyond which the classical network has no retrieval state, for
    large d: about 0.138 (Amit, Gutfreund and Sompolinsky 1985), computed here as the
    largest load their zero-temperature equations allow."""
    return _ags_load(_ags_peak())


def hopfield_overlap(load: object) -> np.ndarray:
    """The overlap ``m`` of the classical network's retrieval state at ``load`` = P / d.

    Amit, Gutfreund and Sompolinsky's zero-temperature equations for d -> infinity,
    ``m = erf(y)`` with ``y = m / sqrt(2 load r)`` and ``sqrt(r) = 1 / (1 - C)``,
    ``C = sqrt(2 / (pi load r)) exp(-y^2)``, reduce to
    ``load = (erf(y) / y - 2 exp(-y^2) / sqrt(pi))^2 / 2``, solved here for the retrieval
    branch (the larger y). ``m`` falls from 1 to about 0.967 at the critical load
    (:func:`hopfield_critical_load`) and the state is gone beyond it: NaN there.
    """
    loads = _numbers("load", load)
    peak = _ags_peak()
    critical = _ags_load(peak)
    out = np.full(loads.shape, np.nan)
    for index, a in np.ndenumerate(loads):
        if a > critical:
            continue
        low, high = peak, 50.0  # the load falls as y grows on this branch
        for _ in range(200):
            mid = (low + high) / 2
            low, high = (mid, high) if _ags_load(mid) > a else (low, mid)
        out[index] = math.erf((low + high) / 2)
    return out


def dense_capacity(dim: object, n: int) -> np.ndarray:
    """Krotov and Hopfield's estimate of how many random patterns a dense associative
    memory of ``dim`` units with ``F(x) = x^n`` holds, every one a fixed point with high
    probability: ``dim^(n-1) / (2 (2n - 3)!! ln dim)`` (``n = 2``: the classical
    ``dim / (2 ln dim)``). It grows as ``dim^(n-1)``, up to the logarithm.
    """
    d = _numbers("dim", dim)
    n = _validate.positive_int("n", n)
    if n < 2:
        raise ValueError(f"n must be an int >= 2, got {n}")
    if np.any(d < 2):
        raise ValueError(f"dim must hold numbers of units >= 2, got {dim!r:.60}")
    double_factorial = math.prod(range(2 * n - 3, 0, -2))
    return d ** (n - 1) / (2.0 * double_factorial * np.log(d))


def modern_capacity(dim: int, flips: int, miss: float = 0.05) -> float:
    """How many random ±1 patterns a sharp modern Hopfield network recalls from cues with
    ``flips`` flipped units, missing a fraction ``miss`` of them.

    The cue scores ``dim - 2 flips`` with its own pattern and ``dim - 2 j`` with another
    random pattern that disagrees with it in ``j ~ Binomial(dim, 1/2)`` units, so another
    pattern scores as high with probability ``p = P(j <= flips)``. A read that is sharp
    enough (large ``beta``) is right when none of the ``P - 1`` others does, with
    probability ``(1 - p)^(P - 1)``; setting it to ``1 - miss`` gives
    ``P = 1 + ln(1 - miss) / ln(1 - p)``, about ``2^dim`` times a polynomial in ``dim``:
    exponential in the dimension.
    """
    dim = _validate.positive_int("dim", dim)
    flips = _validate.positive_int("flips", flips, allow_zero=True)
    if flips >= dim / 2:
        raise ValueError(f"flips must be fewer than half the units ({dim / 2}), got {flips}")
    miss = _validate.number("miss", miss)
    if not 0 < miss < 1:
        raise ValueError(f"miss must lie strictly between 0 and 1, got {miss}")
    p = sum(math.comb(dim, j) for j in range(flips + 1)) / 2.0**dim
    return 1.0 + math.log1p(-miss) / math.log1p(-p)
