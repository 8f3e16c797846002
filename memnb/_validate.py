"""Input checks shared by every public function: fail early, name what was wrong."""

from __future__ import annotations

import math
from numbers import Integral, Real

import torch


def positive_int(name: str, value: object) -> int:
    """Return ``value`` as an int, or raise if it is not a positive integer."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be a positive int, got {value!r} ({type(value).__name__})")
    if value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value}")
    return int(value)


def optional_trials(value: object) -> int | None:
    """``trials`` is either None (one memory, inputs ``(N, d)``) or a positive int."""
    return None if value is None else positive_int("trials", value)


def positive_float(name: str, value: object, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a finite float > 0 (or >= 0 with ``allow_zero``)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    value = float(value)
    ok = value >= 0 if allow_zero else value > 0
    if not math.isfinite(value) or not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value}")
    return value


def float_tensor(name: str, x: object) -> torch.Tensor:
    """Check that ``x`` is a finite floating-point tensor."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or inf values (shape {tuple(x.shape)})")
    return x


def batch(
    name: str,
    x: object,
    *,
    trials: int | None,
    dim: int,
    n: int | None = None,
    device: torch.device | None = None,
    dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """Check a batch of vectors and return it with a leading trials axis, ``(T, N, d)``.

    With ``trials=None`` the expected shape is ``(N, d)``; otherwise ``(trials, N, d)``.
    ``n`` (if given) is the required number of items N.
    """
    x = float_tensor(name, x)
    expected = ("N", dim) if trials is None else (trials, "N", dim)
    shape = tuple(x.shape)
    if x.dim() != len(expected):
        raise ValueError(f"{name} must have shape {_fmt(expected)}, got {shape}")
    if trials is not None and shape[0] != trials:
        raise ValueError(
            f"{name} has {shape[0]} trials but the memory was built with trials={trials}: "
            f"expected shape {_fmt(expected)}, got {shape}"
        )
    if shape[-1] != dim:
        raise ValueError(
            f"{name} must have last dimension {dim}: expected {_fmt(expected)}, got {shape}"
        )
    if shape[-2] == 0:
        raise ValueError(f"{name} is empty: expected at least one item, got shape {shape}")
    if n is not None and shape[-2] != n:
        raise ValueError(f"{name} must hold {n} items to match the keys, got shape {shape}")
    if device is not None and x.device != device:
        raise ValueError(f"{name} is on {x.device} but the memory is on {device}")
    if dtype is not None and x.dtype != dtype:
        raise TypeError(f"{name} has dtype {x.dtype} but the memory uses {dtype}")
    return x if trials is not None else x.unsqueeze(0)


def _fmt(shape: tuple) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")"
