"""Profile any memory: every protocol of the book on one factory, with headline numbers.

:func:`profile` runs adaptation, capacity, forgetting, the dimension sweep, the
A -> B -> C contiguity test and recall from noisy cues on a memory factory and returns a
:class:`Profile`: one tidy frame, six headline numbers, each with its 95 % confidence
interval (an :class:`Estimate`), and a panel figure that sets the memory beside others.
A headline read from trials whose reads were not finite is reported as diverged (NaN,
with a note), never as a score.
:func:`reference_profiles` profiles memnb's own families, each at the setting that
:func:`tune_references` found best for each protocol (stored in :data:`TUNED`).
"""

from __future__ import annotations

import concurrent.futures
import inspect
import math
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from numbers import Real
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch

from . import _validate, data, experiments, summaries, theory
from ._validate import require_columns as _require
from .experiments._build import Factory, build_memory, child_seeds, place_like
from .experiments._protocol import memory_name, write
from .experiments._protocol import read as checked_read
from .memories import LoopedMemory

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .tuning import Tuned

__all__ = [
    "Estimate",
    "OBJECTIVES",
    "REFERENCES",
    "TUNED",
    "cue_noise",
    "on_device",
    "Profile",
    "profile",
    "reference_profiles",
    "summary_table",
    "summary_text",
    "tune_references",
    "validate",
]

PROTOCOLS = ("adaptation", "capacity", "forgetting", "dimensions", "contiguity", "cue_noise")

# The headline number of each protocol: its key in Profile.summary, column name and meaning.
HEADLINES = {
    "steps_to_90pct": "steps to 90 % (writes, lower = faster)",
    "capacity_95": "capacity at 95 % (pairs, d = 64)",
    "forgetting": "forgetting (drop in accuracy on A, chance 1/8, lower = better)",
    "dim_for_95": "dim for 95 % (d, N = 50, lower = better)",
    "successor_cosine": "successor cosine (B -> C, 1 = exact)",
    "cue_noise_95": "cue noise for 95 % (noise / key norm, or flipped fraction, higher = better)",
}
HEADLINE_OF = dict(zip(PROTOCOLS, HEADLINES, strict=True))  # protocol -> its headline

# A headline is quoted from the trials whose reads stayed finite only when at least this
# share of its protocol's trials did; otherwise it is NaN, with a note saying where the
# reads diverged. A read that is not finite is never a score.
FINITE_SHARE = 0.75

LEVEL = 0.95  # the confidence level of every interval
N_BOOT = 1000  # resamples of the trials behind each interval
# A forgetting score is quoted only when the accuracy on A right after learning it has
# come at least this fraction of the way from chance to 1: a memory that never learned A
# has nothing to forget, and its "forgetting" would read as a good score.
LEARNED = 0.5

# The book's settings for each protocol (``quick=False``) and a small grid (``quick=True``).
# Forgetting is the forgetting chapter's protocol: two clustered tasks of 4 clusters each
# (8 candidate values, chance 1/8), 16 train and 32 test keys per task, 20 writes each.
_NS = tuple(2**i for i in range(2, 10))  # N = 4 ... 512
_DIMS = (8, 16, 32, 64, 128, 256)
_TASKS = dict(kind="clustered", clusters=4)
# Recall from noisy cues: 8 pairs (d = 64) written 5 times and read from each key plus
# Gaussian noise of these norms relative to the key's; a memory that settles to stored
# ±1 patterns (with a settle method) instead stores 5 patterns (d = 100) and is read from
# cues with these fractions of their signs flipped.
_GAUSSIAN = dict(
    n_items=8, steps=5, dim=64, cue_noise=(0, 0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 4)
)
_FLIP = dict(n_patterns=5, dim=100, noise=tuple(i / 20 for i in range(11)))
SETTINGS: dict[bool, dict[str, dict[str, Any]]] = {
    False: {
        "adaptation": dict(steps=20, trials=32, dim=32),
        "capacity": dict(n_items=_NS, steps=5, trials=16, dim=64),
        "forgetting": dict(steps=20, trials=32, dim=32, **_TASKS),
        "dimensions": dict(dims=_DIMS, n_items=50, steps=5, trials=16),
        "contiguity": dict(trials=64, dim=64, steps=5),
        "cue_noise": dict(trials=16, gaussian=_GAUSSIAN, flip=_FLIP),
    },
    True: {
        "adaptation": dict(steps=20, trials=8, dim=32),
        "capacity": dict(n_items=_NS[:-1], steps=5, trials=8, dim=64),
        "forgetting": dict(steps=20, trials=16, dim=32, **_TASKS),
        "dimensions": dict(dims=_DIMS, n_items=50, steps=5, trials=8),
        "contiguity": dict(trials=16, dim=64, steps=5),
        "cue_noise": dict(trials=8, gaussian=_GAUSSIAN, flip=_FLIP),
    },
}

# memnb's families that reference_profiles sets beside a reader's memory, by default.
REFERENCES = (
    "EpisodicMemory",
    "MatrixAssociativeMemory",
    "DeltaRuleMemory",
    "DeltaNetMemory",
    "GatedDeltaNetMemory",
    "LinearAttentionMemory",
    "AttentionMemory",
    "SlidingWindowMemory",
)

# The grids that tune_references searches where a class's declared grid stops short of
# the best setting: smaller steps for the delta rules (their best forgetting steps lie
# below the declared grids), and the delta rule's default step (lr=None: 1/d).
REFERENCE_GRIDS: dict[str, dict[str, tuple]] = {
    "DeltaRuleMemory": {
        "lr": (None, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 0.01, 0.02, 0.05)
    },
    "DeltaNetMemory": {"beta": (0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0)},
    "GatedDeltaNetMemory": {
        "beta": (0.005, 0.02, 0.1, 0.25, 0.5, 1.0),
        "alpha": (0.9, 0.99, 0.999, 1.0),
    },
}

