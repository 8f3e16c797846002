"""Headline numbers read off experiment frames."""

from __future__ import annotations

import pandas as pd


def _require(frame: pd.DataFrame, columns: list[str]) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas.DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"frame lacks column(s) {missing}; it has {list(frame.columns)}")


def mean_curve(frame: pd.DataFrame, by: str | None = "memory", y: str = "mse") -> pd.DataFrame:
    """Mean of ``y`` over trials at each step: index ``step``, one column per ``by`` value.

    NaN is not skipped: a step where any trial is NaN has a NaN mean.
    """
    _require(frame, ["step", y] + ([by] if by else []))
    if by is None:
        return frame.groupby("step")[y].mean(skipna=False).to_frame(y)
    means = frame.groupby([by, "step"], sort=False)[y].mean(skipna=False)
    return means.unstack(by)[frame[by].drop_duplicates().to_list()]


def steps_to_fraction(
    frame: pd.DataFrame, fraction: float = 0.1, by: str | None = "memory", y: str = "mse"
) -> pd.Series:
    """The elbow: first step where the mean ``y`` is below ``fraction`` x its value at step 0.

    Returns one entry per ``by`` value (pandas ``Int64``; ``<NA>`` where the curve never
    gets there within the steps run, including curves that diverge).
    """
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must lie strictly between 0 and 1, got {fraction}")
    curves = mean_curve(frame, by, y)
    below = curves.lt(fraction * curves.iloc[0])
    first = below.idxmax().where(below.any())
    first.name = f"steps_to_{fraction:g}"
    return first.astype("Int64")
