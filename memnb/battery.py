"""Profile any memory: every protocol of the book on one factory, with headline numbers.

:func:`profile` runs adaptation, capacity, forgetting, the dimension sweep and the
A -> B -> C contiguity test on a memory factory and returns a :class:`Profile`: one tidy
frame, five headline numbers and a panel figure that sets the memory beside others.
"""

from __future__ import annotations

import concurrent.futures
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd
import torch

from . import _validate, data, experiments, summaries
from ._validate import require_columns as _require
from .experiments._build import Factory, build_memory, child_seeds, place_like
from .experiments._protocol import read as checked_read

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "on_device",
    "Profile",
    "profile",
    "reference_profiles",
    "summary_table",
    "validate",
]

PROTOCOLS = ("adaptation", "capacity", "forgetting", "dimensions", "contiguity")

# The headline number of each protocol: its key in Profile.summary, column name and meaning.
HEADLINES = {
    "steps_to_90pct": "steps to 90 % (writes, lower = faster)",
    "capacity_95": "capacity at 95 % (pairs, d = 64)",
    "forgetting": "forgetting (accuracy drop, lower = better)",
    "dim_for_95": "dim for 95 % (d, N = 50, lower = better)",
    "successor_cosine": "successor cosine (B -> C, 1 = exact)",
}

# The book's settings for each protocol (``quick=False``) and a small grid (``quick=True``).
_NS = tuple(2**i for i in range(2, 10))  # N = 4 ... 512
_DIMS = (8, 16, 32, 64, 128, 256)
SETTINGS: dict[bool, dict[str, dict[str, Any]]] = {
    False: {
        "adaptation": dict(steps=20, trials=32, dim=32),
        "capacity": dict(n_items=_NS, steps=5, trials=16, dim=64),
        "forgetting": dict(steps=20, trials=32, dim=32),
        "dimensions": dict(dims=_DIMS, n_items=50, steps=5, trials=16),
        "contiguity": dict(trials=64, dim=64, steps=5),
    },
    True: {
        "adaptation": dict(steps=20, trials=8, dim=32),
        "capacity": dict(n_items=_NS[:-1], steps=5, trials=8, dim=64),
        "forgetting": dict(steps=20, trials=8, dim=32),
        "dimensions": dict(dims=_DIMS, n_items=50, steps=5, trials=8),
        "contiguity": dict(trials=16, dim=64, steps=5),
    },
}

_RNG_LOCK = threading.Lock()  # torch's global RNG is seeded while a memory is built


@dataclass
class Profile:
    """The result of :func:`profile`.

    ``frame`` stacks the frames of all protocols (column ``protocol``, one of
    :data:`PROTOCOLS`, plus each protocol's own columns; ``memory`` holds ``label``).
    ``summary`` holds the five headline numbers, NaN where the memory never reaches the
    level that defines one; ``notes`` explains those NaNs, any bounds and diverged trials.
    """

    label: str
    frame: pd.DataFrame
    summary: dict[str, float]
    notes: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.label, str):
            raise TypeError(f"label must be a str, got {self.label!r}")
        _require(self.frame, ["protocol", "memory"])
        if not isinstance(self.summary, dict) or any(k not in self.summary for k in HEADLINES):
            raise ValueError(
                f"summary must be a dict with the headline numbers {list(HEADLINES)}, "
                f"got {self.summary!r:.80}"
            )

    def protocol(self, name: str) -> pd.DataFrame:
        """The rows of one protocol, with only the columns it fills."""
        if name not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {PROTOCOLS}, got {name!r}")
        rows = self.frame[self.frame["protocol"] == name]
        return rows.dropna(axis=1, how="all").reset_index(drop=True)

    def figure(self, references: Sequence[Profile] = ()) -> Figure:
        """One panel per protocol: this profile (drawn first) beside ``references``."""
        from . import plots

        profiles = [self, *references]
        for p in profiles:
            if not isinstance(p, Profile):
                raise TypeError(f"references must be Profile objects, got {type(p).__name__}")
        labels = [p.label for p in profiles]
        if len(set(labels)) != len(labels):
            raise ValueError(f"profiles need distinct labels to be told apart, got {labels}")
        frame = pd.concat([p.frame for p in profiles], ignore_index=True)
        return plots.profile_panels(frame, PROTOCOLS)


