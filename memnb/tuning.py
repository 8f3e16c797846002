"""Tune a memory's hyperparameters on some seeds, then report it on others.

A comparison between memories is fair only when each runs at its best setting, chosen
on seeds other than those reported. :func:`tune` runs an experiment protocol (for
example :func:`memnb.experiments.capacity`) at every setting of a grid on the tuning
seeds, scores each run with an objective (higher is better), keeps the best setting,
and then runs both that setting and the memory's defaults on the evaluation seeds.

Every memnb memory class declares its grid as the class attribute ``hyperparameters``
(constructor keyword -> values to try); a reader's own class can declare one too, or
the grid is passed in. :data:`OBJECTIVES` names the objectives written for the book's
protocols.
"""

from __future__ import annotations

import inspect
import itertools
import math
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from functools import partial
from numbers import Integral, Real
from types import MappingProxyType

import numpy as np
import pandas as pd

from . import _validate, summaries

__all__ = [
    "Tuned",
    "tune",
    "tune_all",
    "tuned_factories",
    "tuning_table",
]

Factory = Callable[..., object]
Objective = Callable[[pd.DataFrame], float]
Grid = Mapping[str, Iterable[object]]

SETTINGS = ("default", "best")  # the values of the column ``setting`` of an evaluation


def _needs(frame: pd.DataFrame, columns: list[str], objective: str) -> None:
    """Check that ``frame`` has what the named ``objective`` reads."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(
            f"objective {objective!r} scores a pandas.DataFrame, got {type(frame).__name__}"
        )
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"objective {objective!r} needs column(s) {missing} in the protocol's frame; "
            f"it has {list(frame.columns)}"
        )
    if len(frame) == 0:
        raise ValueError(f"objective {objective!r} got a frame without rows")


def _capacity(frame: pd.DataFrame) -> float:
    """Capacity at 95 % recall (:func:`memnb.summaries.capacity_at`, trials pooled).

    Only the stored pairs count (rows with ``tested == "stored"`` when the frame has a
    ``tested`` column) and only the reads after the most writes (the largest ``steps``).
    A capacity beyond the largest N measured counts as that N, the lower bound it is; one
    below the smallest N counts as 0, its lower bound.
    """
    _needs(frame, ["n_items", "accuracy"], "capacity")
    if "tested" in frame.columns:
        frame = frame[frame["tested"] == "stored"]
    if "steps" in frame.columns:
        frame = frame[frame["steps"] == frame["steps"].max()]
    if len(frame) == 0:
        raise ValueError("objective 'capacity' found no rows with tested == 'stored'")
    capacity = float(summaries.capacity_at(frame, by=None)["capacity"].iloc[0])
    return 0.0 if math.isnan(capacity) else capacity


def _final_mse(frame: pd.DataFrame) -> float:
    """Minus the mean MSE over trials at the last step (an adaptation frame)."""
    _needs(frame, ["step", "mse"], "final_mse")
    last = frame["step"] == frame["step"].max()
    return -float(frame.loc[last, "mse"].mean(skipna=False))


def _forgetting(frame: pd.DataFrame) -> float:
    """Minus the mean forgetting over trials (a two-task frame of forgetting).

    A memory that learns nothing forgets nothing: read it beside ``acc_B``, or tune on a
    callable that weighs both.
    """
    _needs(frame, ["forgetting"], "forgetting")
    return -float(frame["forgetting"].mean(skipna=False))


def _accuracy(frame: pd.DataFrame) -> float:
    """The mean of the column ``accuracy`` over all rows."""
    _needs(frame, ["accuracy"], "accuracy")
    return float(frame["accuracy"].mean(skipna=False))


OBJECTIVES: Mapping[str, Objective] = MappingProxyType(
    {
        "capacity": _capacity,
        "final_mse": _final_mse,
        "forgetting": _forgetting,
        "accuracy": _accuracy,
    }
)
"""The named objectives: name -> function of a protocol's frame (higher is better)."""


