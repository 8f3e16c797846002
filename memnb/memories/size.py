"""How many floats a memory holds: the state size by which memories are compared."""

from __future__ import annotations

import inspect
from numbers import Integral

__all__ = ["state_size"]

_HOW = (
    "a memory class provides it as a method `def state_size(self) -> int` that returns the "
    "number of floats one trial's memory holds now (for example slots x (d_k + d_v) for "
    "a slot memory, d_k x d_v for a matrix, the parameter count for a network)"
)


def state_size(memory: object) -> int:
    """The number of floats ONE trial of ``memory`` holds now: ``memory.state_size()``.

    The size is what the memory stores, not how it computes: ``S x (d_k + d_v)`` for
    S slots, ``d_k x d_v`` for a matrix memory, ``pairs x (d_k + d_v)`` for a store that
    keeps every pair (it grows with every write), the parameter count for an MLP.

    Raises a ``TypeError`` when ``memory`` is a class rather than a built memory, has no
    ``state_size()`` method, or the method does not return an int (``ValueError`` when
    that int is negative).
    """
    if inspect.isclass(memory):
        raise TypeError(
            f"memory must be a built memory, got the class {memory.__name__}; "
            f"build it first, e.g. {memory.__name__}(dim)"
        )
    method = getattr(memory, "state_size", None)
    if not callable(method):
        raise TypeError(
            f"memory must have a state_size() method, got a {type(memory).__name__} "
            f"without one; {_HOW}"
        )
    size = method()
    if isinstance(size, bool) or not isinstance(size, Integral):
        raise TypeError(
            f"{type(memory).__name__}.state_size() must return an int, "
            f"got {size!r} ({type(size).__name__})"
        )
    if size < 0:
        raise ValueError(f"{type(memory).__name__}.state_size() must be >= 0, got {size}")
    return int(size)