def profile(
    factory: Factory,
    *,
    quick: bool = False,
    seed: int = 0,
    device: str | torch.device | None = None,
    executor: concurrent.futures.Executor | None = None,
    label: str | None = None,
    progress: bool = False,
) -> Profile:
    """Run every protocol of the book on ``factory`` and read off the headline numbers.

    ``factory(dim)`` (or ``factory(dim, trials=T)``) returns a memory with
    ``update(keys, values)`` and ``__call__(queries)``; it is checked first, so a broken
    memory fails at once with an error that names what is wrong. ``quick`` runs smaller
    grids with 8 or more trials (a few seconds); otherwise the chapters' settings are used
    (16 or more trials). ``device`` builds the memory there: ``device=`` is passed to a
    factory that takes it, else an ``nn.Module`` is moved with ``.to(device)``.
    ``executor`` (any ``concurrent.futures.Executor``) runs the five protocols as
    separate tasks; the results are identical to the in-process run. ``progress`` shows a
    tqdm bar over the protocols.
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
    bar = _progress_bar(progress)
    name = label if label is not None else experiments._build.label_of(factory, None)
    built = on_device(factory, device)
    validate(built, seed=seed)
    settings = SETTINGS[quick]
    if executor is None:
        frames = []
        for protocol in PROTOCOLS:
            frames.append(_run(protocol, built, settings[protocol], seed, name))
            bar(protocol)
    else:
        futures = [executor.submit(_run, p, built, settings[p], seed, name) for p in PROTOCOLS]
        frames = []
        for protocol, future in zip(PROTOCOLS, futures, strict=True):
            frames.append(future.result())
            bar(protocol)
    bar(None)
    by_protocol = dict(zip(PROTOCOLS, frames, strict=True))
    summary, notes = _headlines(by_protocol, settings)
    frame = pd.concat([f.assign(protocol=p) for p, f in by_protocol.items()], ignore_index=True)
    frame = frame[["protocol", *frame.columns.drop("protocol")]]
    return Profile(label=name, frame=frame, summary=summary, notes=notes)


def reference_profiles(
    *,
    quick: bool = False,
    seed: int = 0,
    device: str | torch.device | None = None,
    executor: concurrent.futures.Executor | None = None,
) -> list[Profile]:
    """Profiles of memnb's four memory families (from :data:`memnb.memories.MEMORIES`),
    with their default settings."""
    from .memories import pick

    families = pick(
        "EpisodicMemory", "MatrixAssociativeMemory", "DeltaRuleMemory", "AttentionMemory"
    )
    return [
        profile(f, quick=quick, seed=seed, device=device, executor=executor, label=name)
        for name, f in families.items()
    ]


def summary_table(profiles: Sequence[Profile]) -> pd.DataFrame:
    """One row per profile (index: label), one column per headline number.

    Column names carry the unit and the direction that is better; ``attrs["note"]``
    says what a NaN (never reached) or a bound means for each profile.
    """
    if isinstance(profiles, Profile):
        profiles = [profiles]
    profiles = list(profiles)
    if not profiles:
        raise ValueError("summary_table needs at least one Profile, got none")
    for p in profiles:
        if not isinstance(p, Profile):
            raise TypeError(f"profiles must be Profile objects, got {type(p).__name__}")
    rows = {p.label: [p.summary[k] for k in HEADLINES] for p in profiles}
    table = pd.DataFrame.from_dict(rows, orient="index", columns=list(HEADLINES.values()))
    table.index.name = "memory"
    notes = [f"{p.label}: {text}" for p in profiles for text in p.notes.values()]
    table.attrs["note"] = (
        "NaN: the memory never reaches the level within the settings measured. " + "; ".join(notes)
    ).strip()
    table.attrs["keys"] = dict(zip(HEADLINES.values(), HEADLINES, strict=True))
    return table


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

    Raises ``TypeError`` naming a missing ``update`` or ``__call__`` (or a read that is
    not a tensor), ``ValueError`` naming the shape received and the shape expected, and
    ``ValueError`` when the read holds NaN or inf.
    """
    with _RNG_LOCK:
        memory = build_memory(factory, dim=dim, trials=trials, seed=seed)
    keys, values = place_like(memory, *data.random_pairs(n_items, dim, trials, seed=seed))
    memory.update(keys, values)
    with torch.no_grad():
        out = checked_read(memory, keys, tuple(values.shape))
    if not torch.isfinite(out).all():
        bad = "NaN" if torch.isnan(out).any() else "inf"
        raise ValueError(
            f"the memory returned {bad} when read after one update(keys, values) with "
            f"{n_items} pairs of dimension {dim}; expected finite values"
        )
    return memory