@dataclass(frozen=True)
class Tuned:
    """What :func:`tune` found for one memory.

    Attributes:
        factory: the factory that was tuned.
        best: the best setting, constructor keyword -> value (empty: the defaults).
        grid: one row per setting of the grid, in the order run: a column per
            hyperparameter, ``score`` (mean over the tuning seeds), ``score_seed_<s>`` per
            seed, ``diverged`` (some run had a true ``diverged`` or a score that is not
            finite) and ``rank`` (1 is best; ties share a rank; diverged settings last).
        evaluation: the protocol's frames on the evaluation seeds at the defaults and at
            the best setting, stacked, with column ``setting`` ("default" or "best").
        scores: the objective on each evaluation frame: columns ``setting, seed, score,
            diverged``.
        objective: the objective's name.
        tuning_seeds, evaluation_seeds: the seeds of each phase (disjoint).
    """

    factory: Factory
    best: dict
    grid: pd.DataFrame
    evaluation: pd.DataFrame
    scores: pd.DataFrame
    objective: str
    tuning_seeds: tuple[int, ...]
    evaluation_seeds: tuple[int, ...]

    def __post_init__(self) -> None:
        _validate.callable_("factory", self.factory, "a memory factory")
        if not isinstance(self.best, dict) or not all(isinstance(k, str) for k in self.best):
            raise TypeError(f"best must be a dict of keyword -> value, got {self.best!r}")
        for name, columns in (
            ("grid", ["score", "diverged", "rank"]),
            ("evaluation", ["setting"]),
            ("scores", ["setting", "seed", "score", "diverged"]),
        ):
            value = getattr(self, name)
            if not isinstance(value, pd.DataFrame):
                raise TypeError(f"{name} must be a pandas.DataFrame, got {type(value).__name__}")
            missing = [c for c in columns if c not in value.columns]
            if missing:
                raise ValueError(f"{name} lacks column(s) {missing}; it has {list(value.columns)}")
        if not isinstance(self.objective, str):
            raise TypeError(f"objective must be a name (str), got {self.objective!r}")
        _disjoint(
            _seeds("tuning_seeds", self.tuning_seeds),
            _seeds("evaluation_seeds", self.evaluation_seeds),
        )

    def best_factory(self) -> Factory:
        """The factory at the best setting, ``partial(factory, **best)``."""
        return partial(self.factory, **self.best) if self.best else self.factory

    def summary(self) -> pd.Series:
        """Score at the defaults and at the best setting, on the evaluation seeds.

        Entries: ``setting`` (the best setting as text), ``score_default`` and
        ``score_best`` (mean objective over the evaluation seeds), ``diverged_default`` and
        ``diverged_best``, ``tied`` (how many settings of the grid shared the best tuning
        score; the first of them in the grid's order was chosen) and ``at_edge`` (the
        numeric hyperparameters whose best value is the smallest or largest of the grid:
        the optimum may lie beyond it, and a wider grid would tell).
        """
        by = self.scores.groupby("setting")
        mean, diverged = by["score"].mean(), by["diverged"].any()
        text = ", ".join(f"{k}={v!r}" for k, v in self.best.items()) or "defaults"
        return pd.Series(
            {
                "objective": self.objective,
                "setting": text,
                "score_default": float(mean["default"]),
                "score_best": float(mean["best"]),
                "diverged_default": bool(diverged["default"]),
                "diverged_best": bool(diverged["best"]),
                "tied": int((self.grid["rank"] == 1).sum()),
                "at_edge": tuple(k for k, v in self.best.items() if _at_edge(self.grid[k], v)),
            },
            name=_name_of(self.factory),
        )