# The best setting of each family for each protocol (constructor keywords; empty: the
# defaults). Found by ``tune_references(tuple(TUNED))``: memnb.tuning.tune over each
# class's declared grid (or REFERENCE_GRIDS), with the book's settings
# (``SETTINGS[False]``), tuning seeds 1 and 2, and the objective of OBJECTIVES for the
# protocol. Seed 0, the default of profile and of the command line, was not used to
# choose. A best value at an end of its grid is at the end of the allowed range
# (DeltaNet's beta = 1; the delta rule's largest stable step, 0.002, for capacity and
# the dimension sweep), or the next value beyond it scored lower (checked for the
# forgetting beta of DeltaNet, 0.002, and of the attention memory, 0.03); the sliding
# window's forgetting beta is moot, as its window holds none of A after B. The gated
# DeltaNet's best gate is alpha = 1 (no decay) for every protocol, so it runs as DeltaNet
# does. Linear attention's best feature map is the identity (a Hebbian matrix) except for
# the dimension sweep, where DPFP with nu = 3 wins; nu stops at 3 so that its state is at
# most six times a d x d matrix (larger nu scored higher there, at a larger state).
# For recall from noisy cues (objective: the mean recall over the noise levels) the gated
# DeltaNet does best at the smallest beta of its grid, 0.005, where a few writes are close
# to a Hebbian sum (smaller steps were not searched); the slot memory's best (lr = 1,
# beta = 0.3) and the attention memory's (beta = 0.1) are at the edges of their declared
# grids too, which were not extended.
# NeuralMemory is left out (it runs at its defaults): some of its best values lie at the
# edges of its grid, which would have to grow.
# tests/test_battery.py re-runs the search for the delta rule's forgetting.
TUNED: dict[str, dict[str, dict[str, object]]] = {
    "EpisodicMemory": {
        "adaptation": {"lr": 0.3, "beta": 1.0},
        "capacity": {"lr": 0.3, "beta": 1.0},
        "forgetting": {"lr": 0.03, "beta": 1.0},
        "dimensions": {"lr": 0.3, "beta": 1.0},
        "contiguity": {"lr": 0.3, "beta": 1.0},
        "cue_noise": {"lr": 1.0, "beta": 0.3},
    },
    "MatrixAssociativeMemory": {
        "adaptation": {},
        "capacity": {},
        "forgetting": {},
        "dimensions": {},
        "contiguity": {},
        "cue_noise": {},
    },
    "DeltaRuleMemory": {
        "adaptation": {"lr": None},
        "capacity": {"lr": 0.002},
        "forgetting": {"lr": 0.0001},
        "dimensions": {"lr": 0.002},
        "contiguity": {"lr": None},
        "cue_noise": {"lr": 0.005},
    },
    "DeltaNetMemory": {
        "adaptation": {"beta": 1.0},
        "capacity": {"beta": 0.1},
        "forgetting": {"beta": 0.005},
        "dimensions": {"beta": 0.25},
        "contiguity": {"beta": 1.0},
        "cue_noise": {"beta": 0.01},
    },
    "GatedDeltaNetMemory": {
        "adaptation": {"beta": 1.0, "alpha": 1.0},
        "capacity": {"beta": 0.1, "alpha": 1.0},
        "forgetting": {"beta": 0.005, "alpha": 1.0},
        "dimensions": {"beta": 0.25, "alpha": 1.0},
        "contiguity": {"beta": 1.0, "alpha": 1.0},
        "cue_noise": {"beta": 0.005, "alpha": 0.999},
    },
    "LinearAttentionMemory": {
        "adaptation": {"feature_map": "identity", "nu": 1},
        "capacity": {"feature_map": "identity", "nu": 1},
        "forgetting": {"feature_map": "identity", "nu": 1},
        "dimensions": {"feature_map": "dpfp", "nu": 3},
        "contiguity": {"feature_map": "identity", "nu": 1},
        "cue_noise": {"feature_map": "identity", "nu": 1},
    },
    "AttentionMemory": {
        "adaptation": {"beta": 1.0},
        "capacity": {"beta": 1.0},
        "forgetting": {"beta": 0.1},
        "dimensions": {"beta": 30.0},
        "contiguity": {"beta": 3.0},
        "cue_noise": {"beta": 0.1},
    },
    "SlidingWindowMemory": {
        "adaptation": {"beta": 1.0},
        "capacity": {"beta": 1.0},
        "forgetting": {"beta": 0.25},
        "dimensions": {"beta": 1.0},
        "contiguity": {"beta": 0.5},
        "cue_noise": {"beta": 1.0},
    },
}


class Estimate(float):
    """A headline number that carries its confidence interval.

    An ``Estimate`` is the number itself (a ``float``: it prints, compares and computes
    as one, so it can be glued into prose or formatted as any number), with ``low`` and
    ``high``, the bounds of its 95 % percentile bootstrap interval over trials. Both
    bounds are NaN when the number is NaN (never reached, or not measurable) or has no
    interval; ``high`` is ``inf`` when some resamples of the trials never reach the level
    that defines the number.
    """

    low: float
    high: float

    def __new__(cls, value: float, low: float = math.nan, high: float = math.nan) -> Estimate:
        return super().__new__(cls, value)

    def __init__(self, value: float, low: float = math.nan, high: float = math.nan) -> None:
        for name, bound in (("low", low), ("high", high)):
            if isinstance(bound, bool) or not isinstance(bound, Real):
                raise TypeError(f"{name} must be a number, got {bound!r} ({type(bound).__name__})")
        if low > high:
            raise ValueError(f"low must not exceed high, got low={low!r} > high={high!r}")
        self.low, self.high = float(low), float(high)

    def __reduce__(self) -> tuple:
        return (Estimate, (float(self), self.low, self.high))


_RNG_LOCK = threading.Lock()  # torch's global RNG is seeded while a memory is built