# ---------------------------------------------------------------------------------------------
# Running the protocols and reading the headline numbers


def _run(protocol: str, factory: Factory, options: dict, seed: int, label: str) -> pd.DataFrame:
    """One protocol's frame. Runs under a lock with torch's global RNG seeded and restored,
    so that threads sharing that RNG give the same numbers as one run after another."""
    (rng_seed,) = child_seeds(seed + PROTOCOLS.index(protocol), 1)
    with _RNG_LOCK, torch.random.fork_rng(devices=[]):
        torch.manual_seed(rng_seed)
        if protocol == "adaptation":
            return experiments.adaptation(factory, seed=seed, label=label, **options)
        if protocol == "capacity":
            return experiments.capacity(factory, seed=seed, label=label, **options)
        if protocol == "forgetting":
            return experiments.forgetting(factory, seed=seed, label=label, **options)
        if protocol == "dimensions":
            return experiments.token_dimensions(factory, seed=seed, label=label, **options)
        if protocol == "contiguity":
            return experiments.probe(factory, seed=seed, label=label, **options)
    raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")


def _headlines(frames: dict[str, pd.DataFrame], settings: dict) -> tuple[dict, dict]:
    notes = {}
    elbow = summaries.steps_to_fraction(frames["adaptation"], fraction=0.1).iloc[0]
    steps = math.nan if pd.isna(elbow) else float(elbow)
    if math.isnan(steps):
        notes["steps_to_90pct"] = (
            f"the error never fell by 90 % within {settings['adaptation']['steps']} writes"
        )
    cap = summaries.capacity_at(frames["capacity"], 0.95).iloc[0]
    capacity = float(cap["capacity"])
    if math.isnan(capacity):
        notes["capacity_95"] = "recall is below 95 % already at the smallest N"
    elif cap["lower_bound"]:
        notes["capacity_95"] = (
            f"capacity_95 is a lower bound: recall stays >= 95 % up to N = {capacity:g}"
        )
    forgetting = float(frames["forgetting"]["forgetting"].mean())
    diverged = int(frames["forgetting"]["diverged"].sum())
    if diverged:
        notes["forgetting"] = (
            f"{diverged} of {len(frames['forgetting'])} trials diverged (a read was NaN or "
            "inf, scored as a miss), so the drop in accuracy measures the divergence more "
            "than forgetting"
        )
    first = summaries.first_reaching(frames["dimensions"], "dim", 0.95).iloc[0]
    dim = float(first["crossing"])
    if math.isnan(dim):
        largest = max(settings["dimensions"]["dims"])
        notes["dim_for_95"] = f"recall of 50 pairs stays below 95 % up to d = {largest}"
    elif first["at_first"]:
        notes["dim_for_95"] = f"dim_for_95 is an upper bound: 95 % is reached at d = {dim:g}"
    probe = frames["contiguity"]
    successor = float(probe.loc[(probe["cue"] == "B") & (probe["target"] == "C"), "cosine"].mean())
    summary = {
        "steps_to_90pct": steps,
        "capacity_95": capacity,
        "forgetting": forgetting,
        "dim_for_95": dim,
        "successor_cosine": successor,
    }
    return summary, notes


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
