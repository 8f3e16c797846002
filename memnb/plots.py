"""Figures drawn from experiment frames, in one theme for the whole book."""

from __future__ import annotations

import colorsys
import functools
import sys
from collections.abc import Mapping
from itertools import product

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import colormaps, cycler
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.colors import LinearSegmentedColormap, to_rgb
from matplotlib.layout_engine import PlaceHolderLayoutEngine
from matplotlib.lines import Line2D
from matplotlib.ticker import LogLocator, MaxNLocator, NullLocator

from . import _validate
from ._validate import require_columns as _require

__all__ = [
    "accuracy_heatmap",
    "capacity_curve",
    "capacity_panels",
    "capacity_points",
    "capacity_ranking",
    "chain_curve",
    "chance_line",
    "completion_panels",
    "dimension_heatmap",
    "dimension_panels",
    "draw_inline_once",
    "forgetting_trace",
    "key_panels",
    "key_recall_panels",
    "lag_crp_curve",
    "learning_curve",
    "pattern_images",
    "probe_strip",
    "profile_panels",
    "projection_panels",
    "set_theme",
    "state_size_curve",
    "subplots",
    "sweep_curve",
    "task_accuracies",
]

_BAND_LEVEL, _BAND_RESAMPLES = 95, 1000


@functools.lru_cache(maxsize=64)
def _resamples(n: int) -> np.ndarray:
    """The bootstrap's index matrix for ``n`` values (read-only: it is drawn once per ``n``)."""
    rows = np.random.default_rng(0).integers(0, n, size=(_BAND_RESAMPLES, n))
    rows.flags.writeable = False
    return rows