def tune(
    protocol: Callable[..., pd.DataFrame],
    factory: Factory,
    *,
    grid: Grid | None = None,
    objective: str | Objective,
    tuning_seeds: int | Iterable[int] = (1, 2),
    evaluation_seeds: int | Iterable[int] = (0,),
    executor: Executor | None = None,
    **protocol_args: object,
) -> Tuned:
    """Choose ``factory``'s best setting on the tuning seeds; report it on the others.

    Every setting of ``grid`` (the Cartesian product of its value lists, in the order
    given, the first key varying slowest) is run on every tuning seed as
    ``protocol(partial(factory, **setting), seed=s, **protocol_args)`` and the frame is
    scored by ``objective``: a name from :data:`OBJECTIVES` or a function ``frame ->
    float``, higher is better. A run diverges when its frame has a true ``diverged`` or
    its score is not finite; a setting that diverges on any tuning seed ranks last and
    is never chosen. The best setting has the highest mean score over the tuning seeds
    (the first in the grid's order among ties). It and the defaults (``factory`` called
    with no setting) are then run on each evaluation seed.

    ``grid`` defaults to ``factory.hyperparameters`` (of the class behind a
    ``functools.partial``, less the keywords the partial fixes); an empty one is the
    single setting of the defaults. Tuning and evaluation seeds must not overlap. With
    ``executor`` (a :class:`concurrent.futures.Executor`) the runs of each phase are
    submitted to it, as :func:`memnb.experiments.sweep` does.

    Returns a :class:`Tuned`.
    """
    _validate.callable_("protocol", protocol, "an experiment function such as capacity")
    _validate.callable_("factory", factory, "a memory factory such as EpisodicMemory")
    grid = _grid(factory, grid)
    name, score = _objective(objective)
    tuning = _seeds("tuning_seeds", tuning_seeds)
    evaluation = _seeds("evaluation_seeds", evaluation_seeds)
    _disjoint(tuning, evaluation)
    if executor is not None and not isinstance(executor, Executor):
        raise TypeError(
            "executor must be a concurrent.futures.Executor (or None to run in-process), "
            f"got {type(executor).__name__}"
        )
    if "seed" in protocol_args:
        raise TypeError(
            "tune passes the seeds itself: give tuning_seeds and evaluation_seeds, "
            f"not seed={protocol_args['seed']!r}"
        )
    settings = [
        dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())
    ]
    runs = [(setting, s) for setting in settings for s in tuning]
    frames = _run_all(protocol, factory, runs, executor, protocol_args)
    table = _grid_table(grid, settings, tuning, [_scored(score, f) for f in frames])
    chosen = table.index[(table["rank"] == 1) & ~table["diverged"]]
    if len(chosen) == 0:
        raise ValueError(
            f"every setting of the grid diverged on the tuning seeds {list(tuning)}; "
            f"try smaller step sizes than {dict(grid)}"
        )
    best = settings[chosen[0]]
    runs = [({}, s) for s in evaluation] + ([(best, s) for s in evaluation] if best else [])
    frames = _run_all(protocol, factory, runs, executor, protocol_args)
    if not best:  # the best setting is the defaults: the same runs
        frames = frames + frames
    labels = [SETTINGS[0]] * len(evaluation) + [SETTINGS[1]] * len(evaluation)
    scored = [_scored(score, f) for f in frames]
    return Tuned(
        factory=factory,
        best=best,
        grid=table,
        evaluation=pd.concat(
            [f.assign(setting=lab) for f, lab in zip(frames, labels, strict=True)],
            ignore_index=True,
        ),
        scores=pd.DataFrame(
            {
                "setting": labels,
                "seed": list(evaluation) * 2,
                "score": [s for s, _ in scored],
                "diverged": [d for _, d in scored],
            }
        ),
        objective=name,
        tuning_seeds=tuning,
        evaluation_seeds=evaluation,
    )


