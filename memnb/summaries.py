"""Headline numbers read off experiment frames."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from . import _validate, metrics

__all__ = [
    "accuracy_matrix",
    "capacity_at",
    "continual_scores",
    "crp_at",
    "fill_missing",
    "first_reaching",
    "lag_crp",
    "mean_curve",
    "steps_to_fraction",
]

SEQUENCE_COLUMNS = ["trial", "after_task", "task", "accuracy"]  # of a task_sequence frame
PSIFR_COLUMNS = ["subject", "list", "trial_type", "position", "item"]  # of a psifr table


def mean_curve(frame: pd.DataFrame, by: str | None = "memory", y: str = "mse") -> pd.DataFrame:
    """Mean of ``y`` over trials at each step: index ``step``, one column per ``by`` value.

    NaN is not skipped: a step where any trial is NaN has a NaN mean.
    """
    _validate.require_columns(frame, ["step", y] + ([by] if by else []))
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
    if not 0 < _validate.number("fraction", fraction) < 1:
        raise ValueError(f"fraction must lie strictly between 0 and 1, got {fraction}")
    curves = mean_curve(frame, by, y)
    below = curves.lt(fraction * curves.iloc[0])
    first = below.idxmax().where(below.any())
    first.name = f"steps_to_{fraction:g}"
    return first.astype("Int64")


def capacity_at(
    frame: pd.DataFrame,
    threshold: float = 0.95,
    by: str | Sequence[str] | None = "memory",
    y: str = "accuracy",
    *,
    ci: float | None = None,
    n_boot: int = 500,
    seed: int = 0,
) -> pd.DataFrame:
    """Capacity: the number of items N up to which the mean ``y`` stays >= ``threshold``.

    ``frame`` is a capacity frame (columns ``n_items``, ``trial`` and ``y``); ``y`` names
    the recall criterion, ``"accuracy"`` (nearest of N) or ``"cosine_recall"`` (cosine to
    the own value at least the frame's ``cosine_threshold``). For each
    group of rows sharing the ``by`` column(s), the mean of ``y`` over trials is taken at
    each N (NaN is not skipped). Scanning N upwards, the capacity is where the mean first
    falls below ``threshold``, interpolated linearly in N between the last N at or above
    the threshold and the first N below it (a NaN mean counts as below, and the capacity
    is then the last N at or above). Values that come back above the threshold at larger
    N are ignored.

    Returns one row per group (a single row labelled ``"all"`` when ``by`` is None) with
    columns ``capacity`` (float) and ``lower_bound``:

    - the mean falls below the threshold within the N measured: the interpolated N,
      ``lower_bound`` False;
    - it never does: the largest N measured, ``lower_bound`` True (the true capacity is
      at least that; measure larger N to find it);
    - it is already below at the smallest N: NaN, ``lower_bound`` False (the capacity is
      below the smallest N measured).

    With ``ci`` (e.g. 0.95) the columns ``low`` and ``high`` hold a percentile bootstrap
    interval: trials are resampled ``n_boot`` times (with ``seed``) and the capacity is
    recomputed; a resample below the threshold at the smallest N counts as capacity 0.
    """
    if not 0 < _validate.number("threshold", threshold) <= 1:
        raise ValueError(f"threshold must lie in (0, 1], got {threshold}")
    if ci is not None and not 0 < _validate.number("ci", ci) < 1:
        raise ValueError(f"ci must lie strictly between 0 and 1 (or be None), got {ci}")
    n_boot = _validate.positive_int("n_boot", n_boot)
    seed = _validate.seed(seed)
    keys = [] if by is None else [by] if isinstance(by, str) else list(by)
    _validate.require_columns(frame, [*keys, "n_items", y] + (["trial"] if ci is not None else []))
    if len(frame) == 0:
        raise ValueError("frame has no rows")
    rng = np.random.default_rng(seed)
    rows = {}
    groups = frame.groupby(keys, sort=False) if keys else [("all", frame)]
    for name, group in groups:
        curve = group.groupby("n_items")[y].mean(skipna=False).sort_index()
        n = curve.index.to_numpy(dtype=float)
        capacity, bound = _crossings(n, curve.to_numpy(dtype=float)[None], threshold)
        row = {"capacity": capacity[0], "lower_bound": bool(bound[0])}
        if ci is not None:
            row["low"], row["high"] = _bootstrap(group, y, n, threshold, ci, n_boot, rng)
        rows[name[0] if len(keys) == 1 and isinstance(name, tuple) else name] = row
    result = pd.DataFrame.from_dict(rows, orient="index")
    if len(keys) > 1:
        result.index = pd.MultiIndex.from_tuples(result.index)
    result.index.names = keys or [None]
    return result


def _crossings(n: np.ndarray, means: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """First downward crossing of each row of ``means`` (curves over ``n``), interpolated.

    Returns ``(capacity, lower_bound)`` per row, as :func:`capacity_at` defines them.
    """
    below = ~(means >= threshold)  # NaN counts as below
    first = np.argmax(below, axis=1)
    never = ~below.any(axis=1)
    rows = np.arange(len(means))
    prev = np.maximum(first - 1, 0)
    a0, a1 = means[rows, prev], means[rows, first]
    with np.errstate(invalid="ignore", divide="ignore"):  # rows with first == 0 are NaN
        step = np.where(np.isfinite(a1), (a0 - threshold) / (a0 - a1), 0.0)
        capacity = n[prev] + step * (n[first] - n[prev])
    capacity = np.where(never, n[-1], np.where(first == 0, np.nan, capacity))
    return capacity, never


def _bootstrap(
    group: pd.DataFrame,
    y: str,
    n: np.ndarray,
    threshold: float,
    ci: float,
    n_boot: int,
    rng: np.random.Generator,
) -> tuple[float, float]:
    # The trials x N table of y (the mean where a trial holds several rows at one N), as
    # group.pivot_table(index="trial", columns="n_items", values=y) makes it, in arrays.
    trials, row = np.unique(group["trial"].to_numpy(), return_inverse=True)
    column = np.searchsorted(n, group["n_items"].to_numpy(dtype=float))
    sums, counts = np.zeros((len(trials), len(n))), np.zeros((len(trials), len(n)))
    np.add.at(sums, (row, column), group[y].to_numpy(dtype=float))
    np.add.at(counts, (row, column), 1.0)
    with np.errstate(invalid="ignore"):  # 0 / 0: a trial without a row at some N
        values = sums / counts
    if np.isnan(values).any():
        raise ValueError(f"a bootstrap needs every trial at every N; some {y} are missing")
    picks = rng.integers(0, len(values), size=(n_boot, len(values)))
    capacity, _ = _crossings(n, values[picks].mean(axis=1), threshold)
    low, high = np.quantile(np.nan_to_num(capacity, nan=0.0), [(1 - ci) / 2, (1 + ci) / 2])
    return float(low), float(high)


def first_reaching(
    frame: pd.DataFrame,
    x: str = "dim",
    threshold: float = 0.95,
    by: str | None = "memory",
    y: str = "accuracy",
) -> pd.DataFrame:
    """The smallest ``x`` at which the mean ``y`` over trials first reaches ``threshold``.

    For each ``by`` group the mean of ``y`` is taken at each ``x`` (NaN is not skipped and
    counts as below). Scanning ``x`` upwards, the crossing is interpolated linearly in
    ``log2 x`` between the last ``x`` below the threshold and the first at or above it
    (the settings swept are usually powers of two). Returns one row per group with
    columns ``crossing`` (float; NaN when the mean never reaches the threshold within the
    ``x`` measured) and ``at_first`` (True when it is already reached at the smallest
    ``x``: the crossing is then that ``x``, an upper bound).
    """
    if not 0 < _validate.number("threshold", threshold) <= 1:
        raise ValueError(f"threshold must lie in (0, 1], got {threshold}")
    _validate.require_columns(frame, [x, y] + ([by] if by else []))
    if len(frame) == 0:
        raise ValueError("frame has no rows")
    if (frame[x] <= 0).any():
        raise ValueError(f"column {x!r} must hold positive settings (it is read on a log scale)")
    rows = {}
    for name, group in frame.groupby(by, sort=False) if by else [("all", frame)]:
        curve = group.groupby(x)[y].mean(skipna=False).sort_index()
        at = np.log2(curve.index.to_numpy(dtype=float))
        means = curve.to_numpy(dtype=float)
        reached = means >= threshold
        if not reached.any():
            rows[name] = {"crossing": np.nan, "at_first": False}
            continue
        i = int(np.argmax(reached))
        if i == 0:
            rows[name] = {"crossing": float(2 ** at[0]), "at_first": True}
            continue
        lo, hi = means[i - 1], means[i]
        frac = 0.0 if not np.isfinite(lo) else (threshold - lo) / (hi - lo)
        rows[name] = {
            "crossing": float(2 ** (at[i - 1] + frac * (at[i] - at[i - 1]))),
            "at_first": False,
        }
    result = pd.DataFrame.from_dict(rows, orient="index")
    result.index.name = by
    return result


# ---------------------------------------------------------------------------------------------
# Continual learning: the accuracy matrix R[i, j] of a task sequence and its scores


def accuracy_matrix(frame: pd.DataFrame) -> torch.Tensor:
    """The accuracy matrices of a :func:`~memnb.experiments.task_sequence` frame:
    ``(trials, T, T)`` float64, ``R[t, i, j]`` the accuracy on task ``j + 1`` after
    learning task ``i + 1`` in trial ``t``.

    The frame must hold one run (one memory and setting): one row per trial and pair.
    """
    return _one_run(_validate.require_columns(frame, SEQUENCE_COLUMNS))


def _one_run(frame: pd.DataFrame) -> torch.Tensor:
    """:func:`accuracy_matrix` of a frame known to hold its columns."""
    trials, n = frame["trial"].nunique(), frame["after_task"].nunique()
    if len(frame) != trials * n * n or frame["task"].nunique() != n:
        raise ValueError(
            f"frame must hold one run: trials x T x T = {trials} x {n} x {n} rows, got "
            f"{len(frame)}; select one memory and setting first"
        )
    ordered = frame.sort_values(["trial", "after_task", "task"])
    values = torch.tensor(ordered["accuracy"].to_numpy(), dtype=torch.float64)
    return values.reshape(trials, n, n)


def continual_scores(frame: pd.DataFrame, by: str | None = "memory") -> pd.DataFrame:
    """Average accuracy, backward transfer and forgetting of each trial of a
    :func:`~memnb.experiments.task_sequence` frame (see :mod:`memnb.metrics` for the
    definitions).

    ``frame`` may hold several runs told apart by the column ``by`` (one memory each,
    say). Returns one row per run and trial with columns ``by`` (unless None),
    ``trial``, ``average_accuracy``, ``backward_transfer`` and ``forgetting``.
    """
    _validate.require_columns(frame, [by, *SEQUENCE_COLUMNS] if by else SEQUENCE_COLUMNS)
    runs = frame.groupby(by, sort=False) if by else [(None, frame)]
    scores = []
    for name, run in runs:
        matrix = _one_run(run)
        scores.append(
            pd.DataFrame(
                {
                    "trial": sorted(run["trial"].unique()),
                    "average_accuracy": metrics.average_accuracy(matrix).numpy(),
                    "backward_transfer": metrics.backward_transfer(matrix).numpy(),
                    "forgetting": metrics.forgetting_measure(matrix).numpy(),
                }
            )
        )
        if by:
            scores[-1].insert(0, by, name)
    return pd.concat(scores, ignore_index=True)


# ---------------------------------------------------------------------------------------------
# Free recall: the lag-CRP of a table in psifr's format


def lag_crp(table: pd.DataFrame) -> pd.DataFrame:
    """psifr's lag-CRP of a psifr table (:func:`memnb.experiments.free_recall` makes one):
    ``fr.merge_free_recall`` then ``fr.lag_crp``.

    Returns psifr's frame, one row per subject and lag, with columns
    ``subject, lag, prob, actual, possible``.
    """
    _validate.require_columns(table, PSIFR_COLUMNS, "table")
    whole = _whole_list_lag_crp(table)
    if whole is not None:
        return whole
    from psifr import fr

    return fr.lag_crp(fr.merge_free_recall(table)).reset_index()


def _whole_list_lag_crp(table: pd.DataFrame) -> pd.DataFrame | None:
    """psifr's lag-CRP frame (as :func:`lag_crp` returns it) of a table in which every
    subject studied one list, items named by their positions 1 .. L, and recalled each
    item once (the tables :func:`memnb.experiments.free_recall` makes), counted as one
    array program instead of psifr's loop over subjects and lists; None for any other
    table. Each transition from item ``i`` counts as possible every lag to an item not
    yet recalled, and as actual the lag it took (the tests compare it with psifr's)."""
    kind = table["trial_type"]
    study, recall = table[kind == "study"], table[kind == "recall"]
    if len(study) + len(recall) != len(table) or len(study) != len(recall) or study.empty:
        return None
    if not all(pd.api.types.is_integer_dtype(table[c]) for c in ("subject", "list", "item")):
        return None
    subjects = np.unique(study["subject"].to_numpy())
    trials, length = len(subjects), len(study) // len(subjects)
    if trials * length != len(study) or table.groupby("subject")["list"].nunique().max() != 1:
        return None
    positions = np.tile(np.arange(1, length + 1), trials)
    grids = []
    for events in (study, recall):
        events = events.sort_values(["subject", "position"], kind="stable")
        if not (
            np.array_equal(events["subject"].to_numpy(), np.repeat(subjects, length))
            and np.array_equal(events["position"].to_numpy(), positions)
        ):
            return None
        grids.append(events["item"].to_numpy().reshape(trials, length))
    studied, recalled = grids
    if not np.array_equal(studied, positions.reshape(trials, length)):
        return None
    if not np.array_equal(np.sort(recalled, axis=1), studied):
        return None
    lags = 2 * length - 1  # -(L-1) .. L-1
    actual = np.zeros((trials, lags), dtype=np.int64)
    possible = np.zeros((trials, lags), dtype=np.int64)
    rows = np.arange(trials)
    left = np.ones((trials, length), dtype=bool)  # items not yet recalled
    for t in range(length - 1):
        here, there = recalled[:, t], recalled[:, t + 1]
        left[rows, here - 1] = False
        np.add.at(actual, (rows, there - here + length - 1), 1)
        trial, item = np.nonzero(left)  # item: 0-based, so its lag is item + 1 - here
        np.add.at(possible, (trial, item + 1 - here[trial] + length - 1), 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        prob = actual / possible
    frame = pd.DataFrame(
        {
            "subject": np.repeat(subjects, lags),
            "lag": np.tile(np.arange(-(length - 1), length, dtype=np.int64), trials),
            "prob": prob.ravel(),
            "actual": actual.ravel(),
            "possible": possible.ravel(),
        }
    )
    return frame.reset_index()


def crp_at(crp: pd.DataFrame, lags: Sequence[int] = (-1, 1)) -> pd.Series:
    """Mean lag-CRP over subjects at the given lags (subjects without a possible transition
    at a lag are left out of that lag's mean)."""
    _validate.require_columns(crp, ["lag", "prob"], "crp")
    lags = _validate.sequence("lags", lags, _validate.number, "lags (numbers)", scalar=False)
    means = crp.groupby("lag")["prob"].mean()
    return means.reindex(lags)


def fill_missing(table: pd.DataFrame | pd.Series, text: str) -> pd.DataFrame | pd.Series:
    """A copy of ``table`` to show to a reader, with ``text`` in every missing cell.

    The summaries mark a level that was never reached with a missing value
    (:func:`steps_to_fraction`: no elbow within the steps run; :func:`capacity_at`: recall
    below the threshold already at the smallest N), which pandas prints as ``NaN`` or
    ``<NA>``. A table for readers says what it means instead, e.g.
    ``fill_missing(caps.round(1), "under 4")``, or ``""`` with a note under the table.
    The other cells keep their values; every column becomes an object column.
    """
    if not isinstance(table, pd.DataFrame | pd.Series):
        raise TypeError(f"table must be a pandas DataFrame or Series, got {type(table).__name__}")
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}")
    return table.astype(object).where(table.notna(), text)
