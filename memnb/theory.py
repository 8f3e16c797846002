"""Closed forms that the measurements are held against."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .summaries import _require


def _start_and_steps(
    frame: pd.DataFrame, by: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: its run's MSE at step 0, the step, and the run's ``|k|^2``.

    A run is one trial of one setting: the rows that share the ``by`` columns.
    """
    keys = list(by)
    _require(frame, [*keys, "step", "mse", "key_sq_norm"])
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
    factor = (1.0 - np.asarray(lr, dtype=float) * key_sq_norm) ** 2
    return pd.Series(start * factor**step, index=frame.index, name="mse_theory")


def hebbian_adaptation(frame: pd.DataFrame, by: Sequence[str] = ("memory", "trial")) -> pd.Series:
    """Predicted MSE of :class:`~memnb.MatrixAssociativeMemory` in the adaptation protocol.

    From ``M = 0``, ``t`` writes of ``(k, v)`` give ``M = t v k^T`` and the read
    ``M k = t |k|^2 v``, so ``MSE_t = (t |k|^2 - 1)^2 MSE_0`` with ``MSE_0 = |v|^2 / d``.
    The write never looks at the error: it adds the same outer product every time.
    """
    start, step, key_sq_norm = _start_and_steps(frame, by)
    return pd.Series(start * (step * key_sq_norm - 1.0) ** 2, index=frame.index, name="mse_theory")