def tune_all(
    protocol: Callable[..., pd.DataFrame],
    factories: Mapping[str, Factory],
    *,
    grids: Mapping[str, Grid] | None = None,
    objective: str | Objective,
    tuning_seeds: int | Iterable[int] = (1, 2),
    evaluation_seeds: int | Iterable[int] = (0,),
    executor: Executor | None = None,
    **protocol_args: object,
) -> dict[str, Tuned]:
    """:func:`tune` every factory of ``factories`` (name -> factory) the same way.

    ``grids`` (name -> grid) overrides the declared grid of the factories it names.
    Returns name -> :class:`Tuned`, in the order of ``factories``; :func:`tuning_table`
    lays the results side by side and :func:`tuned_factories` gives the factories at
    their best for :func:`memnb.experiments.sweep`.
    """
    if not isinstance(factories, Mapping) or len(factories) == 0:
        raise ValueError(
            f"factories must be a non-empty mapping of name -> factory, got {factories!r}"
        )
    grids = {} if grids is None else grids
    if not isinstance(grids, Mapping):
        raise TypeError(f"grids must be a mapping of name -> grid (or None), got {grids!r}")
    unknown = [name for name in grids if name not in factories]
    if unknown:
        raise ValueError(
            f"grids names {unknown}, which are not in factories; expected some of {list(factories)}"
        )
    return {
        name: tune(
            protocol,
            factory,
            grid=grids.get(name),
            objective=objective,
            tuning_seeds=tuning_seeds,
            evaluation_seeds=evaluation_seeds,
            executor=executor,
            **protocol_args,
        )
        for name, factory in factories.items()
    }


def tuned_factories(results: Mapping[str, Tuned]) -> dict[str, Factory]:
    """Name -> the factory at its best setting (``Tuned.best_factory``), same order."""
    return {name: tuned.best_factory() for name, tuned in _results(results).items()}


def tuning_table(results: Mapping[str, Tuned]) -> pd.DataFrame:
    """One row per name: :meth:`Tuned.summary` (best setting, score at default and best)."""
    rows = {name: tuned.summary() for name, tuned in _results(results).items()}
    return pd.DataFrame.from_dict(rows, orient="index")


def _results(results: object) -> dict[str, Tuned]:
    if not isinstance(results, Mapping) or len(results) == 0:
        raise ValueError(f"results must be a non-empty mapping of name -> Tuned, got {results!r}")
    for name, tuned in results.items():
        if not isinstance(tuned, Tuned):
            raise TypeError(
                f"results[{name!r}] must be a Tuned (what tune returns), got {type(tuned).__name__}"
            )
    return dict(results)


def _at_edge(values: pd.Series, value: object) -> bool:
    """Is ``value`` the smallest or largest of several numeric ``values``?"""
    numbers = [v for v in values if isinstance(v, Real) and not isinstance(v, bool)]
    if len(numbers) != len(values) or len(set(numbers)) < 2:
        return False
    return value in (min(numbers), max(numbers))


def _name_of(factory: Factory) -> str:
    inner = factory
    while isinstance(inner, partial):
        inner = inner.func
    return getattr(inner, "__name__", type(inner).__name__)


def _grid(factory: Factory, grid: object) -> dict[str, tuple]:
    """The grid to run: ``grid`` checked, or the factory's declared ``hyperparameters``."""
    if grid is None:
        inner, fixed = factory, set()
        while isinstance(inner, partial):
            fixed |= set(inner.keywords)
            inner = inner.func
        grid = getattr(inner, "hyperparameters", None)
        if grid is None:
            raise ValueError(
                f"factory {_name_of(factory)} declares no hyperparameters (a class attribute "
                "mapping keyword -> values); pass grid={'keyword': (value, ...), ...}"
            )
        grid = {k: v for k, v in grid.items() if k not in fixed}
    if not isinstance(grid, Mapping):
        raise TypeError(
            f"grid must be a mapping of keyword -> values to try, got {type(grid).__name__}"
        )
    keywords = _keywords(factory)
    checked = {}
    for key, values in grid.items():
        if not isinstance(key, str) or not key.isidentifier():
            raise TypeError(f"grid keys must be keyword names (str), got {key!r}")
        if key in ("score", "diverged", "rank", "setting") or key.startswith("score_seed_"):
            raise ValueError(f"grid key {key!r} would overwrite a column of the grid's table")
        if keywords is not None and key not in keywords:
            raise ValueError(
                f"grid key {key!r} is not a keyword of {_name_of(factory)}; "
                f"expected one of {sorted(keywords)}"
            )
        if isinstance(values, str | bytes) or not isinstance(values, Iterable):
            raise TypeError(f"grid[{key!r}] must be a sequence of values to try, got {values!r}")
        values = tuple(values)
        if not values:
            raise ValueError(f"grid[{key!r}] must hold at least one value, got none")
        checked[key] = values
    return checked