def _bootstrap_band(values: object) -> tuple[float, float]:
    """The band drawn around every mean: a 95 % percentile-bootstrap interval of the mean.

    ``values`` are the trials behind one plotted mean (non-finite ones are left out; the
    curves mark diverged runs separately). All resamples are drawn as one index matrix
    ``(_BAND_RESAMPLES, n)`` from a generator seeded with 0, so the band is the same on
    every run and costs one vectorised mean, where seaborn's own bootstrap loops over
    the resamples in Python (most of a figure's time before). Returns ``(low, high)``.
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return (np.nan, np.nan)
    if x.size == 1:
        return (float(x[0]), float(x[0]))
    means = x[_resamples(x.size)].mean(axis=1)
    tail = (100 - _BAND_LEVEL) / 2
    low, high = np.percentile(means, [tail, 100 - tail])
    return (float(low), float(high))


BAND = _bootstrap_band  # the interval of every band and error bar (seaborn's errorbar= too)
LABELS = {"mse": "MSE of the read (per coordinate)", "cosine": "cosine(read, target)"}
DIVERGED = "diverged (NaN/inf)"
# The chance level of every accuracy figure: a thin dotted grey line labelled "chance".
CHANCE_STYLE = {"color": "0.45", "ls": ":", "lw": 1.0}
NEAREST = "recall, nearest of N values"  # the y label of the nearest-of-N criterion


def _has_chance(frame: pd.DataFrame) -> bool:
    """Does ``frame`` carry a ``chance`` column with a number in it?"""
    return "chance" in frame.columns and bool(frame["chance"].notna().any())


def _chance_curve(ax: Axes, frame: pd.DataFrame, x: str, label: str | None = "chance") -> object:
    """Draw the mean ``chance`` of ``frame`` against ``x`` in the chance style; return the
    line."""
    chance = frame.groupby(x)["chance"].mean().dropna()
    return ax.plot(chance.index, chance.to_numpy(), **CHANCE_STYLE, label=label)[0]


def _legend_with(ax: Axes, line: object) -> None:
    """Add ``line`` (with its label) to the legend that ``ax`` already has, if any."""
    legend = ax.get_legend()
    if legend is None:
        return
    labels = [text.get_text() for text in legend.get_texts()]
    title = legend.get_title().get_text() or None
    ax.legend([*legend.legend_handles, line], [*labels, line.get_label()], title=title)


def _cosine_label(frame: pd.DataFrame) -> str:
    """The y label of the cosine criterion, with the frame's ``cosine_threshold`` (0.9
    when the frame does not say; "threshold" when it holds several)."""
    levels = frame["cosine_threshold"].unique() if "cosine_threshold" in frame.columns else [0.9]
    return f"recall, cosine >= {levels[0]:g}" if len(levels) == 1 else "recall, cosine >= threshold"


def _axes(ax: object) -> Axes:
    """``ax``, or new axes when it is None."""
    if ax is None:
        return plt.subplots()[1]
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be matplotlib Axes or None, got {type(ax).__name__}")
    return ax


def _diverged(group: pd.DataFrame) -> bool:
    """Does the frame flag a diverged trial (a ``diverged`` column that is True)?"""
    return "diverged" in group.columns and bool(group["diverged"].eq(True).any())


def _note_diverged(ax: Axes, frame: pd.DataFrame, by: str | None = None) -> None:
    """Say in the corner of ``ax`` which runs of ``frame`` diverged, with their trials.

    Nothing is drawn when no row of ``frame`` is flagged in its ``diverged`` column.
    """
    if not _diverged(frame):
        return
    groups = _groups(frame, by if by in frame.columns else None)
    parts = []
    for name, group in groups:
        if not _diverged(group):
            continue
        if "trial" in group.columns:
            bad = group.loc[group["diverged"].eq(True), "trial"].nunique()
            count = f"{bad} of {group['trial'].nunique()} trials"
        else:
            count = f"{int(group['diverged'].eq(True).sum())} rows"
        parts.append(f"{by}={name}: {count}" if name is not None else count)
    ax.text(
        0.02,
        0.98,
        f"{DIVERGED}: " + "; ".join(parts),
        transform=ax.transAxes,
        ha="left",
        va="top",
        color="crimson",
        fontsize="small",
        bbox={"facecolor": "white", "edgecolor": "crimson", "alpha": 0.9},
    )


INLINE = ("inline", "module://matplotlib_inline.backend_inline")  # the inline backend's names

# seaborn's "colorblind" palette (Okabe and Ito's colour-blind safe colours, reordered).
COLORBLIND = (
    "#0173B2", "#DE8F05", "#029E73", "#D55E00", "#CC78BC",
    "#CA9161", "#FBAFE4", "#949494", "#ECE133", "#56B4E9",
)  # fmt: skip

# The rcParams of ``seaborn.set_theme(style="whitegrid", palette="colorblind", rc=...)``
# with the book's figure size and constrained layout, written out so that the theme
# costs no seaborn import (tests/test_plots.py checks them against seaborn's). One
# difference: seaborn sets ``image.cmap`` to its own "rocket", a colormap that exists
# only once seaborn is imported; matplotlib's default (viridis) stays.
THEME = {
    "axes.axisbelow": True,
    "axes.edgecolor": ".8",
    "axes.facecolor": "white",
    "axes.grid": True,
    "axes.labelcolor": ".15",
    "axes.labelsize": 12.0,
    "axes.linewidth": 1.25,
    "axes.prop_cycle": cycler(color=[to_rgb(c) for c in COLORBLIND]),
    "axes.spines.bottom": True,
    "axes.spines.left": True,
    "axes.spines.right": True,
    "axes.spines.top": True,
    "axes.titlesize": 12.0,
    "figure.constrained_layout.use": True,
    "figure.facecolor": "white",
    "figure.figsize": [6.4, 4.0],
    "font.family": ["sans-serif"],
    "font.sans-serif": [
        "Arial",
        "DejaVu Sans",
        "Liberation Sans",
        "Bitstream Vera Sans",
        "sans-serif",
    ],  # fmt: skip
    "font.size": 12.0,
    "grid.color": ".8",
    "grid.linestyle": "-",
    "grid.linewidth": 1.0,
    "legend.fontsize": 11.0,
    "legend.title_fontsize": 12.0,
    "lines.linewidth": 1.5,
    "lines.markersize": 6.0,
    "lines.solid_capstyle": "round",
    "patch.edgecolor": "w",
    "patch.force_edgecolor": True,
    "patch.linewidth": 1.0,
    "text.color": ".15",
    "xtick.bottom": False,
    "xtick.color": ".15",
    "xtick.direction": "out",
    "xtick.labelsize": 11.0,
    "xtick.major.size": 6.0,
    "xtick.major.width": 1.25,
    "xtick.minor.size": 4.0,
    "xtick.minor.width": 1.0,
    "xtick.top": False,
    "ytick.color": ".15",
    "ytick.direction": "out",
    "ytick.labelsize": 11.0,
    "ytick.left": False,
    "ytick.major.size": 6.0,
    "ytick.major.width": 1.25,
    "ytick.minor.size": 4.0,
    "ytick.minor.width": 1.0,
    "ytick.right": False,
}


def set_theme() -> None:
    """The book's look: white grid, colour-blind palette, figures sized for a page and laid
    out by matplotlib's constrained layout (the rcParams :data:`THEME`). In IPython with
    the inline backend, each figure is also drawn once instead of three times
    (:func:`draw_inline_once`)."""
    matplotlib.rcParams.update(THEME)
    draw_inline_once()


def draw_inline_once() -> bool:
    """Under matplotlib's inline backend in IPython, draw each figure once per cell; True if
    the backend is the inline one (nothing changes elsewhere).

    Two things draw an inline figure after a cell besides the PNG it becomes: pyplot's REPL
    hook (``install_repl_displayhook``) redraws every stale figure, and the inline backend
    then closes it, so that drawing is never seen; and the inline backend's default
    ``bbox_inches="tight"`` lays the figure out once more to measure it before drawing it.
    With a layout engine on every figure (``figure.constrained_layout.use``, set by
    :func:`set_theme`) nothing lies outside the canvas to measure. So the hook is
    disconnected (``pyplot.uninstall_repl_displayhook``) and the formats keep their kinds
    with ``bbox_inches=None`` (``matplotlib_inline.backend_inline.set_matplotlib_formats``).
    An interactive backend (ipympl, Qt) keeps both: there the hook is what updates figures.
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or matplotlib.get_backend() not in INLINE:
        return False
    from matplotlib_inline.backend_inline import set_matplotlib_formats
    from matplotlib_inline.config import InlineBackend

    plt.uninstall_repl_displayhook()
    set_matplotlib_formats(*sorted(InlineBackend.instance().figure_formats), bbox_inches=None)
    return True


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
    the last step where all its trials are finite, and is marked "diverged" there (as is
    a curve whose frame flags a trial in its ``diverged`` column).
    """
    _require(frame, ["step", y] + ([hue] if hue else []))
    ax = _axes(ax)
    groups = _groups(frame, hue)
    palette = _palette("viridis" if len(groups) > 6 else "colorblind", len(groups))
    for (name, group), colour in zip(groups, palette, strict=True):
        shown = _finite_band(ax, group, "step", y, colour, str(name) if hue else None, "o", 3)
        if len(shown) < len(group) or _diverged(group):  # mark it, never drop it silently
            mean = shown.groupby("step")[y].mean()
            step, value = (mean.index[-1], mean.iloc[-1]) if len(mean) else (0, 1.0)
            ax.plot(step, value, "X", color=colour, ms=10)
            ax.annotate(
                f"{name}: {DIVERGED}" if hue else DIVERGED,
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


def _finite_band(
    ax: Axes,
    group: pd.DataFrame,
    x: str,
    y: str,
    colour: object,
    label: str | None,
    marker: str,
    markersize: float,
) -> pd.DataFrame:
    """Draw the mean of ``y`` against ``x`` with its 95 % band, at the ``x`` values where
    every trial is finite; return those rows (the caller marks where the curve stops)."""
    finite = group.groupby(x)[y].transform(lambda s: bool(np.isfinite(s).all()))
    shown = group[finite.astype(bool)]
    line = dict(color=colour, label=label, marker=marker, markersize=markersize)
    _mean_and_band(ax, _as_seaborn_reads(shown, x, y), x, y, **line)
    return shown


def _palette(name: str, n: int) -> list[tuple[float, float, float]]:
    """``n`` RGB colours: the first ``n`` of :data:`COLORBLIND` (cycled), or ``n`` colours
    spread over the inside of a matplotlib colormap such as "viridis" (its two ends left
    out), as ``seaborn.color_palette(name, n)`` gives them."""
    if name == "colorblind":
        return [to_rgb(COLORBLIND[i % len(COLORBLIND)]) for i in range(n)]
    return [tuple(c) for c in colormaps[name](np.linspace(0, 1, n + 2)[1:-1])[:, :3].tolist()]


def _cycle_palette(n: int) -> list[tuple[float, float, float]]:
    """The colours of ``n`` hue levels: the first ``n`` of the current colour cycle (the
    theme's :data:`COLORBLIND`), or viridis when the cycle is shorter than ``n``."""
    cycle = matplotlib.rcParams["axes.prop_cycle"].by_key().get("color", [])
    return [to_rgb(c) for c in cycle[:n]] if n <= len(cycle) else _palette("viridis", n)


def _desaturate(colour: object, proportion: float) -> tuple[float, float, float]:
    """``colour`` with its HLS saturation scaled by ``proportion`` (seaborn's bar colours)."""
    h, lightness, saturation = colorsys.rgb_to_hls(*to_rgb(colour))
    return colorsys.hls_to_rgb(h, lightness, saturation * proportion)


# seaborn's grey-to-black "dark:k" palette runs from this grey (the mean markers of a strip).
_DARK_GREY = (0.1477136475930195, 0.14772002848141771, 0.1476949000552352)


def _dark_palette(n: int) -> list[tuple[float, float, float]]:
    """``n`` colours from :data:`_DARK_GREY` to black (``seaborn.color_palette("dark:k", n)``)."""
    blend = LinearSegmentedColormap.from_list("dark", [_DARK_GREY, (0.0, 0.0, 0.0)])
    return [tuple(c) for c in blend(np.linspace(0, 1, n))[:, :3].tolist()]


# The markers and dashes that tell the levels of a line's ``style`` apart, in order.
STYLE_MARKERS = ("o", "X", (4, 0, 45), "P", (4, 0, 0), (4, 1, 0), "^", (4, 1, 45), "v")
STYLE_DASHES = ("", (4, 1.5), (1, 1), (3, 1.25, 1.5, 1.25), (5, 1, 1, 1))


def _levels(column: pd.Series) -> list:
    """The distinct values of ``column``: sorted when numeric, else in order of appearance."""
    values = column.dropna()
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return sorted(values.unique().tolist())
    return list(values.drop_duplicates())


def _as_seaborn_reads(data: pd.DataFrame, x: str, y: str, *more: str | None) -> pd.DataFrame:
    """The rows of ``data`` that a mean curve averages: ``x`` (when numeric) and ``y`` as
    float64, rows where any of ``x``, ``y`` and the columns ``more`` is missing left out
    (as seaborn's lineplot reads them)."""
    columns = list(dict.fromkeys(c for c in (x, y, *more) if c))
    data = data[columns].dropna()
    floats = [x, y] if pd.api.types.is_numeric_dtype(data[x]) else [y]
    return data.astype(dict.fromkeys(floats, float))


def _curve(ax: Axes, data: pd.DataFrame, x: str, y: str, colour: object = None, **line):
    """Draw the mean of ``y`` against ``x`` with its :data:`BAND`; return the line.

    As seaborn's lineplot: the rows sorted by ``x`` (a numeric one; other ``x`` in order
    of appearance, on a categorical axis) then ``y``, the mean and band at each ``x``
    (the raw points when no ``x`` repeats), white-edged markers, the band one
    PolyCollection at alpha 0.2 in the line's colour. With ``colour``, the line is drawn
    in the colour cycle's next colour (which moves the cycle on, as a hue level of
    seaborn does) and then given ``colour``.
    """
    numeric = pd.api.types.is_numeric_dtype(data[x])
    if numeric:
        data = data.sort_values([x, y])
    else:
        rank = pd.Series(pd.Categorical(data[x], pd.unique(data[x])).codes, index=data.index)
        data = data.assign(_rank=rank).sort_values(["_rank", y])
    values = data.groupby(x, sort=numeric)[y]
    repeated = data[x].value_counts().max() > 1
    if repeated:
        mean = values.mean()
        xs, means = mean.index.to_numpy(), mean.to_numpy(dtype=float)
        band = np.array([BAND(v) for _, v in values], dtype=float).reshape(-1, 2)
    else:
        xs, means = data[x].to_numpy(), data[y].to_numpy(dtype=float)
    (drawn,) = ax.plot(xs, means, markeredgewidth=0.75, markeredgecolor="w", **line)
    if colour is not None:
        drawn.set_color(colour)
    if repeated:
        ax.fill_between(xs, band[:, 0], band[:, 1], color=drawn.get_color(), alpha=0.2)
    return drawn


def _labels_shown(axis: Axis) -> bool:
    """Does ``axis`` show tick labels? The answer of ``any(t.get_visible() for t in
    axis.get_ticklabels())``, read from its tick settings and tick positions without
    formatting every label (which cost more than drawing the curve)."""
    sides = ("labelbottom", "labeltop") if axis.axis_name == "x" else ("labelleft", "labelright")
    params = axis.get_tick_params(which="major")
    if not any(params.get(side, False) for side in sides):
        return False
    low, high = sorted(axis.get_view_interval())
    locations = np.asarray(axis.get_majorticklocs(), dtype=float)
    return bool(((locations >= low) & (locations <= high)).any())


def _axis_labels(ax: Axes, x: str, y: str) -> None:
    """Name the axes after the columns ``x`` and ``y`` where they have no label yet."""
    if not ax.get_xlabel():
        ax.set_xlabel(x, visible=_labels_shown(ax.xaxis))
    if not ax.get_ylabel():
        ax.set_ylabel(y, visible=_labels_shown(ax.yaxis))


def _mean_and_band(ax: Axes, data: pd.DataFrame, x: str, y: str, **line: object) -> None:
    """What ``sns.lineplot(data=data, x=x, y=y, errorbar=BAND, ax=ax, **line)`` draws
    (the tests compare the pixels of both), at a tenth of its cost: one :func:`_curve`,
    the axis labels set to the column names where empty, and a legend when the axes
    have labelled artists. Means are of the values themselves on any axis scale."""
    if data.empty:
        return
    _curve(ax, data, x, y, **line)
    _axis_labels(ax, x, y)
    if ax.get_legend_handles_labels()[0]:
        ax.legend()


def _hue_lines(
    ax: Axes,
    data: pd.DataFrame,
    x: str,
    y: str,
    hue: str | None,
    *,
    order: list | None = None,
    palette: Mapping | list | None = None,
    style: str | None = None,
    markers: bool = False,
    legend: bool = True,
    **line: object,
) -> None:
    """One mean curve with its 95 % band per level of ``hue`` (and of ``style``): what
    ``sns.lineplot(data=data, x=x, y=y, hue=hue, hue_order=order, palette=palette,
    style=style, markers=markers, dashes=not markers, errorbar=BAND, legend=legend,
    **line)`` draws for a categorical ``hue`` (tests/test_plots.py compares the pixels).

    Levels are ``order`` or :func:`_levels` of the column; colours come from ``palette``
    (a mapping level -> colour, or a list in level order), else from the colour cycle
    (:func:`_cycle_palette`). A ``style`` column gives each of its levels a dash pattern
    (:data:`STYLE_DASHES`), or a marker (:data:`STYLE_MARKERS`) when ``markers``. A
    numeric ``hue`` is drawn as categories too (seaborn would use a continuous colour
    map). The legend is titled with the column's name; with two columns, each part of
    the legend is headed by its column's name (an entry with a blank handle).
    """
    if hue is None and style is None:
        _mean_and_band(ax, _as_seaborn_reads(data, x, y), x, y, **line)
        return
    levels = list(order) if order is not None else _levels(data[hue]) if hue else [None]
    styles = _levels(data[style]) if style else [None]
    data = _as_seaborn_reads(data, x, y, hue, style)
    if hue is None:  # one colour for every style: the cycle's next, as matplotlib's plot
        scout = ax.plot([], [], scalex=False, scaley=False, **line)[0]
        colours = {None: scout.get_color()}
        scout.remove()
    elif isinstance(palette, Mapping):
        colours = {level: palette[level] for level in levels}
    else:
        colours = dict(zip(levels, palette or _cycle_palette(len(levels)), strict=False))
    look = {
        kind: {"marker": STYLE_MARKERS[i % len(STYLE_MARKERS)]}
        if markers
        else {"dashes": STYLE_DASHES[i % len(STYLE_DASHES)]}
        for i, kind in enumerate(styles)
    }
    one = hue is None or style is None or style == hue  # a legend entry per drawn line
    for level, kind in product(levels, styles):
        part = data
        if hue:
            part = part[part[hue] == level]
        if style:
            part = part[part[style] == kind]
        if part.empty:
            continue
        label = str(level if hue else kind) if legend and one else None
        if hue:  # a hue level moves the colour cycle on; one colour for all styles does not
            drawn = _curve(ax, part, x, y, colours[level], label=label, **line)
        else:
            drawn = _curve(ax, part, x, y, label=label, **{**line, "color": colours[None]})
        if "dashes" in look[kind]:
            drawn.set_dashes(look[kind]["dashes"])
        if "marker" in look[kind]:
            drawn.set_marker(look[kind]["marker"])
    _axis_labels(ax, x, y)
    if not legend:
        return
    if one:
        ax.legend(title=hue or style)
        return
    common = dict(line, markeredgewidth=0.75, markeredgecolor="w")
    handles, labels = [], []
    for column, entries in ((hue, levels), (style, styles)):
        if column is None:
            continue
        handles.append(Line2D([], [], **{**common, "color": "w", "linewidth": 0, "marker": ""}))
        labels.append(column)
        for entry in entries:
            kws = {"color": colours[entry]} if column == hue else {"color": ".2", **look[entry]}
            handles.append(Line2D([], [], **{**common, **kws}))
            labels.append(str(entry))
    ax.legend(handles, labels)


def _groups(frame: pd.DataFrame, hue: str | None) -> list[tuple[object, pd.DataFrame]]:
    """The frame split by ``hue``, in order of first appearance."""
    if hue is None:
        return [(None, frame)]
    return [(name, frame[frame[hue] == name]) for name in frame[hue].drop_duplicates()]


def subplots(ncols: int, width: float = 5.2, height: float = 3.8):
    """A row of ``ncols`` panels sized for a book page: ``(figure, axes)``."""
    ncols = _validate.positive_int("ncols", ncols)
    width = _validate.positive_float("width", width)
    height = _validate.positive_float("height", height)
    fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), layout="constrained")
    return fig, axes