@dataclass
class Profile:
    """The result of :func:`profile`.

    ``frame`` stacks the frames of all protocols (column ``protocol``, one of
    :data:`PROTOCOLS`, plus each protocol's own columns; ``memory`` holds ``label``).
    ``summary`` holds the six headline numbers as :class:`Estimate` (a float with
    ``low`` and ``high``, its 95 % confidence interval), NaN where the memory never
    reaches the level that defines one, where it cannot be measured, or where its reads
    diverged; ``notes`` explains those NaNs, any bounds, diverged trials and reads scored
    in another dtype. ``diverged`` maps each headline whose trials had a read that was not
    finite to "diverged in k of T trials at <where>". ``settings`` holds the keyword
    settings the factory was called with for each protocol (none: as given).
    """

    label: str
    frame: pd.DataFrame
    summary: dict[str, float]
    notes: dict[str, str] = field(default_factory=dict)
    settings: dict[str, dict[str, object]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.label, str):
            raise TypeError(f"label must be a str, got {self.label!r}")
        _require(self.frame, ["protocol", "memory"])
        if not isinstance(self.summary, dict) or any(k not in self.summary for k in HEADLINES):
            raise ValueError(
                f"summary must be a dict with the headline numbers {list(HEADLINES)}, "
                f"got {self.summary!r:.80}"
            )
        self.summary = {
            k: v if isinstance(v, Estimate) else Estimate(v) for k, v in self.summary.items()
        }
        self.settings = _settings(self.settings)

    def protocol(self, name: str) -> pd.DataFrame:
        """The rows of one protocol, with only the columns it fills."""
        if name not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {PROTOCOLS}, got {name!r}")
        rows = self.frame[self.frame["protocol"] == name]
        return rows.dropna(axis=1, how="all").reset_index(drop=True)

    @property
    def diverged(self) -> dict[str, str]:
        """Headline key -> "diverged in k of T trials at <where>", for every headline
        whose protocol had trials with a read that was not finite (read off ``frame``)."""
        found = {}
        for protocol, key in HEADLINE_OF.items():
            broke = _divergence(protocol, self.frame[self.frame["protocol"] == protocol])
            if broke is not None:
                found[key] = broke[2]
        return found

    def figure(self, references: Sequence[Profile] = ()) -> Figure:
        """One panel per protocol: this profile (drawn first) beside ``references``, each
        headline number marked with its 95 % confidence interval."""
        from . import plots

        profiles = [self, *references]
        for p in profiles:
            if not isinstance(p, Profile):
                raise TypeError(f"references must be Profile objects, got {type(p).__name__}")
        labels = [p.label for p in profiles]
        if len(set(labels)) != len(labels):
            raise ValueError(f"profiles need distinct labels to be told apart, got {labels}")
        frame = pd.concat([p.frame for p in profiles], ignore_index=True)
        headlines = {p.label: p.summary for p in profiles}
        return plots.profile_panels(frame, PROTOCOLS, headlines=headlines)


def profile(
    factory: Factory,
    *,
    quick: bool = False,
    seed: int = 0,
    device: str | torch.device | None = None,
    executor: concurrent.futures.Executor | None = None,
    label: str | None = None,
    progress: bool = False,
    settings: Mapping[str, Mapping[str, object]] | None = None,
) -> Profile:
    """Run every protocol of the book on ``factory`` and read off the headline numbers.

    ``factory(dim)`` (or ``factory(dim, trials=T)``) returns a memory with
    ``update(keys, values)`` and ``__call__(queries)``; it is checked first, so a broken
    memory fails at once with an error that names what is wrong. ``quick`` runs smaller
    grids with 8 or more trials (a few seconds); otherwise the chapters' settings are used
    (16 or more trials). ``device`` builds the memory there: ``device=`` is passed to a
    factory that takes it, else an ``nn.Module`` is moved with ``.to(device)``.
    ``executor`` (any ``concurrent.futures.Executor``) runs the six protocols as
    separate tasks; the results are identical to the in-process run. ``progress`` shows a
    tqdm bar over the protocols. ``settings`` maps a protocol to the keywords the factory
    is called with for it (``factory(dim, **settings[protocol])``), for example the best
    setting of each protocol found with :mod:`memnb.tuning`.

    Each headline number is an :class:`Estimate` with its 95 % percentile bootstrap
    interval over trials. Forgetting is quoted only where the memory learned task A (its
    accuracy on A before B at least halfway from chance to 1); otherwise it is NaN and
    ``notes`` says why. A headline whose protocol had trials with a read that was not
    finite is NaN with the note "diverged in k of T trials at <where>", unless at least
    :data:`FINITE_SHARE` of the trials stayed finite: it is then read from those, and the
    note says so. Reads in float16 or bfloat16 are scored in float32, and ``notes["reads"]``
    says so. The cue-noise headline is the relative Gaussian cue noise ``|e| / |k|`` up to
    which recall of 8 pairs stays at 95 %, or, for a memory that settles to stored ±1
    patterns (one with a ``settle`` method), the fraction of flipped signs up to which
    exact recall of 5 patterns does.
    """
    for name, flag in (("quick", quick), ("progress", progress)):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be True or False, got {flag!r}")
    if label is not None and not isinstance(label, str):
        raise TypeError(f"label must be a str or None, got {label!r}")
    child_seeds(seed, 1)  # checks seed
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise TypeError(
            f"executor must be a concurrent.futures.Executor (with submit), "
            f"got {type(executor).__name__}"
        )
    chosen = _settings(settings)
    bar = _progress_bar(progress)
    name = label if label is not None else experiments._build.label_of(factory, None)
    built = on_device(factory, device)
    validate(built, seed=seed)
    factories = {
        p: on_device(partial(factory, **chosen[p]), device) if chosen.get(p) else built
        for p in PROTOCOLS
    }
    for p in chosen:
        validate(factories[p], seed=seed)
    options = SETTINGS[quick]
    if executor is None:
        runs = []
        for protocol in PROTOCOLS:
            runs.append(_run(protocol, factories[protocol], options[protocol], seed, name))
            bar(protocol)
    else:
        futures = [
            executor.submit(_run, p, factories[p], options[p], seed, name) for p in PROTOCOLS
        ]
        runs = []
        for protocol, future in zip(PROTOCOLS, futures, strict=True):
            runs.append(future.result())
            bar(protocol)
    bar(None)
    by_protocol = {p: frame for p, (frame, _) in zip(PROTOCOLS, runs, strict=True)}
    summary, notes = _headlines(by_protocol, options, seed)
    converted = [p for p, (_, dtypes) in zip(PROTOCOLS, runs, strict=True) if dtypes]
    if converted:
        dtypes = sorted({str(d) for _, found in runs for d in found})
        notes["reads"] = (
            f"the memory read in {' and '.join(dtypes)}; its reads were scored in "
            f"torch.float32 (in {', '.join(converted)})"
        )
    frame = pd.concat([f.assign(protocol=p) for p, f in by_protocol.items()], ignore_index=True)
    frame = frame[["protocol", *frame.columns.drop("protocol")]]
    return Profile(label=name, frame=frame, summary=summary, notes=notes, settings=chosen)


