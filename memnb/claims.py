"""Claims as data: glue the numbers a chapter states, check what its prose says of them.

A chapter makes one :class:`Claims` and, for every claim of its prose, one call::

    claims = Claims()
    claims.check("capacity grows with d", exponent > 1, dim_exponent=exponent)

glues ``dim_exponent`` (for ``{glue:text}`` in the prose), raises :class:`ClaimError`
when the condition is false (so a false claim fails the build), and records the claim.
:meth:`Claims.glue` glues numbers without a claim. :meth:`Claims.table` is the
"Checked in this chapter" table: every claim with the numbers that decide it.

Gluing uses myst-nb's ``glue`` when it is installed (the book); elsewhere the values
are only kept, so the same code runs in a plain Python session.
"""

from __future__ import annotations

import importlib.util
import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import torch

__all__ = ["ClaimError", "Claims"]


class ClaimError(AssertionError):
    """A claim of the prose that the measured values do not bear out."""


def _plain(name: str, value: object) -> object:
    """A Python number, string or bool for ``value`` (numpy and 0-d torch scalars unwrapped)."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise TypeError(
                f"{name} must be one number, got a tensor of shape {tuple(value.shape)}"
            )
        value = value.item()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool | str | numbers.Number):
        return value
    raise TypeError(f"{name} must be a number or a string, got {type(value).__name__}")


def _truth(claim: str, condition: object) -> bool:
    """``condition`` as one bool; an array counts as true when every element is."""
    if isinstance(condition, bool | np.bool_):
        return bool(condition)
    if isinstance(condition, torch.Tensor):
        condition = condition.detach().cpu().numpy()
    if isinstance(condition, pd.Series | pd.DataFrame | np.ndarray):
        values = np.asarray(condition)
        if values.dtype != bool:
            raise TypeError(f"the condition of {claim!r} must be boolean, got dtype {values.dtype}")
        if values.size == 0:
            raise ValueError(f"the condition of {claim!r} is empty: it would check nothing")
        return bool(values.all())
    raise TypeError(
        f"the condition of {claim!r} must be a bool or a boolean array, "
        f"got {type(condition).__name__}"
    )


def _shown(value: object) -> str:
    """How a value appears in the table: floats with four significant digits, no NaN."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return f"{value:,}"
    if isinstance(value, numbers.Real):
        return f"{value:.4g}" if math.isfinite(value) else "not finite"
    return str(value)


def _same(a: object, b: object) -> bool:
    """Equal values, NaN included (a NaN glued twice is the same value)."""
    nan = isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)
    return nan or (type(a) is type(b) and a == b)


GLUE_PREFIX = "application/papermill.record/"  # myst-nb's prefix of glued, hidden outputs


def _myst_glue() -> Callable[[str, object], None]:
    """myst-nb's ``glue`` without display, or a function that keeps nothing outside the book.

    The output is the one ``myst_nb.glue(name, value, display=False)`` makes (the tests
    compare them), written here because importing myst-nb imports nbformat and with it
    jsonschema's format checkers, which cost every chapter more than a second.
    """
    if importlib.util.find_spec("myst_nb") is None:
        return lambda name, value: None
    return _glue


def _glue(name: str, value: object) -> None:
    """Publish ``value``'s display data under ``name``, hidden, as myst-nb's glue does."""
    from IPython.core.formatters import format_display_data
    from IPython.display import display

    bundle, metadata = format_display_data(value)
    metadata["scrapbook"] = {"name": name, "mime_prefix": GLUE_PREFIX}
    display({GLUE_PREFIX + k: v for k, v in bundle.items()}, raw=True, metadata=metadata)


class _Table(pd.DataFrame):
    """A frame shown with every cell in full (pandas cuts text at 50 characters).

    In HTML a zero-width space follows every underscore of the text cells, so that a long
    glued name (``steps_clustered_MatrixAssociativeMemory_100``) may wrap at its
    underscores instead of widening the table past the page.
    """

    def _repr_html_(self) -> str | None:
        wrappable = pd.DataFrame(self).map(
            lambda cell: cell.replace("_", "_\u200b") if isinstance(cell, str) else cell
        )
        with pd.option_context("display.max_colwidth", None):
            return wrappable._repr_html_()

    def __repr__(self) -> str:
        return self.to_string()


class Claims:
    """The glued values and checked claims of one chapter."""

    def __init__(self, publish: Callable[[str, object], None] | None = None) -> None:
        """``publish(name, value)`` makes a value available to the prose; None: myst-nb's
        ``glue`` (with ``display=False``) where myst-nb is installed, else nothing."""
        if publish is not None and not callable(publish):
            raise TypeError(
                f"publish must be a function of (name, value) or None, got {type(publish).__name__}"
            )
        self.publish = publish if publish is not None else _myst_glue()
        self.values: dict[str, object] = {}
        self.checked: list[tuple[str, dict[str, object]]] = []

    def glue(self, **values: object) -> None:
        """Glue every keyword as a value the prose can show (``{glue:text}`name```).

        A name glued again with the same value (a check that shows a number glued earlier)
        is glued once; with a different value it raises ``ValueError``.
        """
        for name, value in values.items():
            plain = _plain(name, value)
            if name in self.values:
                if not _same(self.values[name], plain):
                    raise ValueError(f"{name!r} is glued twice with different values")
                continue  # myst-nb warns about a key glued twice
            self.values[name] = plain
            self.publish(name, plain)

    def check(self, claim: str, condition: object, **values: Any) -> None:
        """Glue ``values``, then check ``condition`` (what ``claim`` says) and record it.

        Raises :class:`ClaimError` naming the claim and its values when the condition is
        false: the prose must be rewritten, not the check.
        """
        if not isinstance(claim, str) or not claim.strip():
            raise ValueError("claim must be a non-empty sentence")
        self.glue(**values)
        if not _truth(claim, condition):
            shown = ", ".join(f"{k} = {_shown(v)}" for k, v in values.items())
            raise ClaimError(f"not borne out: {claim}" + (f" ({shown})" if shown else ""))
        self.checked.append((claim, {k: self.values[k] for k in values}))

    def table(self) -> pd.DataFrame:
        """The "Checked in this chapter" table: one row per claim, the numbers deciding it."""
        if not self.checked:
            raise ValueError("no claim has been checked yet")
        rows = [
            {
                "claim": claim,
                "measured": ", ".join(f"{k} = {_shown(v)}" for k, v in values.items()) or "-",
                "checked": "\u2714",
            }
            for claim, values in self.checked
        ]
        return _Table(rows, index=pd.RangeIndex(1, len(rows) + 1))