# ---------------------------------------------------------------------------------------------
# Forgetting

ACCURACY = "recall, nearest of the tasks' values"  # fraction of test keys
# One colour per memory in every forgetting figure (skipping the palette's fourth colour,
# which is hard to tell from its second).
_COLOURS = _palette("colorblind", 10)
MEMORY_COLOURS = dict(
    zip(
        ["EpisodicMemory", "MatrixAssociativeMemory", "DeltaRuleMemory", "AttentionMemory"],
        [_COLOURS[0], _COLOURS[1], _COLOURS[2], _COLOURS[4]],
        strict=True,
    )
)
TWO_TASKS = {"acc_A1": "A, after learning A", "acc_A2": "A, after learning B", "acc_B": "B"}


def task_accuracies(
    frame: pd.DataFrame,
    *,
    by: str = "memory",
    ax: Axes | None = None,
    title: str | None = None,
    legend: bool = True,
) -> Axes:
    """The two-task scores of a :func:`memnb.experiments.forgetting` frame as bars.

    For each ``by`` value: the accuracy on A right after learning A, on A after learning
    B, and on B, each the mean over trials with its 95 % confidence interval. The dotted
    grey line is chance (a read that picks one of the candidate values at random).
    """
    _require(frame, [by, "chance", *TWO_TASKS])
    ax = _axes(ax)
    _bars(ax, frame, by, TWO_TASKS)
    chance = ax.axvline(frame["chance"].mean(), **CHANCE_STYLE, label="chance")
    _note_diverged(ax, frame, by)
    ax.set_xlim(0, 1.02)
    ax.set_xlabel(ACCURACY)
    ax.set_ylabel("")
    if legend:
        ax.legend([*ax.containers, chance], [*TWO_TASKS.values(), "chance"], title="tested",
                  loc="center left", bbox_to_anchor=(1.01, 0.5))  # fmt: skip
    if title:
        ax.set_title(title)
    return ax


def _bars(ax: Axes, frame: pd.DataFrame, by: str, columns: Mapping[str, str]) -> None:
    """Horizontal bars of the mean of each of ``columns`` (column -> label) for each
    ``by`` value, one row per value in order of appearance, with the :data:`BAND`
    interval as a dark grey error bar: seaborn's barplot of the melted frame, bars in
    the cycle's colours at 75 % saturation, one BarContainer and one LineCollection per
    column."""
    names = list(frame[by].drop_duplicates())
    width = 0.8 / len(columns)
    rows = np.arange(len(names), dtype=float)
    colours = [_desaturate(c, 0.75) for c in _cycle_palette(len(columns))]
    grouped = frame.groupby(by, sort=False)
    for i, ((column, label), colour) in enumerate(zip(columns.items(), colours, strict=True)):
        means = grouped[column].mean().reindex(names).to_numpy(dtype=float)
        band = np.array([BAND(grouped[column].get_group(n)) for n in names]).reshape(-1, 2)
        at = rows + width * i + width / 2 - 0.4
        ax.barh(at, means, height=width, color=colour, label=label)
        lw = 1.5 * matplotlib.rcParams["lines.linewidth"]
        ax.hlines(at, band[:, 0], band[:, 1], color=".26", lw=lw, capstyle="round")
    _categories(ax, "y", names)


def _categories(ax: Axes, axis: str, names: list) -> None:
    """Make ``axis`` of ``ax`` a categorical one: ``names`` at 0, 1, ... (top down on y),
    no grid along it."""
    if axis == "x":
        ax.set_xticks(range(len(names)), labels=[str(n) for n in names])
        ax.xaxis.grid(False)
        ax.set_xlim(-0.5, len(names) - 0.5)
    else:
        ax.set_yticks(range(len(names)), labels=[str(n) for n in names])
        ax.yaxis.grid(False)
        ax.set_ylim(len(names) - 0.5, -0.5)


def sweep_curve(
    frame: pd.DataFrame,
    x: str,
    y: str = "forgetting",
    *,
    hue: str | None = "memory",
    style: str | None = None,
    ax: Axes | None = None,
    logx: bool = False,
    xlabel: str | None = None,
    ylabel: str | None = None,
    title: str | None = None,
) -> Axes:
    """Mean ``y`` against a swept setting ``x``, with a 95 % confidence band over trials.

    When ``y`` is ``"accuracy"`` and the frame has a ``chance`` column, its mean against
    ``x`` is drawn as a dotted grey line labelled "chance", and the default y label names
    the criterion (nearest of the candidate values); ``"cosine_recall"`` is labelled with
    its cosine threshold.
    """
    _require(frame, [x, y] + [c for c in (hue, style) if c])
    ax = _axes(ax)
    names = [] if hue is None else list(frame[hue].drop_duplicates())
    known = hue == "memory" and set(names) <= set(MEMORY_COLOURS)
    palette = {n: MEMORY_COLOURS[n] for n in names} if known else None
    _hue_lines(ax, frame, x, y, hue, palette=palette, style=style, marker="o", markersize=4)
    if y == "accuracy" and _has_chance(frame):
        _legend_with(ax, _chance_curve(ax, frame, x))
        nearest = (
            NEAREST if "n_items" in frame.columns else "recall, nearest of the candidate values"
        )
        ylabel = ylabel or nearest
    elif y == "cosine_recall":
        ylabel = ylabel or _cosine_label(frame)
    _note_diverged(ax, frame, hue)
    if logx:  # a sweep has few settings: label each of them
        ax.set_xscale("log")
        ticks = sorted(frame[x].unique())
        ax.set_xticks(ticks, labels=[f"{t:g}" for t in ticks])
        ax.minorticks_off()
    ax.set_xlabel(xlabel or x)
    ax.set_ylabel(ylabel or y)
    if title:
        ax.set_title(title)
    return ax