def reference_profiles(
    *,
    quick: bool = False,
    seed: int = 0,
    device: str | torch.device | None = None,
    executor: concurrent.futures.Executor | None = None,
    names: Sequence[str] = REFERENCES,
    tuned: bool = True,
) -> list[Profile]:
    """Profiles of memnb's families ``names`` (from :data:`memnb.memories.MEMORIES`).

    With ``tuned`` (the default) each family runs each protocol at its best setting for
    that protocol (:data:`TUNED`, found by :func:`tune_references` on seeds 1 and 2);
    a family without a stored setting, or ``tuned=False``, runs at its defaults.
    """
    from .memories import pick

    if not isinstance(tuned, bool):
        raise TypeError(f"tuned must be True or False, got {tuned!r}")
    if isinstance(names, str):
        names = (names,)
    families = pick(*names)
    return [
        profile(
            f,
            quick=quick,
            seed=seed,
            device=device,
            executor=executor,
            label=name,
            settings=TUNED.get(name) if tuned else None,
        )
        for name, f in families.items()
    ]


def tune_references(
    names: Sequence[str] = REFERENCES,
    *,
    protocols: Sequence[str] = PROTOCOLS,
    quick: bool = False,
    tuning_seeds: Iterable[int] = (1, 2),
    evaluation_seeds: Iterable[int] = (0,),
    executor: concurrent.futures.Executor | None = None,
) -> dict[str, dict[str, Tuned]]:
    """Find each family's best setting for each protocol, as :data:`TUNED` was found.

    For every memory of ``names`` and every protocol of ``protocols``, runs
    :func:`memnb.tuning.tune` over the class's declared grid (or its entry in
    ``REFERENCE_GRIDS``) with the protocol's settings (``SETTINGS[quick]``) and the
    objective :data:`OBJECTIVES` names for it. Each grid lists the class's default value
    first, so that where the defaults tie with other settings (``tune`` keeps the first
    of a tie) the defaults are kept. The delta rule's grid keeps only the steps under its
    stability bound for every batch the protocol writes, so that no reference diverges,
    even slowly. Returns name -> protocol -> ``Tuned``;
    ``{name: {p: t.best for p, t in r.items()} for name, r in result.items()}`` is the
    form of :data:`TUNED`. This runs every setting of every grid, which takes minutes.
    """
    from . import tuning
    from .memories import pick

    if not isinstance(quick, bool):
        raise TypeError(f"quick must be True or False, got {quick!r}")
    if isinstance(names, str):
        names = (names,)
    if isinstance(protocols, str):
        protocols = (protocols,)
    for p in protocols:
        _validate.one_of("protocols", p, PROTOCOLS)
    families = pick(*names)
    return {
        name: {
            p: tuning.tune(
                _PROTOCOL_FUNCTIONS[p],
                cls,
                grid=_stable_steps(
                    name,
                    _defaults_first(cls, REFERENCE_GRIDS.get(name, cls.hyperparameters)),
                    SETTINGS[quick][p],
                ),
                objective=OBJECTIVES[p],
                tuning_seeds=tuning_seeds,
                evaluation_seeds=evaluation_seeds,
                executor=executor,
                **SETTINGS[quick][p],
            )
            for p in protocols
        }
        for name, cls in families.items()
    }


def _stable_steps(name: str, grid: dict[str, tuple], options: dict) -> dict[str, tuple]:
    """``grid`` without the delta-rule steps that break its stability bound.

    A bulk delta write of N Gaussian keys in d dimensions is stable only while
    ``lr * lambda_max < 2``, with ``lambda_max`` near ``d (1 + sqrt(N / d))^2``
    (:func:`memnb.theory.gram_eigenvalue_edges`). For the protocols that write up to
    hundreds of random keys (capacity, dimensions), a step past the bound at their
    largest batch lets the error grow with every write, though a few writes may not show
    it in the recall; such steps are dropped (``lr=None`` is ``1/d``).
    """
    options = {**options, **options.get("gaussian", {})}  # the cue-noise protocol's pairs
    if name != "DeltaRuleMemory" or "lr" not in grid or "n_items" not in options:
        return grid
    dims = options.get("dims", (options.get("dim"),))
    n = options["n_items"]
    sizes = [n] if isinstance(n, int) else list(n)

    def stable(lr: float | None) -> bool:
        return all(
            (1 / d if lr is None else lr) * theory.gram_eigenvalue_edges(n, d, d)[1] < 2
            for n in sizes
            for d in dims
        )

    return {**grid, "lr": tuple(lr for lr in grid["lr"] if stable(lr))}


def _defaults_first(cls: type, grid: Mapping[str, Iterable[object]]) -> dict[str, tuple]:
    """``grid`` with each keyword's default value (when the grid holds it) moved first."""
    defaults = inspect.signature(cls).parameters
    ordered = {}
    for key, values in grid.items():
        values = tuple(values)
        default = defaults[key].default if key in defaults else inspect.Parameter.empty
        first = [v for v in values if v is default or v == default]
        ordered[key] = (*first, *(v for v in values if v not in first))
    return ordered