def _keywords(factory: Factory) -> set[str] | None:
    """The keywords ``factory`` accepts (None when it takes ``**kwargs`` or is opaque)."""
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return None
    return {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def _objective(objective: object) -> tuple[str, Objective]:
    if isinstance(objective, str):
        if objective not in OBJECTIVES:
            raise ValueError(
                f"objective must be one of {list(OBJECTIVES)} or a function frame -> float, "
                f"got {objective!r}"
            )
        return objective, OBJECTIVES[objective]
    _validate.callable_(
        "objective", objective, f"one of {list(OBJECTIVES)} or a function frame -> float"
    )
    return _name_of(objective), objective


def _seeds(name: str, seeds: object) -> tuple[int, ...]:
    """``seeds`` as a tuple of distinct ints >= 0 (an int is a tuple of one)."""
    if isinstance(seeds, str | bytes) or not isinstance(seeds, Iterable | Integral):
        raise TypeError(f"{name} must be a sequence of int seeds, got {seeds!r}")
    seeds = (seeds,) if isinstance(seeds, Integral) else tuple(seeds)
    if not seeds:
        raise ValueError(f"{name} must hold at least one seed, got none")
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, Integral) or s < 0:
            raise ValueError(f"{name} must hold ints >= 0, got {s!r} in {list(seeds)}")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"{name} must not repeat a seed, got {list(seeds)}")
    return tuple(int(s) for s in seeds)


def _disjoint(tuning: tuple[int, ...], evaluation: tuple[int, ...]) -> None:
    overlap = sorted(set(tuning) & set(evaluation))
    if overlap:
        raise ValueError(
            f"tuning_seeds {list(tuning)} and evaluation_seeds {list(evaluation)} share the "
            f"seed(s) {overlap}; a setting must be reported on seeds it was not chosen on"
        )


def _run_all(
    protocol: Callable[..., pd.DataFrame],
    factory: Factory,
    runs: list[tuple[dict, int]],
    executor: Executor | None,
    protocol_args: dict,
) -> list[pd.DataFrame]:
    """The protocol's frame for each ``(setting, seed)``, in order."""
    calls = [(partial(factory, **setting) if setting else factory, s) for setting, s in runs]
    if executor is None:
        frames = [protocol(f, seed=s, **protocol_args) for f, s in calls]
    else:
        futures = [executor.submit(protocol, f, seed=s, **protocol_args) for f, s in calls]
        frames = [future.result() for future in futures]
    for frame in frames:
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"protocol must return a pandas.DataFrame, got {type(frame).__name__}")
    return frames


def _scored(objective: Objective, frame: pd.DataFrame) -> tuple[float, bool]:
    """``(score, diverged)`` of one run."""
    score = objective(frame)
    if isinstance(score, bool) or not isinstance(score, Real):
        raise TypeError(f"objective must return a number for a frame, got {score!r}")
    score = float(score)
    diverged = "diverged" in frame.columns and bool(frame["diverged"].any())
    return score, diverged or not math.isfinite(score)


def _grid_table(
    grid: dict[str, tuple],
    settings: list[dict],
    seeds: tuple[int, ...],
    scored: list[tuple[float, bool]],
) -> pd.DataFrame:
    """One row per setting: its values, scores per seed and mean, divergence and rank."""
    scores = np.array([s for s, _ in scored]).reshape(len(settings), len(seeds))
    diverged = np.array([d for _, d in scored]).reshape(len(settings), len(seeds)).any(axis=1)
    table = pd.DataFrame({key: [setting[key] for setting in settings] for key in grid})
    table["score"] = scores.mean(axis=1)
    for i, s in enumerate(seeds):
        table[f"score_seed_{s}"] = scores[:, i]
    table["diverged"] = diverged
    key = table["score"].where(~table["diverged"], -np.inf)
    table["rank"] = key.rank(method="min", ascending=False).astype(int)
    return table
