"""Input checks shared by every public function: fail early, name what was wrong."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterable
from itertools import pairwise
from numbers import Integral, Real
from typing import TYPE_CHECKING, TypeVar

import torch

if TYPE_CHECKING:  # pandas loads with the first frame checked, not with the memories
    import pandas as pd

Item = TypeVar("Item")

# Reads in these dtypes are scored in float32 (a safe, unambiguous conversion); a memory
# that reads in another dtype that is not float32 or float64 cannot be scored.
LOW_PRECISION = (torch.float16, torch.bfloat16)


class ProtocolError(Exception):
    """A memory broke the update/read protocol while an experiment ran it.

    Raised when a memory's own ``update`` or ``__call__`` raised (the original exception
    is the ``__cause__``), or answered with something that cannot be scored. The message
    is one line that names the memory's class, the call, what happened and what was
    expected. The answers that cannot be scored are also a ``TypeError`` (not a tensor, a
    dtype that cannot be scored) or a ``ValueError`` (a shape or device other than
    expected).
    """


class ProtocolTypeError(ProtocolError, TypeError):
    """A read of the wrong type: not a ``torch.Tensor``, or a dtype that cannot be scored."""


class ProtocolValueError(ProtocolError, ValueError):
    """A read of the wrong shape or on another device than its queries."""


class LowPrecisionRead(UserWarning):
    """A memory read in float16 or bfloat16; the read was scored in float32."""


def type_name(value: object) -> str:
    """The type of ``value`` as a reader knows it: ``numpy.ndarray``, ``list``, ``Tensor``."""
    kind = type(value)
    module = kind.__module__
    return (
        kind.__qualname__ if module == "builtins" else f"{module.split('.')[0]}.{kind.__qualname__}"
    )


def read_value(owner: str, out: object, queries: torch.Tensor) -> torch.Tensor:
    """Check what ``owner.__call__(queries)`` returned before anything uses it.

    A read must be a ``torch.Tensor`` on the device of the queries, in a floating dtype
    (float16 and bfloat16 are let through: the caller scores them in float32). Raises a
    :class:`ProtocolTypeError` (not a tensor, or a dtype that cannot be scored) or a
    :class:`ProtocolValueError` (another device), one line that names the class, the
    call, what came back and what was expected. Returns ``out``.
    """
    call = f"{owner}.__call__(queries) with queries of shape {tuple(queries.shape)}"
    if not isinstance(out, torch.Tensor):
        hint = " (torch.as_tensor converts it)" if hasattr(out, "__array__") else ""
        raise ProtocolTypeError(
            f"{call} returned a {type_name(out)}; expected a torch.Tensor{hint}"
        )
    if out.device != queries.device:
        raise ProtocolValueError(
            f"{call} returned a tensor on {out.device}; expected one on {queries.device}, "
            "the device of the queries"
        )
    if not out.is_floating_point():
        raise ProtocolTypeError(
            f"{call} returned a tensor of dtype {out.dtype}; expected a floating-point "
            "tensor (float32 or float64; float16 and bfloat16 are scored in float32)"
        )
    return out


def positive_int(name: str, value: object, *, allow_zero: bool = False) -> int:
    """Return ``value`` as an int > 0 (>= 0 with ``allow_zero``), or raise naming ``name``."""
    what = "an int >= 0" if allow_zero else "a positive int"
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be {what}, got {value!r} ({type(value).__name__})")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {what}, got {value}")
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


def sequence(
    name: str,
    value: object,
    item: Callable[[str, object], Item],
    expected: str,
    *,
    scalar: bool = True,
    length: int | None = None,
    distinct: bool = False,
    increasing: bool = False,
) -> list[Item]:
    """``value`` as a non-empty list, each entry checked (and converted) by ``item(name, entry)``.

    ``value`` is an iterable other than a string; with ``scalar`` a lone entry stands for
    a list of one (of ``length`` copies when ``length`` is given). ``expected`` says in
    words what the entries are (``"positive ints"``), for the messages. ``length``,
    ``distinct`` and ``increasing`` (strictly) are further demands on the list.
    """
    lone = "one value or " if scalar else ""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        if not scalar or isinstance(value, str | bytes):
            raise TypeError(
                f"{name} must be {lone}a sequence of {expected}, "
                f"got {value!r} ({type(value).__name__})"
            )
        return [item(name, value)] * (1 if length is None else length)
    entries = list(value)
    if length is not None and len(entries) != length:
        raise ValueError(
            f"{name} must be {lone}a sequence of {length} {expected}, "
            f"got {len(entries)} values: {entries!r}"
        )
    if not entries:
        raise ValueError(
            f"{name} must hold at least one value, got an empty sequence (expected {expected})"
        )
    checked = [item(name, entry) for entry in entries]
    if distinct and len(set(checked)) != len(checked):
        raise ValueError(f"{name} must not repeat a value, got {checked}")
    if increasing and any(b <= a for a, b in pairwise(checked)):
        raise ValueError(f"{name} must be strictly increasing, got {checked}")
    return checked


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


def accepts(factory: object, name: str) -> bool:
    """Does ``factory`` take a keyword argument ``name`` (or any, through ``**kwargs``)?"""
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == name or p.kind is p.VAR_KEYWORD for p in params)


def require_columns(frame: object, columns: Iterable[str], name: str = "frame") -> pd.DataFrame:
    """Check that the argument ``name`` is a DataFrame holding the ``columns``; return it."""
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas.DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks column(s) {missing}; it has {list(frame.columns)}")
    return frame


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
    if not (math.isfinite(low.item()) and math.isfinite(high.item())):
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