def summary_table(profiles: Sequence[Profile]) -> pd.DataFrame:
    """One row per profile (index: label), three columns per headline number.

    The columns are a two-level index: the headline (its name carries the unit and the
    direction that is better) and ``value``, ``low`` and ``high`` (the number and its 95 %
    confidence interval). ``attrs["note"]`` says what a NaN (never reached, not
    measurable, or diverged) or a bound means for each profile; ``attrs["keys"]`` maps
    each headline to its key in ``Profile.summary``; ``attrs["diverged"]`` maps each
    label to the headlines of that profile whose trials diverged (empty when none).
    """
    if isinstance(profiles, Profile):
        profiles = [profiles]
    profiles = list(profiles)
    if not profiles:
        raise ValueError("summary_table needs at least one Profile, got none")
    for p in profiles:
        if not isinstance(p, Profile):
            raise TypeError(f"profiles must be Profile objects, got {type(p).__name__}")
    rows = {
        p.label: [
            x for k in HEADLINES for x in (float(p.summary[k]), p.summary[k].low, p.summary[k].high)
        ]
        for p in profiles
    }
    columns = pd.MultiIndex.from_product(
        [list(HEADLINES.values()), ["value", "low", "high"]], names=["headline", "estimate"]
    )
    table = pd.DataFrame.from_dict(rows, orient="index", columns=columns)
    table.index.name = "memory"
    notes = [f"{p.label}: {text}" for p in profiles for text in p.notes.values()]
    table.attrs["note"] = (
        "NaN: the memory never reaches the level within the settings measured, the "
        "number cannot be measured, or the memory's reads diverged (see the note); never "
        "a score. low and high: 95 % bootstrap interval over trials. " + "; ".join(notes)
    ).strip()
    table.attrs["keys"] = dict(zip(HEADLINES.values(), HEADLINES, strict=True))
    table.attrs["diverged"] = {p.label: list(p.diverged) for p in profiles}
    return table


def summary_text(profiles: Sequence[Profile], digits: int = 3) -> pd.DataFrame:
    """:func:`summary_table` to read: one column per headline, one cell per number.

    Each cell is the number and its 95 % interval, to ``digits`` significant digits
    (``"17.3 [16.6, 18]"``; ``\u221e`` for an unbounded end). A number never reached within
    the settings measured reads ``not reached``, one that cannot be measured ``not
    measurable``, one whose reads diverged ``diverged``; ``attrs["notes"]`` lists, for
    each profile, why, and which numbers are bounds.
    """
    digits = _validate.positive_int("digits", digits)
    table = summary_table(profiles)
    profiles = [profiles] if isinstance(profiles, Profile) else list(profiles)

    def shown(number: float) -> str:
        return "\u221e" if math.isinf(number) else f"{number:.{digits}g}"

    def cell(profile: Profile, key: str) -> str:
        value = profile.summary[key]
        if math.isnan(value):
            note = profile.notes.get(key, "not measurable")  # no note: nothing to measure
            for said in ("not measurable", "diverged"):
                if note.startswith(said):
                    return said
            return "not reached"
        if math.isnan(value.low) or math.isnan(value.high):
            return shown(value)
        return f"{shown(value)} [{shown(value.low)}, {shown(value.high)}]"

    text = pd.DataFrame(
        {headline: [cell(p, key) for p in profiles] for key, headline in HEADLINES.items()},
        index=table.index,
    )
    text.attrs["notes"] = [f"{p.label}: {note}" for p in profiles for note in p.notes.values()]
    return text


def _settings(settings: object) -> dict[str, dict[str, object]]:
    """``settings`` (protocol -> keyword settings, or None) checked, as plain dicts."""
    if settings is None:
        return {}
    if not isinstance(settings, Mapping):
        raise TypeError(
            f"settings must map a protocol to keyword settings, got {type(settings).__name__}"
        )
    checked = {}
    for protocol, keywords in settings.items():
        _validate.one_of("settings key", protocol, PROTOCOLS)
        if not isinstance(keywords, Mapping) or not all(isinstance(k, str) for k in keywords):
            raise TypeError(
                f"settings[{protocol!r}] must map keyword names to values, got {keywords!r}"
            )
        checked[protocol] = dict(keywords)
    return checked


# ---------------------------------------------------------------------------------------------
# Building and checking the memory


class _OnDevice:
    """``factory(dim)`` with the memory put on ``device`` (picklable for process executors)."""

    def __init__(self, factory: Factory, device: torch.device) -> None:
        self.factory, self.device = factory, device
        self.takes_device = _validate.accepts(factory, "device")
        self.__name__ = experiments._build.label_of(factory, None)

    def __call__(self, dim: int) -> object:
        return self._place(self.factory(dim, **self._kw()))

    def _kw(self) -> dict[str, Any]:
        return {"device": self.device} if self.takes_device else {}

    def _place(self, memory: object) -> object:
        if not self.takes_device and isinstance(memory, torch.nn.Module):
            memory = memory.to(self.device)
        return memory


class _OnDeviceTrials(_OnDevice):
    """``factory(dim, trials=T)`` with the memory put on ``device``."""

    def __call__(self, dim: int, *, trials: int) -> object:  # type: ignore[override]
        return self._place(self.factory(dim, trials=trials, **self._kw()))


def on_device(factory: Factory, device: str | torch.device | None) -> Factory:
    """``factory`` whose memories are built on ``device`` (unchanged when it is None)."""
    if not callable(factory):
        raise TypeError(
            f"factory must be callable as factory(dim) or factory(dim, trials=T), "
            f"got {type(factory).__name__}"
        )
    if device is None:
        return factory
    _validate.torch_device("device", device)
    cls = _OnDeviceTrials if _validate.accepts(factory, "trials") else _OnDevice
    return cls(factory, torch.device(device))


