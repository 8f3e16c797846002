"""Figures drawn from experiment frames, in one theme for the whole book."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from .summaries import _require

BAND = ("ci", 95)  # the band drawn around every mean: a 95 % bootstrap confidence interval
LABELS = {"mse": "MSE of the read (per coordinate)", "cosine": "cosine(read, target)"}


def set_theme() -> None:
    """The book's look: white grid, colour-blind palette, figures sized for a page."""
    sns.set_theme(style="whitegrid", palette="colorblind", rc={"figure.figsize": (6.4, 4.0)})


def learning_curve(
    frame: pd.DataFrame,
    *,
    hue: str | None = "memory",
    y: str = "mse",
    theory: str | None = None,
    ax: Axes | None = None,
    logy: bool = True,
    title: str | None = None,
) -> Axes:
    """Mean ``y`` against update step with a 95 % confidence band over trials.

    ``theory`` names a column of predicted values, drawn as a dashed line over its mean.
    Trials whose error became NaN or inf are not averaged in silently: a curve stops at
    the last step where all its trials are finite, and is marked "diverged" there.
    """
    _require(frame, ["step", y] + ([hue] if hue else []))
    if ax is None:
        _, ax = plt.subplots()
    groups = _groups(frame, hue)
    palette = sns.color_palette("viridis" if len(groups) > 6 else "colorblind", len(groups))
    for (name, group), colour in zip(groups, palette, strict=True):
        finite = group.groupby("step")[y].transform(lambda s: bool(np.isfinite(s).all()))
        shown = group[finite.astype(bool)]
        sns.lineplot(
            data=shown,
            x="step",
            y=y,
            errorbar=BAND,
            n_boot=500,
            seed=0,
            color=colour,
            label=str(name) if hue else None,
            ax=ax,
            marker="o",
            markersize=3,
        )
        if len(shown) < len(group):  # mark where the curve stops, never drop it silently
            mean = shown.groupby("step")[y].mean()
            step, value = (mean.index[-1], mean.iloc[-1]) if len(mean) else (0, 1.0)
            ax.plot(step, value, "X", color=colour, ms=10)
            ax.annotate(
                f"{name}: diverged (NaN/inf)",
                (step, value),
                color=colour,
                textcoords="offset points",
                xytext=(5, 5),
            )
    if theory is not None:
        _require(frame, [theory])
        for i, (_, group) in enumerate(groups):
            mean = group.groupby("step")[theory].mean()
            ax.plot(mean.index, mean.to_numpy(), "k--", lw=1.2, label="theory" if i == 0 else None)
    if hue or theory:
        ax.legend(title=hue)
    if logy:
        ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("update steps")
    ax.set_ylabel(LABELS.get(y, y))
    if title:
        ax.set_title(title)
    return ax


def _groups(frame: pd.DataFrame, hue: str | None) -> list[tuple[object, pd.DataFrame]]:
    """The frame split by ``hue``, in order of first appearance."""
    if hue is None:
        return [(None, frame)]
    return [(name, frame[frame[hue] == name]) for name in frame[hue].drop_duplicates()]


def subplots(ncols: int, width: float = 5.2, height: float = 3.8):
    """A row of ``ncols`` panels sized for a book page: ``(figure, axes)``."""
    fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), layout="constrained")
    return fig, axes