def accuracy_heatmap(matrix: object, *, ax: Axes | None = None, title: str | None = None) -> Axes:
    """The mean accuracy matrix ``R[i, j]`` over trials as an annotated heatmap.

    ``matrix`` is ``(trials, T, T)`` (a tensor or an array, e.g. from
    :func:`memnb.summaries.accuracy_matrix`): row ``i`` is after learning task ``i + 1``,
    column ``j`` the task tested.
    """
    try:
        mean = np.asarray(matrix, dtype=float).mean(axis=0)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"matrix must be a tensor or array of accuracies, got {type(matrix).__name__}"
        ) from error
    if mean.ndim != 2 or mean.shape[0] != mean.shape[1]:
        raise ValueError(f"matrix must have shape (trials, T, T), got {tuple(np.shape(matrix))}")
    ax = _axes(ax)
    ticks = list(range(1, mean.shape[0] + 1))
    _heatmap(ax, mean, ticks, ticks, "mean accuracy")
    ax.set_xlabel("task tested")
    ax.set_ylabel("after learning task")
    if title:
        ax.set_title(title)
    return ax


def _relative_luminance(colours: np.ndarray) -> np.ndarray:
    """The relative luminance (W3C) of RGB(A) ``colours`` ``(n, 3 or 4)``."""
    rgb = np.asarray(colours, dtype=float)[:, :3]
    rgb = np.where(rgb <= 0.03928, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return rgb @ np.array([0.2126, 0.7152, 0.0722])


def _heatmap(ax: Axes, values: np.ndarray, xticks: list, yticks: list, label: str) -> None:
    """``values`` ``(rows, columns)`` as square viridis cells from 0 to 1, row 0 on top,
    each annotated with its value (".2f", dark on light cells, white on dark ones; NaN
    cells left blank), and a colour bar labelled ``label``: seaborn's annotated heatmap
    in one QuadMesh, without its tick-label overlap check (a layout pass)."""
    values = np.ma.masked_invalid(np.asarray(values, dtype=float))
    rows, cols = values.shape
    mesh = ax.pcolormesh(values, cmap="viridis", vmin=0, vmax=1)
    ax.set(xlim=(0, cols), ylim=(rows, 0))
    ax.set_aspect("equal")
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_xticks(np.arange(cols) + 0.5, labels=[str(t) for t in xticks])
    ax.set_yticks(np.arange(rows) + 0.5, labels=[str(t) for t in yticks], va="center")
    bar = ax.figure.colorbar(mesh, ax=ax, shrink=0.8, label=label)
    bar.outline.set_linewidth(0)
    shown = ~np.ma.getmaskarray(values)
    light = _relative_luminance(mesh.to_rgba(values.filled(0).ravel())) > 0.408
    for (i, j), is_light in zip(np.ndindex(rows, cols), light, strict=True):
        if shown[i, j]:
            ax.text(j + 0.5, i + 0.5, f"{values[i, j]:.2f}", ha="center", va="center",
                    color=".15" if is_light else "w", fontsize="small")  # fmt: skip


def forgetting_trace(
    frame: pd.DataFrame, *, ax: Axes | None = None, title: str | None = None
) -> Axes:
    """Accuracy on tasks A and B after every write (a
    :func:`memnb.experiments.forgetting_trace` frame), with 95 % confidence bands; the
    shaded span is where B is written, the dotted grey line chance."""
    _require(frame, ["step", "task", "accuracy", "chance", "steps_A", "steps_B"])
    ax = _axes(ax)
    steps_a, steps_b = int(frame["steps_A"].iloc[0]), int(frame["steps_B"].iloc[0])
    ax.axvspan(steps_a, steps_a + steps_b, color="0.9", zorder=0, label="writing B")
    _hue_lines(ax, frame, "step", "accuracy", "task", order=["A", "B"])
    ax.axhline(frame["chance"].mean(), **CHANCE_STYLE, label="chance")
    _note_diverged(ax, frame, "memory")
    ax.set_ylim(-0.02, 1.02)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("update steps (A, then B)")
    ax.set_ylabel(ACCURACY)
    ax.legend(title="tested", loc="center left", bbox_to_anchor=(1.01, 0.5))
    if title:
        ax.set_title(title)
    return ax


# ---------------------------------------------------------------------------------------------
# Capacity

CAPACITY_LABELS = {
    "accuracy": "recall accuracy (fraction of the N items)",  # a frame without chance
    "mse": "MSE of the read (per coordinate)",
    "cosine": "cosine(read, value)",
    "cosine_distance": "cosine distance, 1 - cos(read, value)",
    "weight": "softmax weight on the own pair",
}
N_LABEL = "pairs written, N"
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def _capacity_palette(n: int) -> list:
    """Colour-blind palette without its vermillion next to its orange (for <= 10 lines)."""
    if n > 10:
        return _palette("viridis", n)
    base = _palette("colorblind", 10)
    return [base[i] for i in (0, 1, 2, 4, 3, 5, 6, 7, 8, 9)][:n]


def capacity_curve(
    frame: pd.DataFrame,
    y: str = "accuracy",
    *,
    hue: str | None = "memory",
    ax: Axes | None = None,
    threshold: float | None = None,
    logy: bool = False,
    label: str | None = None,
    title: str | None = None,
) -> Axes:
    """Mean ``y`` against the number of pairs N (log axis), with a 95 % band over trials.

    ``y`` is a column of a capacity frame, or ``"cosine_distance"`` (``1 - cosine``).
    With ``y="accuracy"`` and a ``chance`` column in the frame, the chance level (``1/N``
    for a capacity frame) is drawn against N as a thin dotted grey line labelled
    "chance", and the y label names the criterion, "recall, nearest of N values".
    ``y="cosine_recall"`` is labelled "recall, cosine >= 0.9" (the frame's
    ``cosine_threshold``); it gets no chance line, since ``chance`` is the nearest-of-N
    level, and a read that ignores its query is within cosine 0.9 of a random Gaussian
    value with probability about 5e-4 at d = 8 and 1e-24 at d = 64.
    ``threshold`` draws a dotted horizontal line (the accuracy that defines capacity);
    ``label`` names the single curve drawn when ``hue`` is None. A curve stops at the
    last N where all its trials are finite, marked "diverged"; where its numbers stay
    finite (a diverged read counts as a miss) but the frame's ``diverged`` column flags
    a trial, each such N is marked.
    """
    if y == "cosine_distance" and y not in frame.columns:
        _require(frame, ["cosine"])
        frame = frame.assign(cosine_distance=1.0 - frame["cosine"])
    _require(frame, ["n_items", y] + ([hue] if hue else []))
    ax = _axes(ax)
    groups = _groups(frame, hue)
    palette = _capacity_palette(len(groups))
    for i, ((name, group), colour) in enumerate(zip(groups, palette, strict=True)):
        marker = MARKERS[i % len(MARKERS)]
        shown = _finite_band(
            ax, group, "n_items", y, colour, str(name) if hue else label, marker, 4
        )
        means = shown.groupby("n_items")[y].mean()
        flagged = (
            group["diverged"].eq(True).groupby(group["n_items"]).any() if _diverged(group) else None
        )
        if len(shown) < len(group) and len(means):  # the curve stops: mark where
            ax.plot(means.index[-1], means.iloc[-1], "X", color=colour, ms=9, label=DIVERGED)
        elif flagged is not None:  # finite numbers (misses) but diverged reads: mark each N
            at = means[flagged.reindex(means.index, fill_value=False).to_numpy()]
            ax.plot(at.index, at.to_numpy(), "X", color=colour, ms=9, ls="", label=DIVERGED)
    if threshold is not None:
        ax.axhline(threshold, color="k", ls=":", lw=1)
    nearest = y == "accuracy" and _has_chance(frame)
    if nearest:
        _chance_curve(ax, frame, "n_items")
    ax.set_xscale("log", base=2)
    ticks = sorted(frame["n_items"].unique())
    if len(ticks) <= 12:
        ax.set_xticks(ticks, labels=[f"{t:g}" for t in ticks])
        ax.minorticks_off()
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(N_LABEL)
    if nearest:
        ax.set_ylabel(NEAREST)
    elif y == "cosine_recall":
        ax.set_ylabel(_cosine_label(frame))
    else:
        ax.set_ylabel(CAPACITY_LABELS.get(y, y))
    if hue:
        ax.legend(title=hue, fontsize="small")
    elif nearest and ax.get_legend() is not None:  # a labelled single curve: add chance
        ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    return ax


def capacity_panels(
    frame: pd.DataFrame,
    *,
    hue: str | None = "memory",
    threshold: float | None = 0.95,
    mark: float | None = None,
    title: str | None = None,
    y: str = "accuracy",
):
    """Recall, MSE (log scale) and cosine distance against N, side by side.

    ``y`` is the recall criterion of the first panel: ``"accuracy"`` (nearest of N, with
    chance drawn when the frame has it) or ``"cosine_recall"`` (see
    :func:`capacity_curve`). ``mark`` draws a dotted vertical line at that N in every
    panel (e.g. the capacity; None or NaN: no line). Returns ``(figure, axes)``; the
    legend is drawn once, in the first panel.
    """
    if isinstance(mark, float) and np.isnan(mark):
        mark = None
    if mark is not None:
        mark = _validate.positive_float("mark", mark)
    fig, axes = subplots(3, width=4.4, height=3.6)
    capacity_curve(frame, y, hue=hue, ax=axes[0], threshold=threshold)
    capacity_curve(frame, "mse", hue=hue, ax=axes[1], logy=True)
    capacity_curve(frame, "cosine_distance", hue=hue, ax=axes[2])
    for ax in axes[1:]:
        if ax.get_legend() is not None:
            ax.get_legend().remove()
    if mark is not None:
        for ax in axes:
            ax.axvline(mark, color="k", ls=":", lw=1)
    if title:
        fig.suptitle(title)
    return fig, axes


def capacity_points(
    table: pd.DataFrame,
    x: str,
    *,
    hue: str | None = None,
    ax: Axes | None = None,
    logx: bool = True,
    logy: bool = True,
    xlabel: str | None = None,
    legend: str = "best",
    title: str | None = None,
) -> Axes:
    """Capacity numbers against a setting ``x``, with their bootstrap intervals.

    ``table`` is :func:`memnb.summaries.capacity_at` with ``ci`` set, its index reset so
    that ``x`` (and ``hue``) are columns. A capacity that is only a lower bound (the
    accuracy never fell below the threshold) is drawn as an upward triangle.
    """
    _require(table, [x, "capacity", "lower_bound", "low", "high"] + ([hue] if hue else []), "table")
    ax = _axes(ax)
    groups = _groups(table, hue)
    palette = _capacity_palette(len(groups))
    for (name, group), colour in zip(groups, palette, strict=True):
        group = group.sort_values(x)
        cap = group["capacity"].to_numpy(dtype=float)
        low = np.clip(cap - group["low"].to_numpy(dtype=float), 0, None)
        high = np.clip(group["high"].to_numpy(dtype=float) - cap, 0, None)
        ax.errorbar(
            group[x],
            cap,
            yerr=[low, high],
            color=colour,
            marker="o",
            ms=4,
            capsize=3,
            label=str(name) if hue else None,
        )
        bound = group["lower_bound"].to_numpy(dtype=bool)
        ax.plot(group[x][bound], cap[bound], "^", color=colour, ms=10)
    if table["lower_bound"].any():
        ax.plot([], [], "^", color="0.4", ms=8, label="at least (largest N measured)")
    if logx:
        ax.set_xscale("log", base=2)
        ticks = sorted(table[x].unique())
        ax.set_xticks(ticks, labels=[f"{t:g}" for t in ticks])
        ax.minorticks_off()
    if logy:
        ax.set_yscale("log", base=2)
    ax.set_xlabel(xlabel or x)
    ax.set_ylabel("capacity (N at 95 % recall)")
    if hue or table["lower_bound"].any():
        ax.legend(title=hue, fontsize="small", loc=legend)
    if title:
        ax.set_title(title)
    return ax


# ---------------------------------------------------------------------------------------------
# Sequences


def probe_strip(
    frame: pd.DataFrame, *, ax: Axes | None = None, hue: str = "memory", title: str | None = None
) -> Axes:
    """Cosine of each read with each item, one dot per trial, with the mean and its 95 % CI.

    ``frame`` is a :func:`memnb.experiments.probe` frame already restricted to one cue.
    """
    _require(frame, ["target", "cosine", hue])
    ax = _axes(ax)
    targets, names = _levels(frame["target"]), _levels(frame[hue])
    n = len(names)
    shown = frame.dropna(subset=["target", "cosine", hue])
    at = shown["target"].map({t: i for i, t in enumerate(targets)}).to_numpy(dtype=float)
    jitter = np.random.default_rng(0).uniform(-0.15 / n, 0.15 / n, len(shown))
    for i, (name, colour) in enumerate(zip(names, _cycle_palette(n), strict=True)):
        mine = (shown[hue] == name).to_numpy()
        x = at[mine] + 0.8 / n * (i - (n - 1) / 2) + jitter[mine]
        ax.scatter(x, shown["cosine"][mine], s=9, color=colour, alpha=0.35, linewidth=0,
                   label=str(name))  # fmt: skip
    _points(ax, shown, "target", "cosine", hue, targets, names, _dark_palette(n),
            0.8 * (n - 1) / n, marker="D", markersize=4)  # fmt: skip
    _categories(ax, "x", targets)
    ax.axhline(0, color="0.5", lw=0.8)
    _note_diverged(ax, frame, hue)
    ax.set_xlabel("item compared with the read")
    ax.set_ylabel("cosine(read, item)")
    ax.legend(fontsize="small", loc="best")
    if title:
        ax.set_title(title)
    return ax


def _points(
    ax: Axes,
    frame: pd.DataFrame,
    x: str,
    y: str,
    hue: str,
    order: list,
    names: list,
    colours: list,
    dodge: float,
    **marker: object,
) -> None:
    """The mean of ``y`` at each category of ``x`` (placed at 0, 1, ... in ``order``) and
    each ``hue`` level of ``names``, with its :data:`BAND` interval as a thick bar, the
    levels spread over ``dodge``: seaborn's pointplot without lines, one ``errorbar``
    (a line and one LineCollection) per level."""
    lw = 1.8 * matplotlib.rcParams["lines.linewidth"]
    for i, (name, colour) in enumerate(zip(names, colours, strict=True)):
        values = frame[frame[hue] == name].groupby(x)[y]
        present = [t for t in order if t in values.groups]
        if not present:
            continue
        means = values.mean().reindex(present).to_numpy(dtype=float)
        band = np.array([BAND(values.get_group(t)) for t in present]).reshape(-1, 2)
        shift = -dodge / 2 + dodge / (len(names) - 1) * i if dodge and len(names) > 1 else 0
        at = np.array([order.index(t) for t in present], dtype=float) + shift
        ax.errorbar(at, means, yerr=np.abs(band - means[:, None]).T, ls="none", color=colour,
                    lw=lw, mew=0.75 * lw, **marker)  # fmt: skip


def chain_curve(frame: pd.DataFrame, *, ax: Axes | None = None, title: str | None = None) -> Axes:
    """Fraction of trials whose chained read is nearest the right item, against list position."""
    _require(frame, ["position", "correct", "memory"])
    ax = _axes(ax)
    _hue_lines(ax, frame.assign(correct=frame["correct"].astype(float)), "position", "correct",
               "memory", style="memory", markers=True)  # fmt: skip
    _note_diverged(ax, frame, "memory")
    ax.set_xlabel("position in the list (item 1 is the first cue)")
    ax.set_ylabel("correct (fraction of trials)")
    ax.set_ylim(-0.03, 1.03)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if title:
        ax.set_title(title)
    return ax


def lag_crp_curve(
    crps: dict[str, pd.DataFrame],
    *,
    max_lag: int = 5,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Lag-CRP of several sources (psifr frames) with 95 % CIs over subjects (or trials).

    Negative and positive lags are drawn as separate segments, as is usual for lag-CRPs.
    """
    if not isinstance(crps, Mapping) or not crps:
        raise ValueError(
            f"crps must be a non-empty mapping of name -> lag-CRP frame, got {crps!r:.60}"
        )
    max_lag = _validate.positive_int("max_lag", max_lag)
    ax = _axes(ax)
    colours = _palette("colorblind", 10)
    palette = [colours[i] for i in (0, 1, 2, 4, 5, 6, 7, 8, 9)][: len(crps)]
    for (name, crp), colour in zip(crps.items(), palette, strict=True):
        _require(crp, ["lag", "prob"], f"crps[{name!r}]")
        near = crp[(crp["lag"].abs() <= max_lag) & (crp["lag"] != 0)]
        for side in (near[near["lag"] < 0], near[near["lag"] > 0]):
            label = name if side["lag"].iloc[0] > 0 else None
            line = dict(color=colour, marker="o", label=label)
            _mean_and_band(ax, _as_seaborn_reads(side, "lag", "prob"), "lag", "prob", **line)
    ax.set_xlabel("lag (serial positions from the previous recall)")
    ax.set_ylabel("conditional response probability")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(bottom=0)
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    return ax


# ---------------------------------------------------------------------------------------------
# Keys: recall of stored pairs and of unseen ones

TESTED = {"stored": "stored pairs", "unseen": "unseen contexts"}


def key_panels(
    frame: pd.DataFrame, y: str = "accuracy", *, hue: str = "memory", title: str | None = None
):
    """``y`` against N for a :func:`memnb.experiments.key_recall` frame: one panel per
    ``tested`` (stored pairs, unseen contexts), a 95 % band over trials. With
    ``y="accuracy"`` the chance level is drawn as a dotted grey line and the y label names
    the candidates (N values for stored pairs, N + the unseen ones for unseen contexts);
    ``y="cosine_recall"`` is labelled with its cosine threshold.

    Returns ``(figure, axes)``; the legend is drawn once, in the last panel.
    """
    _require(frame, ["tested", "chance", "n_items", y, hue])
    fig, axes = subplots(2, width=4.6, height=3.6)
    for ax, (tested, name) in zip(axes, TESTED.items(), strict=True):
        part = frame[frame["tested"] == tested]
        capacity_curve(part, y, hue=hue, ax=ax, title=name)
        if y in ("accuracy", "cosine_recall"):
            ax.set_ylim(-0.02, 1.02)
        if y == "accuracy" and tested == "unseen" and _has_chance(part):
            extra = _unseen_count(part)
            ax.set_ylabel(NEAREST if extra is None else f"recall, nearest of N + {extra} values")
    axes[0].get_legend().remove()
    axes[1].legend(title=hue, fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5))
    if title:
        fig.suptitle(title)
    return fig, axes


def _unseen_count(unseen: pd.DataFrame) -> int | None:
    """How many unseen values compete with the N stored ones in the unseen rows of a
    key-recall frame (``1 / chance - N``), or None when the rows disagree."""
    extra = (1 / unseen["chance"] - unseen["n_items"]).round().unique()
    return int(extra[0]) if len(extra) == 1 else None


def key_recall_panels(frame: pd.DataFrame, *, title: str | None = None, y: str = "accuracy"):
    """Recall and cosine against N for a one-memory :func:`memnb.experiments.key_recall`
    frame: stored pairs and unseen contexts as two lines in each panel, with 95 % bands
    over trials.

    ``y`` is the recall criterion of the first panel, ``"accuracy"`` (nearest of N) or
    ``"cosine_recall"``. With ``"accuracy"`` and a ``chance`` column, the chance level of
    each kind of query is drawn as a dotted grey line (``1/N`` for stored pairs, ``1/(N +
    n_unseen)`` for unseen contexts) and the y label names both candidate counts.

    Returns ``(figure, axes)``; the legend is drawn once, in the first panel.
    """
    _require(frame, ["tested", "n_items", y, "cosine"])
    frame = frame.assign(measure=frame["tested"].map(TESTED))
    chance = _has_chance(frame)
    fig, axes = subplots(2, width=4.6, height=3.6)
    for ax, column in zip(axes, (y, "cosine"), strict=True):
        capacity_curve(frame.drop(columns="chance", errors="ignore"), column, hue="measure", ax=ax)
    if y == "accuracy" and chance:
        for i, tested in enumerate(TESTED):
            _chance_curve(
                axes[0], frame[frame["tested"] == tested], "n_items", "chance" if i == 0 else None
            )
        extra = _unseen_count(frame[frame["tested"] == "unseen"])
        unseen = "N + unseen" if extra is None else f"N + {extra}"
        axes[0].set_ylabel(f"{NEAREST}\n({unseen} for unseen contexts)")
        axes[0].legend(title="measure", fontsize="small")
    elif y == "cosine_recall":
        axes[0].set_ylabel(_cosine_label(frame))
    axes[0].set_ylim(-0.02, 1.02)
    axes[1].get_legend().remove()
    if title:
        fig.suptitle(title)
    return fig, axes


# ---------------------------------------------------------------------------------------------
# Embedding dimensions

TRACE_LABELS = {
    "loss": "the memory's own loss (MSE)",
    "value_power": "stored P_V v, mean squared coordinate",
    "accuracy": "token-space recall, nearest of N",
}


def projection_panels(trace: pd.DataFrame, *, hue: str = "design", title: str | None = None):
    """Loss, projected-value power and token-space recall against the number of writes.

    ``trace`` is a :func:`memnb.experiments.projection_trace` frame; means with 95 %
    bands over trials, one line per ``hue`` value. The recall panel draws the frame's
    ``chance`` (``1 / N``) as the book's dotted chance line. Returns ``(figure, axes)``.
    """
    _require(trace, ["step", hue, "chance", *TRACE_LABELS], "trace")
    fig, axes = subplots(3, width=4.4, height=3.6)
    for ax, y in zip(axes, TRACE_LABELS, strict=True):
        shown = trace[trace[y].notna()]
        _hue_lines(ax, shown, "step", y, hue, order=sorted(trace[hue].unique()), marker="o",
                   markersize=4)  # fmt: skip
        _note_diverged(ax, trace, hue)
        ax.set_xlabel("writes of all N pairs")
        ax.set_ylabel(TRACE_LABELS[y])
        if y != "accuracy":
            ax.set_yscale("log")
        if ax is not axes[0] and ax.get_legend() is not None:
            ax.get_legend().remove()
        if y == "accuracy":
            ax.legend(handles=[_chance_curve(ax, trace, "step")], fontsize="small")
    if title:
        fig.suptitle(title)
    return fig, axes


def dimension_panels(
    sweep: pd.DataFrame, trace: pd.DataFrame, *, threshold: float = 0.95, title: str | None = None
):
    """Left: recall against the token dimension (a :func:`memnb.experiments.token_dimensions`
    frame ``sweep``), dotted at ``threshold``. Middle and right: the memory's own loss (log
    scale) and token recall against the number of writes, for a one-design
    :func:`memnb.experiments.projection_trace` frame ``trace``. 95 % bands over trials;
    the recall panels draw chance (the frames' ``chance`` column) as a dotted grey line.

    Returns ``(figure, axes)``.
    """
    _require(sweep, ["dim", "accuracy", "memory"], "sweep")
    _require(trace, ["step", "loss", "accuracy", "chance"], "trace")
    threshold = _validate.number("threshold", threshold)
    # Fixed margins that keep every label inside the canvas, not a layout engine: an
    # explorer redraws this figure on every change, and measuring every label to place
    # the panels took about a third of a redraw. Turning the engine off leaves matplotlib's
    # placeholder, so the figure is saved as drawn, without a second pass to crop it.
    fig, axes = plt.subplots(1, 3, figsize=(13.2, 3.6), layout="none")
    fig.set_layout_engine(PlaceHolderLayoutEngine(adjust_compatible=True, colorbar_gridspec=True))
    fig.subplots_adjust(left=0.062, right=0.99, bottom=0.15, top=0.86 if title else 0.95,
                        wspace=0.3)  # fmt: skip
    left, mid, right = axes
    sweep_curve(sweep, "dim", "accuracy", ax=left, logx=True, xlabel="token dimension d")
    left.axhline(threshold, color="k", ls=":", lw=1)
    left.set_ylabel(TRACE_LABELS["accuracy"])
    for ax, y in ((mid, "loss"), (right, "accuracy")):
        sweep_curve(trace, "step", y, hue=None, ax=ax, xlabel="writes of all N pairs")
        ax.set_ylabel(TRACE_LABELS[y])
    right.legend(fontsize="small")  # the chance line's entry
    mid.set_yscale("log")
    # Plain numbers at powers of ten (and at 2 and 5 times them when the loss spans less
    # than two decades, at every multiple under one), no minor ticks: cheaper to draw.
    low, high = mid.get_ylim()
    spread = high / low
    subs = (1.0,) if spread > 100 else (1.0, 2.0, 5.0) if spread > 10 else range(1, 10)
    mid.yaxis.set_major_locator(LogLocator(subs=subs))
    mid.yaxis.set_major_formatter("{x:g}")
    mid.yaxis.set_minor_locator(NullLocator())
    right.set_ylim(-0.02, 1.02)
    if title:
        fig.suptitle(title)
    return fig, axes


def dimension_heatmap(
    frame: pd.DataFrame,
    x: str = "memory_dim",
    y: str = "token_dim",
    value: str = "accuracy",
    *,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Mean ``value`` over trials on the grid of ``x`` and ``y`` settings, annotated."""
    _require(frame, [x, y, value])
    ax = _axes(ax)
    grid = frame.groupby([y, x])[value].mean().unstack(x).sort_index(ascending=False)
    _heatmap(ax, grid.to_numpy(dtype=float), list(grid.columns), list(grid.index), f"mean {value}")
    _note_diverged(ax, frame)
    ax.set_xlabel(x.replace("_", " ") + " (coordinates)")
    ax.set_ylabel(y.replace("_", " ") + " (coordinates)")
    if title:
        ax.set_title(title)
    return ax


# ---------------------------------------------------------------------------------------------
# Profiles (memnb.battery)

PROFILE_FLOOR = 1e-4  # relative errors below this are drawn at it (a log axis has no zero)


def profile_panels(
    frame: pd.DataFrame,
    protocols: tuple[str, ...],
    *,
    headlines: Mapping[str, Mapping[str, float]] | None = None,
) -> plt.Figure:
    """One panel per protocol of a stacked :func:`memnb.battery.profile` frame.

    ``frame`` has columns ``protocol`` and ``memory``; each memory keeps one colour in
    every panel, in the order of the frame (the profiled memory first).
    Panels: relative read error against writes, recall against N, the accuracy on task A
    before and after learning task B, recall against d at N = 50, the cosine of the
    read of B with A, B and C, and recall against cue noise. Bands and bars are 95 %
    confidence intervals over trials; accuracy panels show chance as a dotted grey line.
    ``headlines`` (memory -> its ``Profile.summary``) marks each headline number where it
    is read, with its interval (the ``low`` and ``high`` of each number, when it has
    them): a diamond and bar under the threshold line of the adaptation, capacity,
    dimension and cue-noise panels, and the forgetting score as the label of each row of
    the forgetting panel. A headline that is NaN because the memory's reads diverged in
    that panel is marked "diverged" in its place, and every panel with diverged trials
    says so in its corner. Returns the figure, its legend beside the panels.
    """
    _require(frame, ["protocol", "memory"])
    needed = ("adaptation", "capacity", "forgetting", "dimensions", "contiguity", "cue_noise")
    if not isinstance(protocols, tuple | list) or sorted(map(str, protocols)) != sorted(needed):
        raise ValueError(
            f"protocols must be the six protocols {needed} in some order, got {protocols!r}"
        )
    names = list(frame["memory"].drop_duplicates())
    palette = dict(zip(names, _capacity_palette(len(names)), strict=True))
    fig, grid = plt.subplots(2, 3, figsize=(16, 8.2), layout="constrained")
    axes = dict(zip(protocols, grid.flat, strict=False))
    rows = {p: frame[frame["protocol"] == p] for p in protocols}
    line = dict(palette=palette, legend=False, marker="o", markersize=3)

    adapt = rows["adaptation"]
    start = adapt[adapt["step"] == 0].groupby("memory")["mse"].mean()
    relative = (adapt["mse"] / adapt["memory"].map(start)).clip(lower=PROFILE_FLOOR)
    ax = axes["adaptation"]
    _hue_lines(ax, adapt.assign(relative=relative), "step", "relative", "memory", **line)
    ax.axhline(0.1, color="k", ls=":", lw=1)
    ax.set_yscale("log")
    _headline_marks(ax, names, palette, headlines, "steps_to_90pct", 0.1, log=True, rows=adapt)
    ax.set_xlabel("writes of the same pair (steps)")
    ax.set_ylabel("read MSE / MSE before any write")
    ax.set_title("adaptation: 90 % error reduction at the dotted line")

    for name, x, title in (
        ("capacity", "n_items", "capacity (d = 64)"),
        ("dimensions", "dim", "dimension sweep (N = 50)"),
    ):
        ax = axes[name]
        _hue_lines(ax, rows[name], x, "accuracy", "memory", **line)
        ax.axhline(0.95, color="k", ls=":", lw=1)
        ax.set_xscale("log", base=2)
        ticks = sorted(rows[name][x].unique())
        ax.set_xticks(ticks, labels=[f"{t:g}" for t in ticks])
        ax.minorticks_off()
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel(N_LABEL if x == "n_items" else "key/value dimension d")
        ax.set_ylabel("fraction of pairs recalled")
        if _has_chance(rows[name]):
            _chance_curve(ax, rows[name], x, None)
            ax.set_ylabel(NEAREST)
        key = "capacity_95" if name == "capacity" else "dim_for_95"
        _headline_marks(ax, names, palette, headlines, key, 0.95, log=False, rows=rows[name])
        ax.set_title(f"{title}: 95 % recall at the dotted line")

    _forgetting_panel(axes["forgetting"], rows["forgetting"], names, palette, headlines)

    ax = axes["contiguity"]
    probe = rows["contiguity"]
    probe = probe[(probe["cue"] == "B") & probe["target"].isin(["A", "B", "C"])]
    shown = [n for n in names if n in set(probe["memory"])]
    _points(ax, probe, "target", "cosine", "memory", ["A", "B", "C"], shown,
            [palette[n] for n in shown], 0.5, marker="o", markersize=4)  # fmt: skip
    _categories(ax, "x", ["A", "B", "C"])
    ax.axhline(0, color="0.5", lw=0.8)
    ax.set_xlabel("item compared with the read of B (A -> B -> C stored)")
    ax.set_ylabel("cosine(read of B, item)")
    ax.set_title("contiguity: the successor is C")
    _diverged_labels(ax, names, probe, headlines, "successor_cosine", axis="x")

    ax = axes["cue_noise"]
    noise = rows["cue_noise"]
    _hue_lines(ax, noise, "cue_noise", "accuracy", "memory", **line)
    ax.axhline(0.95, color="k", ls=":", lw=1)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("cue noise: |noise| / |key| (flipped fraction for ±1 patterns)")
    ax.set_ylabel("fraction recalled")
    _headline_marks(ax, names, palette, headlines, "cue_noise_95", 0.95, log=False, rows=noise)
    ax.set_title("noisy cues: 95 % recall at the dotted line")

    for name, ax in axes.items():
        _note_diverged(ax, rows[name], "memory")
    handles = [plt.Line2D([], [], color=palette[n], marker="o", lw=2) for n in names]
    fig.legend(handles, names, title="memory", loc="outside right center")
    return fig


def _diverged_of(rows: pd.DataFrame | None, name: object) -> bool:
    """Did a read of memory ``name`` in ``rows`` diverge?"""
    if rows is None or "diverged" not in rows.columns:
        return False
    return _diverged(rows[rows["memory"] == name])


def _diverged_labels(
    ax: Axes,
    names: list,
    rows: pd.DataFrame,
    headlines: Mapping[str, Mapping[str, float]] | None,
    key: str,
    *,
    axis: str,
) -> None:
    """Name, under the panel's title, each memory whose headline ``key`` is NaN because
    its reads in ``rows`` diverged."""
    if not headlines:
        return
    broken = [
        str(n)
        for n in names
        if np.isnan(_interval_of(headlines.get(n, {}).get(key))[0]) and _diverged_of(rows, n)
    ]
    if broken:
        ax.text(0.98, 0.02, f"{key} diverged: " + ", ".join(broken), transform=ax.transAxes,
                ha="right", va="bottom", color="crimson", fontsize="small")  # fmt: skip


def _interval_of(number: object) -> tuple[float, float, float]:
    """``(value, low, high)`` of a headline number (NaN bounds when it has none)."""
    value = float(number) if number is not None else np.nan
    return value, float(getattr(number, "low", np.nan)), float(getattr(number, "high", np.nan))


def _headline_marks(
    ax: Axes,
    names: list,
    palette: dict,
    headlines: Mapping[str, Mapping[str, float]] | None,
    key: str,
    level: float,
    *,
    log: bool,
    rows: pd.DataFrame | None = None,
) -> None:
    """Each memory's headline ``key`` as a diamond with its interval, stacked under the
    threshold line at ``level`` (one row per memory, in order); an interval open to the
    right runs to the edge of the panel. A NaN headline of a memory whose ``rows``
    diverged is marked "diverged" in its row instead."""
    if not headlines:
        return
    left, right = ax.get_xlim()
    for i, name in enumerate(names):
        value, low, high = _interval_of(headlines.get(name, {}).get(key))
        y = level / 1.18 ** (i + 1) if log else level - 0.025 * (i + 1)
        if np.isnan(value):
            if _diverged_of(rows, name):
                ax.text(left, y, f" \u00d7 {key} diverged", color=palette[name], fontsize="x-small",
                        va="center", ha="left", fontweight="bold")  # fmt: skip
            continue
        if np.isfinite(low):
            ax.plot([low, min(high, right)], [y, y], color=palette[name], lw=2, alpha=0.8)
        ax.plot([value], [y], marker="D", ms=4, color=palette[name], mec="k", mew=0.5)
    ax.set_xlim(right=right)


def _forgetting_panel(
    ax: Axes,
    rows: pd.DataFrame,
    names: list,
    palette: dict,
    headlines: Mapping[str, Mapping[str, float]] | None,
) -> None:
    """Accuracy on A right after learning it (hollow) and after learning B (filled), per
    memory with 95 % intervals; chance dotted; the forgetting score labels each row."""
    labels = []
    for i, name in enumerate(names):
        part = rows[rows["memory"] == name]
        means = []
        for column, dy, face in (("acc_A1", -0.15, "white"), ("acc_A2", 0.15, palette[name])):
            mean = float(part[column].mean())
            low, high = _bootstrap_band(part[column])
            ax.errorbar(mean, i + dy, xerr=[[mean - low], [high - mean]], fmt="o", ms=5,
                        color=palette[name], mfc=face, capsize=2)  # fmt: skip
            means.append(mean)
        ax.plot(means, [i - 0.15, i + 0.15], color=palette[name], lw=0.8)
        value, low, high = _interval_of((headlines or {}).get(name, {}).get("forgetting"))
        if headlines is None:
            labels.append("")
        elif np.isnan(value):
            labels.append("diverged" if _diverged_of(rows, name) else "not measurable")
        else:
            labels.append(f"{value:.2f} [{low:.2f}, {high:.2f}]")
    if _has_chance(rows):
        ax.axvline(rows["chance"].mean(), **CHANCE_STYLE)
    ax.set_yticks(range(len(names)), labels=labels)
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel("accuracy on A, nearest of the tasks' values")
    ax.set_ylabel("forgetting [95 % CI]" if headlines is not None else "")
    ax.set_title("forgetting: A before B (hollow) and after B (filled)")


# ---------------------------------------------------------------------------------------------
# Chance beside a figure that does not draw it


def chance_line(ax: Axes, frame: pd.DataFrame, x: str | None = None) -> Axes:
    """Draw ``frame``'s ``chance`` column on ``ax`` as the book's dotted grey chance line.

    With ``x``, the mean chance is drawn against that column (a level that varies, such
    as ``1 / N`` against N); without, as a horizontal line at its mean (``1 / L`` for a
    :func:`memnb.experiments.chain_recall` frame). The entry "chance" joins the axes'
    legend when it has one. For figures whose function draws no chance, such as
    :func:`chain_curve`.
    """
    ax = _axes(ax)
    _require(frame, ["chance"] + ([x] if x else []))
    if x is None:
        line = ax.axhline(frame["chance"].mean(), **CHANCE_STYLE, label="chance")
    else:
        line = _chance_curve(ax, frame, x)
    legend = ax.get_legend()
    if legend is not None:
        handles = [*legend.legend_handles, line]
        labels = [text.get_text() for text in legend.get_texts()] + ["chance"]
        ax.legend(handles, labels, title=legend.get_title().get_text() or None, fontsize="small")
    return ax


# ---------------------------------------------------------------------------------------------
# Capacity: budgets and rankings


def state_size_curve(
    frame: pd.DataFrame,
    y: str = "accuracy",
    *,
    hue: str = "memory",
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Mean ``y`` against the state size (floats, log axis), one line per ``hue``.

    ``frame`` is a capacity frame at one N (columns ``state_size``, ``trial``, ``y`` and
    ``hue``), each family read at several sizes: recall against the floats a memory
    holds, as in the recall-against-state-size figures of Arora et al. (2023). Each
    point is the mean over trials with a 95 % bootstrap interval. With ``y="accuracy"``
    and a ``chance`` column the chance level is drawn as a dotted grey line and the y
    label names the nearest-of-N criterion; ``"cosine_recall"`` is labelled with its
    threshold. Raises a ``ValueError`` when the frame holds more than one N.
    """
    _require(frame, ["state_size", y, hue])
    if "n_items" in frame.columns and frame["n_items"].nunique() > 1:
        raise ValueError(
            f"frame must hold one N (a recall at fixed N), got n_items "
            f"{sorted(frame['n_items'].unique().tolist())}"
        )
    ax = _axes(ax)
    groups = _groups(frame, hue)
    palette = _capacity_palette(len(groups))
    for i, ((name, group), colour) in enumerate(zip(groups, palette, strict=True)):
        by_size = group.groupby("state_size")[y]
        means = by_size.mean()
        bands = np.array([_bootstrap_band(values) for _, values in by_size])
        errors = np.clip([means.to_numpy() - bands[:, 0], bands[:, 1] - means.to_numpy()], 0, None)
        marker = MARKERS[i % len(MARKERS)]
        ax.errorbar(means.index, means.to_numpy(), yerr=errors, color=colour, marker=marker,
                    ms=5, capsize=2, label=str(name))  # fmt: skip
    nearest = y == "accuracy" and _has_chance(frame)
    if nearest:
        ax.axhline(frame["chance"].mean(), **CHANCE_STYLE, label="chance")
    ax.set_xscale("log", base=2)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("state size (floats one memory holds)")
    ax.set_ylabel(NEAREST if nearest else _cosine_label(frame) if y == "cosine_recall" else y)
    ax.legend(title=hue, fontsize="small")
    if title:
        ax.set_title(title)
    return ax


def capacity_ranking(
    table: pd.DataFrame,
    *,
    order: list | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Each memory's capacity at its defaults (hollow) and at its best (filled).

    ``table`` has one row per memory and setting: columns ``memory``, ``setting``
    (``"default"`` or ``"best"``) and the columns of :func:`memnb.summaries.capacity_at`
    with ``ci`` (``capacity, lower_bound, low, high``). One row of the figure per memory,
    in ``order`` (default: by capacity at the best setting, largest on top), with the
    95 % bootstrap interval of each point; an upward triangle marks a lower bound and a
    capacity below the smallest N measured is drawn at the left edge as an open cross.
    """
    _require(table, ["memory", "setting", "capacity", "lower_bound", "low", "high"], "table")
    unknown = sorted(set(table["setting"]) - {"default", "best"})
    if unknown:
        raise ValueError(f"setting must be 'default' or 'best', got {unknown}")
    ax = _axes(ax)
    if order is None:
        best = table[table["setting"] == "best"].set_index("memory")["capacity"]
        order = list(best.fillna(0).sort_values(ascending=False).index)
    finite = table["capacity"].dropna()
    floor = float(finite.min()) / 2 if len(finite) else 1.0
    palette = _capacity_palette(len(order))
    for i, (name, colour) in enumerate(zip(order, palette, strict=True)):
        rows = table[table["memory"] == name].set_index("setting")
        xs = []
        for setting, dy, face in (("default", 0.15, "white"), ("best", -0.15, colour)):
            if setting not in rows.index:
                continue
            row = rows.loc[setting]
            cap = float(row["capacity"])
            if np.isnan(cap):  # below the smallest N measured
                ax.plot(floor, i + dy, "x", color=colour, ms=7)
                continue
            low, high = max(cap - float(row["low"]), 0), max(float(row["high"]) - cap, 0)
            marker = "^" if bool(row["lower_bound"]) else "o"
            ax.errorbar(cap, i + dy, xerr=[[low], [high]], fmt=marker, ms=6, color=colour,
                        mfc=face, capsize=2)  # fmt: skip
            xs.append(cap)
        if len(xs) == 2:
            ax.plot(xs, [i + 0.15, i - 0.15], color=colour, lw=0.8)
    handles = [
        plt.Line2D([], [], marker="o", ls="", color="0.3", mfc="white", label="at defaults"),
        plt.Line2D([], [], marker="o", ls="", color="0.3", label="at its best"),
        plt.Line2D([], [], marker="^", ls="", color="0.3", label="at least (largest N)"),
        plt.Line2D([], [], marker="x", ls="", color="0.3", label="below the smallest N"),
    ]
    ax.legend(handles=handles, fontsize="small", loc="lower right")
    ax.set_yticks(range(len(order)), labels=[str(n) for n in order])
    ax.set_ylim(len(order) - 0.5, -0.5)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("capacity (N at 95 % recall)")
    if title:
        ax.set_title(title)
    return ax


# ---------------------------------------------------------------------------------------------
# Pattern completion

CUE_LINE = dict(color="grey", linestyle="--", linewidth=1.2)  # what returning the cue scores


def completion_panels(frame: pd.DataFrame, *, hue: str | None = None, title: str | None = None):
    """Recall from corrupted cues against the cue noise: ``(figure, axes)``.

    Left, the mean overlap of the read with its pattern; right, the fraction recalled
    exactly; both with 95 % confidence bands over trials. The dashed grey line on the
    left is the overlap of the cue itself (what a memory that returns its cue scores).
    ``frame`` is a :func:`memnb.experiments.completion` frame (``hue``: a column that
    tells its curves apart, e.g. ``"load"``).
    """
    _require(frame, ["noise", "overlap", "exact", "cue_overlap"] + ([hue] if hue else []))
    fig, axes = subplots(2, width=4.6, height=3.6)
    kind = frame["kind"].iloc[0] if "kind" in frame.columns else "flip"
    xlabel = "fraction of units flipped" if kind == "flip" else "fraction of units masked"
    for ax, y, label in zip(axes, ("overlap", "exact"), ("overlap with the pattern",
                            "fraction recalled exactly"), strict=True):  # fmt: skip
        sweep_curve(frame, "noise", y, hue=hue, ax=ax, xlabel=xlabel, ylabel=label)
        ax.set_ylim(-0.03, 1.03)
    cue = frame.groupby("noise")["cue_overlap"].mean()
    (line,) = axes[0].plot(cue.index, cue.to_numpy(), **CUE_LINE, label="the cue itself")
    if hue is None:
        axes[0].legend(handles=[line], fontsize="small")
    else:
        _legend_with(axes[0], line)
        axes[1].get_legend().remove()
    if title:
        fig.suptitle(title)
    return fig, axes


def pattern_images(
    columns: Mapping[str, object], size: int = 16, *, height: float = 1.1
) -> tuple[object, np.ndarray]:
    """±1 patterns drawn as ``size x size`` images: one column of the grid per entry of
    ``columns`` (title -> patterns ``(K, size * size)``, every entry the same K), one row
    per pattern; +1 is dark, -1 light and 0 (a masked unit) mid-grey. ``(figure, axes)``."""
    if not isinstance(columns, Mapping) or not columns:
        raise ValueError(
            f"columns must be a non-empty mapping of title -> patterns, got {columns!r:.60}"
        )
    size = _validate.positive_int("size", size)
    images = {title: np.asarray(patterns, dtype=float) for title, patterns in columns.items()}
    for title, patterns in images.items():
        if patterns.ndim != 2 or patterns.shape[-1] != size * size:
            raise ValueError(
                f"columns[{title!r}] must have shape (K, {size * size}), got {patterns.shape}"
            )
    rows = {patterns.shape[0] for patterns in images.values()}
    if len(rows) != 1:
        raise ValueError(
            f"every entry of columns must hold the same number of patterns, got {sorted(rows)}"
        )
    k, n = rows.pop(), len(images)
    fig, axes = plt.subplots(
        k, n, figsize=(height * n, height * k), squeeze=False, layout="constrained"
    )
    for j, (title, patterns) in enumerate(images.items()):
        axes[0, j].set_title(title, fontsize="small")
        for i in range(k):
            axes[i, j].imshow(patterns[i].reshape(size, size), cmap="Greys", vmin=-1, vmax=1)
            axes[i, j].set_xticks([])
            axes[i, j].set_yticks([])
    return fig, axes
