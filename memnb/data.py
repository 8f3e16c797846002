"""Generators of keys and values. Every generator takes an explicit seed."""

from __future__ import annotations

import torch

from . import _validate

KINDS = ("gaussian", "unit", "binary")


def generator(seed: int | torch.Generator) -> torch.Generator:
    """A CPU ``torch.Generator`` from an int seed (a generator is passed through)."""
    if isinstance(seed, torch.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int or a torch.Generator, got {type(seed).__name__}")
    return torch.Generator().manual_seed(seed)


def random_vectors(
    n: int,
    dim: int,
    trials: int | None = None,
    *,
    kind: str = "gaussian",
    seed: int | torch.Generator = 0,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """``n`` random vectors of dimension ``dim``: shape ``(n, dim)`` or ``(trials, n, dim)``.

    ``kind`` is ``"gaussian"`` (standard normal entries, so ``|x|^2`` is about ``dim``),
    ``"unit"`` (Gaussian directions scaled to norm 1) or ``"binary"`` (entries +1 or -1).
    """
    n = _validate.positive_int("n", n)
    dim = _validate.positive_int("dim", dim)
    trials = _validate.optional_trials(trials)
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise TypeError(f"dtype must be a floating-point torch.dtype, got {dtype!r}")
    shape = (n, dim) if trials is None else (trials, n, dim)
    x = torch.randn(shape, generator=generator(seed), dtype=torch.float64)
    if kind == "unit":
        x = x / x.norm(dim=-1, keepdim=True)
    elif kind == "binary":
        x = torch.where(x >= 0, 1.0, -1.0).to(torch.float64)
    return x.to(dtype=dtype, device=device)


def random_pairs(
    n: int,
    dim: int,
    trials: int | None = None,
    *,
    seed: int | torch.Generator = 0,
    kind: str = "gaussian",
    value_dim: int | None = None,
    value_kind: str | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` independent random key-value pairs (heteroassociative).

    Returns ``(keys, values)`` of shapes ``(n, dim)`` and ``(n, value_dim)``, each with a
    leading ``trials`` axis when ``trials`` is given. ``kind`` ("gaussian", "unit" or
    "binary", see :func:`random_vectors`) sets the keys; ``value_kind`` the values
    (defaults to ``kind``). The same seed gives the same pairs.
    """
    gen = generator(seed)
    keys = random_vectors(n, dim, trials, kind=kind, seed=gen, dtype=dtype, device=device)
    value_dim = dim if value_dim is None else _validate.positive_int("value_dim", value_dim)
    value_kind = kind if value_kind is None else value_kind
    if value_kind not in KINDS:
        raise ValueError(f"value_kind must be one of {KINDS}, got {value_kind!r}")
    values = random_vectors(
        n, value_dim, trials, kind=value_kind, seed=gen, dtype=dtype, device=device
    )
    return keys, values