def validate(factory: Factory, *, dim: int = 8, trials: int = 2, n_items: int = 4, seed: int = 0):
    """Build a small memory, write ``n_items`` pairs once and read them back.

    Raises ``TypeError`` naming a missing ``update`` or ``__call__``, and a
    :class:`memnb.ProtocolError` (one line naming the class and the call) when ``update``
    or ``__call__`` raises, or when the read is not a ``torch.Tensor`` (also a
    ``TypeError``), has another shape or device than expected, or holds NaN or inf (also
    a ``ValueError``).
    """
    with _RNG_LOCK:
        memory = build_memory(factory, dim=dim, trials=trials, seed=seed)
    keys, values = place_like(memory, *data.random_pairs(n_items, dim, trials, seed=seed))
    write(memory, keys, values, 1)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", _validate.LowPrecisionRead)  # profile notes them
        out = checked_read(memory, keys, tuple(values.shape))
    if not torch.isfinite(out).all():
        bad = "NaN" if torch.isnan(out).any() else "inf"
        raise _validate.ProtocolValueError(
            f"{memory_name(memory)}.__call__(queries) returned {bad} when read after one "
            f"update(keys, values) with {n_items} pairs of dimension {dim}; expected finite "
            "values"
        )
    return memory


# ---------------------------------------------------------------------------------------------
# Running the protocols and reading the headline numbers


def cue_noise(
    factory: Factory,
    *,
    trials: int = 16,
    seed: int = 0,
    label: str | None = None,
    gaussian: Mapping[str, Any] = _GAUSSIAN,
    flip: Mapping[str, Any] = _FLIP,
) -> pd.DataFrame:
    """Recall from noisy cues, the battery's sixth protocol, cued as suits the memory.

    A memory that settles to stored ±1 patterns (it has a ``settle`` method, as
    :class:`~memnb.ModernHopfieldMemory` does) runs :func:`memnb.experiments.completion`
    with ``kind="flip"`` and the settings ``flip``: the noise is the fraction of flipped
    signs and recall is exact recall. Any other memory runs
    :func:`memnb.experiments.capacity` with the settings ``gaussian``: the noise is the
    norm of Gaussian cue noise relative to the key's, ``|e| / |k|``, and recall is
    nearest of N. Returns that frame with the columns ``cue_noise`` (the noise level),
    ``accuracy`` (the recall) and ``cues`` (``"flip"`` or ``"gaussian"``) filled.
    """
    trials = _validate.positive_int("trials", trials)
    probe = build_memory(factory, dim=8, trials=1, seed=0)
    inner = probe.memories[0] if isinstance(probe, LoopedMemory) else probe
    if callable(getattr(inner, "settle", None)):
        frame = experiments.completion(
            factory, kind="flip", trials=trials, seed=seed, label=label, **flip
        )
        return frame.assign(cue_noise=frame["noise"], accuracy=frame["exact"], cues="flip")
    frame = experiments.capacity(factory, trials=trials, seed=seed, label=label, **gaussian)
    return frame.assign(cues="gaussian")


_PROTOCOL_FUNCTIONS: dict[str, Callable[..., pd.DataFrame]] = {
    "adaptation": experiments.adaptation,
    "capacity": experiments.capacity,
    "forgetting": experiments.forgetting,
    "dimensions": experiments.token_dimensions,
    "contiguity": experiments.probe,
    "cue_noise": cue_noise,
}


