"""Input checks shared by every public function: fail early, name what was wrong."""

from __future__ import annotations

import math
from collections.abc import Iterable
from numbers import Integral, Real

import torch


def positive_int(name: str, value: object) -> int:
    """Return ``value`` as an int, or raise if it is not a positive integer."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be a positive int, got {value!r} ({type(value).__name__})")
    if value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value}")
    return int(value)


def seed(value: object) -> int:
    """Return ``value`` as an int seed >= 0, or raise naming ``seed``."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"seed must be an int, got {value!r} ({type(value).__name__})")
    if value < 0:
        raise ValueError(f"seed must be >= 0, got {value}")
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


def number(name: str, value: object) -> float:
    """Return ``value`` as a finite float of any sign, or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    return float(value)


def one_of(name: str, value: object, options: Iterable[object]) -> object:
    """Return ``value`` if it is one of ``options``, else raise a ``ValueError``."""
    options = list(options)
    if isinstance(value, str | Real | None) and not isinstance(value, bool) and value in options:
        return value
    raise ValueError(f"{name} must be one of {options}, got {value!r}")


def callable_(name: str, value: object, expected: str) -> object:
    """Return ``value`` if it can be called, else raise a ``TypeError`` naming ``expected``."""
    if not callable(value):
        raise TypeError(f"{name} must be {expected}, got {value!r} ({type(value).__name__})")
    return value


def torch_device(name: str, value: object) -> object:
    """Check that ``value`` is None or names a torch device; return it unchanged."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | torch.device | int):
        raise TypeError(
            f"{name} must be a torch.device, a str such as 'cpu' or 'cuda', or None, "
            f"got {value!r} ({type(value).__name__})"
        )
    try:
        torch.device(value)
    except RuntimeError as error:
        raise ValueError(
            f"{name} must name a torch device such as 'cpu' or 'cuda', got {value!r}"
        ) from error
    return value


def float_dtype(name: str, value: object) -> torch.dtype:
    """Check that ``value`` is a floating-point ``torch.dtype``."""
    if not (isinstance(value, torch.dtype) and value.is_floating_point):
        raise TypeError(f"{name} must be a floating-point torch.dtype, got {value!r}")
    return value


def float_type(name: str, x: object) -> torch.Tensor:
    """Check that ``x`` is a floating-point tensor (its values are not looked at)."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    return x


def finite(name: str, x: torch.Tensor) -> torch.Tensor:
    """Check that the tensor ``x`` holds no NaN or inf."""
    if x.numel() == 0:
        return x
    # The smallest and largest entries are finite exactly when every entry is (a NaN
    # makes both NaN). One reduction without a boolean copy of x: several times faster
    # than isfinite(x).all(), which matters since every write and read checks its input.
    low, high = torch.aminmax(x)
    if not bool(torch.isfinite(low) & torch.isfinite(high)):
        raise ValueError(f"{name} contains NaN or inf values (shape {tuple(x.shape)})")
    return x


def float_tensor(name: str, x: object) -> torch.Tensor:
    """Check that ``x`` is a finite floating-point tensor."""
    return finite(name, float_type(name, x))


def same_device(names: tuple[str, str], a: torch.Tensor, b: torch.Tensor) -> None:
    """Check that two tensors live on one device (before anything reads their values)."""
    if a.device != b.device:
        raise ValueError(
            f"{names[0]} is on {a.device} but {names[1]} is on {b.device}; "
            "expected both on the same device"
        )


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
    x = float_type(name, x)
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
        raise ValueError(
            f"{name} is on {x.device} but the memory is on {device}: expected a tensor on {device}"
        )
    if dtype is not None and x.dtype != dtype:
        raise TypeError(f"{name} has dtype {x.dtype} but the memory uses {dtype}")
    finite(name, x)
    return x if trials is not None else x.unsqueeze(0)


def _fmt(shape: tuple) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")"