def _run(
    protocol: str, factory: Factory, options: dict, seed: int, label: str
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """One protocol's frame, and the low-precision dtypes its reads came in (scored in
    float32). Runs under a lock with torch's global RNG seeded and restored, so that
    threads sharing that RNG give the same numbers as one run after another."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    (rng_seed,) = child_seeds(seed + PROTOCOLS.index(protocol), 1)
    with _RNG_LOCK, torch.random.fork_rng(devices=[]), warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always", _validate.LowPrecisionRead)
        torch.manual_seed(rng_seed)
        frame = _PROTOCOL_FUNCTIONS[protocol](factory, seed=seed, label=label, **options)
    dtypes = set()
    for caught in seen:
        if issubclass(caught.category, _validate.LowPrecisionRead):
            dtypes.add(str(caught.message).partition(" read in ")[2].partition(";")[0])
        else:  # not ours to keep: shown as if never caught
            warnings.warn_explicit(caught.message, caught.category, caught.filename, caught.lineno)
    return frame, tuple(sorted(dtypes))


# ---------------------------------------------------------------------------------------------
# The headline numbers: each read off its protocol's frame, with a bootstrap interval


def _steps_to_90pct(frame: pd.DataFrame) -> float:
    """The first write after which the mean read error is below 10 % of its start (NaN:
    never, within the writes run)."""
    first = summaries.steps_to_fraction(frame, fraction=0.1, by=None).iloc[0]
    return math.nan if pd.isna(first) else float(first)


def _capacity_95(frame: pd.DataFrame) -> pd.Series:
    """Capacity at 95 % recall with its bootstrap interval (``capacity, lower_bound, low,
    high``; :func:`memnb.summaries.capacity_at`)."""
    return summaries.capacity_at(frame, 0.95, by=None, ci=LEVEL, n_boot=N_BOOT).iloc[0]


def _dim_for_95(frame: pd.DataFrame) -> pd.Series:
    """The smallest d at which 95 % of the 50 pairs are recalled (``crossing, at_first``)."""
    return summaries.first_reaching(frame, "dim", 0.95, by=None).iloc[0]


def _successors(frame: pd.DataFrame) -> pd.Series:
    """Per trial, the cosine of the read of B with C (the successor)."""
    rows = frame[(frame["cue"] == "B") & (frame["target"] == "C")]
    return rows.groupby("trial")["cosine"].mean()


def _average_accuracy(frame: pd.DataFrame) -> float:
    """After learning A then B: the mean over trials of the accuracies on A and on B."""
    return float((frame["acc_A2"] + frame["acc_B"]).mean(skipna=False) / 2)


def _steps_objective(frame: pd.DataFrame) -> float:
    """Minus the writes to a 90 % lower error (one more than were run when never)."""
    steps = _steps_to_90pct(frame)
    return -(float(frame["step"].max()) + 1 if math.isnan(steps) else steps)


def _dim_objective(frame: pd.DataFrame) -> float:
    """The mean recall over every d swept (not the d for 95 % alone: a step that reaches
    95 % at a small d but breaks down at a larger one must not win)."""
    return float(frame["accuracy"].mean(skipna=False))


def _successor_objective(frame: pd.DataFrame) -> float:
    """The mean successor cosine over trials."""
    return float(_successors(frame).mean())


def _noise_objective(frame: pd.DataFrame) -> float:
    """The mean recall over every cue-noise level (not the level for 95 % alone, which is
    0 for every setting that misses 95 % from clean cues)."""
    return float(frame["accuracy"].mean(skipna=False))


# What memnb.tuning maximises to find a family's best setting for each protocol. For
# forgetting it is not the forgetting score, which a memory that learns nothing wins,
# but the average accuracy over both tasks after learning B: keep A *and* learn B. For
# the dimension sweep it is the recall over all d, so that a step that is stable only at
# small d (a delta rule's) does not win; for the cue noise, the recall over all levels.
OBJECTIVES: Mapping[str, Callable[[pd.DataFrame], float] | str] = {
    "adaptation": _steps_objective,
    "capacity": "capacity",
    "forgetting": _average_accuracy,
    "dimensions": _dim_objective,
    "contiguity": _successor_objective,
    "cue_noise": _noise_objective,
}


def _resampled_means(table: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Means over the rows (trials) of ``N_BOOT`` resamples of them: ``(N_BOOT, columns)``."""
    picks = rng.integers(0, len(table), size=(N_BOOT, len(table)))
    return table[picks].mean(axis=1)


def _interval(samples: np.ndarray) -> tuple[float, float]:
    """The central ``LEVEL`` percentile interval of ``samples`` (``inf`` allowed)."""
    low, high = np.quantile(samples, [(1 - LEVEL) / 2, (1 + LEVEL) / 2], method="nearest")
    return float(low), float(high)


def _steps_interval(frame: pd.DataFrame, rng: np.random.Generator) -> tuple[float, float]:
    """Bootstrap interval of :func:`_steps_to_90pct` (a resample that never gets there
    counts as ``inf``)."""
    table = frame.pivot(index="trial", columns="step", values="mse")
    means = _resampled_means(table.to_numpy(dtype=float), rng)
    below = means < 0.1 * means[:, :1]  # NaN (diverged) is never below
    steps = table.columns.to_numpy(dtype=float)
    return _interval(np.where(below.any(axis=1), steps[np.argmax(below, axis=1)], np.inf))


def _dim_interval(frame: pd.DataFrame, rng: np.random.Generator) -> tuple[float, float]:
    """Bootstrap interval of :func:`_dim_for_95`: the crossing of each resample, read as
    :func:`memnb.summaries.first_reaching` reads it (linear in log2 d; ``inf`` never)."""
    table = frame.pivot_table(index="trial", columns="dim", values="accuracy", dropna=False)
    means = _resampled_means(table.to_numpy(dtype=float), rng)
    at = np.log2(table.columns.to_numpy(dtype=float))
    reached = means >= 0.95
    i = np.argmax(reached, axis=1)
    rows = np.arange(len(means))
    lo, hi = means[rows, np.maximum(i - 1, 0)], means[rows, i]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(np.isfinite(lo), (0.95 - lo) / (hi - lo), 0.0)
    crossing = np.where(i == 0, at[0], at[np.maximum(i - 1, 0)] + frac * (at[i] - at[i - 1]))
    return _interval(np.where(reached.any(axis=1), 2.0**crossing, np.inf))


def _mean_interval(values: pd.Series, rng: np.random.Generator) -> tuple[float, float]:
    """Bootstrap interval of the mean of per-trial ``values``."""
    return _interval(_resampled_means(values.to_numpy(dtype=float)[:, None], rng)[:, 0])


def _divergence(protocol: str, frame: pd.DataFrame) -> tuple[set, int, str] | None:
    """The trials of a protocol's ``frame`` with a read that was not finite, the number of
    trials, and the note "diverged in k of T trials at <where>"; None when none did."""
    if frame.empty or "diverged" not in frame.columns or "trial" not in frame.columns:
        return None
    flagged = frame["diverged"].fillna(False).astype(bool)
    if not flagged.any():
        return None
    bad = set(frame.loc[flagged, "trial"].unique())
    total = frame["trial"].nunique()
    return bad, total, f"diverged in {len(bad)} of {total} trials at {_where(protocol, frame)}"


def _where(protocol: str, frame: pd.DataFrame) -> str:
    """Where in the protocol the first read that was not finite came."""
    rows = frame[frame["diverged"].fillna(False).astype(bool)]
    if protocol == "adaptation":
        broken = frame[~np.isfinite(frame["mse"].to_numpy(dtype=float))]
        return f"write {int(broken['step'].min())} of {int(frame['step'].max())}"
    if protocol == "capacity":
        return f"N = {int(rows['n_items'].min())} ({int(rows['steps'].min())} writes)"
    if protocol == "dimensions":
        return f"d = {int(rows['dim'].min())} ({int(rows['n_items'].min())} pairs)"
    if protocol == "forgetting":
        return f"tasks A then B ({int(rows['steps_A'].iloc[0])} writes each)"
    if protocol == "contiguity":
        return f"the reads after {int(rows['steps'].iloc[0])} writes of A -> B, B -> C"
    unit = "flipped fraction" if (rows["cues"] == "flip").all() else "cue noise"
    return f"{unit} {rows['cue_noise'].min():g}"


def _headlines(
    frames: dict[str, pd.DataFrame], settings: dict, seed: int
) -> tuple[dict[str, Estimate], dict[str, str]]:
    """The six headline numbers with their intervals, and the notes on NaNs, bounds and
    diverged trials.

    A headline whose protocol had trials with a read that was not finite is NaN, with the
    note "diverged in k of T trials at <where>", unless at least :data:`FINITE_SHARE` of
    the trials stayed finite: it is then read from those trials alone, and the note says
    so.
    """
    rng = {k: np.random.default_rng([seed, i]) for i, k in enumerate(HEADLINES)}
    summary, notes = {}, {}
    for protocol, key in HEADLINE_OF.items():
        frame, said = frames[protocol], ""
        broke = _divergence(protocol, frame)
        if broke is not None:
            bad, total, said = broke
            finite = total - len(bad)
            if finite < FINITE_SHARE * total:
                summary[key] = Estimate(math.nan)
                notes[key] = (
                    f"{said}: no score is quoted, since a read that is not finite is not a score"
                )
                continue
            frame = frame[~frame["trial"].isin(bad)]
            said = f"{said}; the number is read from the {finite} trials that stayed finite"
        value, note = _READERS[protocol](frame, settings[protocol], rng[key])
        summary[key] = value
        text = "; ".join(t for t in (note, said) if t)
        if text:
            notes[key] = text
    return summary, notes


def _steps_headline(
    frame: pd.DataFrame, settings: dict, rng: np.random.Generator
) -> tuple[Estimate, str]:
    steps = _steps_to_90pct(frame)
    if math.isnan(steps):
        return Estimate(math.nan), (
            f"the error never fell by 90 % within {settings['steps']} writes"
        )
    return Estimate(steps, *_steps_interval(frame, rng)), ""


def _capacity_headline(
    frame: pd.DataFrame, settings: dict, rng: np.random.Generator
) -> tuple[Estimate, str]:
    cap = _capacity_95(frame)
    capacity = float(cap["capacity"])
    if math.isnan(capacity):
        return Estimate(math.nan), "recall is below 95 % already at the smallest N"
    note = (
        f"capacity_95 is a lower bound: recall stays >= 95 % up to N = {capacity:g}"
        if cap["lower_bound"]
        else ""
    )
    return Estimate(capacity, cap["low"], cap["high"]), note


def _dim_headline(
    frame: pd.DataFrame, settings: dict, rng: np.random.Generator
) -> tuple[Estimate, str]:
    first = _dim_for_95(frame)
    dim = float(first["crossing"])
    if math.isnan(dim):
        largest = max(settings["dims"])
        return Estimate(math.nan), f"recall of 50 pairs stays below 95 % up to d = {largest}"
    note = (
        f"dim_for_95 is an upper bound: 95 % is reached at d = {dim:g}" if first["at_first"] else ""
    )
    return Estimate(dim, *_dim_interval(frame, rng)), note


def _successor_headline(
    frame: pd.DataFrame, settings: dict, rng: np.random.Generator
) -> tuple[Estimate, str]:
    successors = _successors(frame)
    successor = float(successors.mean())
    if math.isnan(successor):
        return Estimate(math.nan), ""
    return Estimate(successor, *_mean_interval(successors, rng)), ""


def _forgetting(
    frame: pd.DataFrame, settings: dict, rng: np.random.Generator
) -> tuple[Estimate, str]:
    """The forgetting score with its interval, and its note ("" when none is needed).

    The score is NaN, "not measurable", when the accuracy on A right after learning it
    is not at least ``LEARNED`` of the way from chance to 1.
    """
    a1, chance = float(frame["acc_A1"].mean()), float(frame["chance"].mean())
    needed = chance + LEARNED * (1 - chance)
    if not a1 >= needed:
        return Estimate(math.nan), (
            f"not measurable: the accuracy on task A right after learning it is {a1:.2f}, "
            f"below {needed:.2f} (halfway from chance, {chance:.3g}, to 1), so there was "
            "little of A to forget; no score is quoted"
        )
    score = float(frame["forgetting"].mean())
    return Estimate(score, *_mean_interval(frame["forgetting"], rng)), ""


def _cue_noise_headline(
    frame: pd.DataFrame, settings: dict, rng: np.random.Generator
) -> tuple[Estimate, str]:
    """The cue noise up to which mean recall stays >= 95 %, read as
    :func:`memnb.summaries.capacity_at` reads a capacity (the noise in place of N)."""
    flips = bool((frame["cues"] == "flip").all())
    unit = "fraction of flipped signs" if flips else "noise norm / key norm"
    levels = frame[["trial", "cue_noise", "accuracy"]].rename(columns={"cue_noise": "n_items"})
    found = summaries.capacity_at(
        levels, 0.95, by=None, ci=LEVEL, n_boot=N_BOOT, seed=int(rng.integers(2**31))
    ).iloc[0]
    noise = float(found["capacity"])
    if flips:
        what = (
            f"exact recall of {settings['flip']['n_patterns']} stored ±1 patterns (d = "
            f"{settings['flip']['dim']}) from cues with that fraction of their signs flipped"
        )
    else:
        what = (
            f"recall of {settings['gaussian']['n_items']} pairs (d = "
            f"{settings['gaussian']['dim']}) from each key plus Gaussian noise of that norm "
            "relative to the key's"
        )
    if math.isnan(noise):
        clean = float(frame.loc[frame["cue_noise"] == 0, "accuracy"].mean())
        return Estimate(math.nan), (
            f"not measurable: {what.split(' from ')[0]} from clean cues is {clean:.2f}, "
            "below 95 %, so no cue noise keeps it there"
        )
    notes = [f"cue_noise_95 is a {unit}: {what}"] if flips else []
    if found["lower_bound"]:
        notes.append(f"cue_noise_95 is a lower bound: recall stays >= 95 % up to {noise:g}")
    note = "; ".join(notes)
    return Estimate(noise, found["low"], found["high"]), note


_READERS: dict[str, Callable[..., tuple[Estimate, str]]] = {
    "adaptation": _steps_headline,
    "capacity": _capacity_headline,
    "forgetting": _forgetting,
    "dimensions": _dim_headline,
    "contiguity": _successor_headline,
    "cue_noise": _cue_noise_headline,
}


def _progress_bar(progress: bool) -> Callable[[str | None], None]:
    """A callback that advances a tqdm bar by one protocol (``None`` closes it)."""
    if not progress:
        return lambda _: None
    try:
        from tqdm.auto import tqdm
    except ImportError as error:
        raise ImportError(
            "progress=True needs tqdm; install it (pip install tqdm) or pass progress=False"
        ) from error
    bar = tqdm(total=len(PROTOCOLS), desc="profile", unit="protocol")

    def advance(protocol: str | None) -> None:
        if protocol is None:
            bar.close()
        else:
            bar.set_postfix_str(protocol)
            bar.update(1)

    return advance
