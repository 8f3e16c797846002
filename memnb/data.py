"""Generators of keys and values, each with an explicit seed, and reference data of people."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, partial
from numbers import Integral

import numpy as np
import pandas as pd
import torch

from . import _validate

__all__ = [
    "LETTERS",
    "binary_patterns",
    "clustered_tasks",
    "context_pairs",
    "ContextPairs",
    "generator",
    "human_lag_crp",
    "human_recalls",
    "letter_images",
    "low_rank_pairs",
    "nonlinearity",
    "random_pairs",
    "random_projection",
    "random_tasks",
    "random_vectors",
    "Task",
]

KINDS = ("gaussian", "unit", "binary")


def generator(seed: int | torch.Generator) -> torch.Generator:
    """A CPU ``torch.Generator`` from an int seed (a generator is passed through)."""
    if isinstance(seed, torch.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int or a torch.Generator, got {type(seed).__name__}")
    return torch.Generator().manual_seed(seed)


def random_vectors(
    n: int,
    dim: int,
    trials: int | None = None,
    *,
    kind: str = "gaussian",
    seed: int | torch.Generator = 0,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """``n`` random vectors of dimension ``dim``: shape ``(n, dim)`` or ``(trials, n, dim)``.

    ``kind`` is ``"gaussian"`` (standard normal entries, so ``|x|^2`` is about ``dim``),
    ``"unit"`` (Gaussian directions scaled to norm 1) or ``"binary"`` (entries +1 or -1).

    The normal entries are drawn in float32 whatever ``dtype`` (torch draws float32 about
    five times faster than float64), so the same seed gives the same vectors in every
    dtype: exactly for ``"gaussian"`` and ``"binary"``, up to the rounding of the norm
    (computed in float64) for ``"unit"``.
    """
    n = _validate.positive_int("n", n)
    dim = _validate.positive_int("dim", dim)
    trials = _validate.optional_trials(trials)
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    _validate.float_dtype("dtype", dtype)
    _validate.torch_device("device", device)
    shape = (n, dim) if trials is None else (trials, n, dim)
    x = torch.randn(shape, generator=generator(seed), dtype=torch.float32)
    if kind == "unit":
        x = x.double()
        x = x / x.norm(dim=-1, keepdim=True)
    elif kind == "binary":
        x = torch.where(x >= 0, 1.0, -1.0)
    return x.to(dtype=dtype, device=device)


def random_pairs(
    n: int,
    dim: int,
    trials: int | None = None,
    *,
    seed: int | torch.Generator = 0,
    kind: str = "gaussian",
    value_dim: int | None = None,
    value_kind: str | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` independent random key-value pairs (heteroassociative).

    Returns ``(keys, values)`` of shapes ``(n, dim)`` and ``(n, value_dim)``, each with a
    leading ``trials`` axis when ``trials`` is given. ``kind`` ("gaussian", "unit" or
    "binary", see :func:`random_vectors`) sets the keys; ``value_kind`` the values
    (defaults to ``kind``). The same seed gives the same pairs.
    """
    gen = generator(seed)
    keys = random_vectors(n, dim, trials, kind=kind, seed=gen, dtype=dtype, device=device)
    value_dim = dim if value_dim is None else _validate.positive_int("value_dim", value_dim)
    value_kind = kind if value_kind is None else value_kind
    if value_kind not in KINDS:
        raise ValueError(f"value_kind must be one of {KINDS}, got {value_kind!r}")
    values = random_vectors(
        n, value_dim, trials, kind=value_kind, seed=gen, dtype=dtype, device=device
    )
    return keys, values


def binary_patterns(
    n: int,
    dim: int,
    trials: int | None = None,
    *,
    correlation: float = 0.0,
    seed: int | torch.Generator = 0,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """``n`` random ±1 patterns of ``dim`` units: ``(n, dim)`` or ``(trials, n, dim)``.

    With ``correlation = 0`` every unit is +1 or -1 with probability 1/2, independently.
    With ``correlation = c`` in ``[0, 1)`` each trial draws one random prototype and every
    unit of every pattern agrees with the prototype's unit with probability
    ``(1 + sqrt(c)) / 2``, so that two patterns' overlap ``xi . eta / dim`` is ``c`` on
    average (the patterns form one cluster around the prototype).
    """
    n = _validate.positive_int("n", n)
    dim = _validate.positive_int("dim", dim)
    trials = _validate.optional_trials(trials)
    correlation = _validate.number("correlation", correlation)
    if not 0 <= correlation < 1:
        raise ValueError(f"correlation must lie in [0, 1), got {correlation}")
    _check_dtype(dtype, device)
    gen = generator(seed)
    t = 1 if trials is None else trials
    x = torch.where(torch.rand(t, n, dim, generator=gen) < 0.5, 1.0, -1.0)
    if correlation > 0:
        prototype = torch.where(torch.rand(t, 1, dim, generator=gen) < 0.5, 1.0, -1.0)
        agree = torch.rand(t, n, dim, generator=gen) < (1 + correlation**0.5) / 2
        x = torch.where(agree, prototype, -prototype)
    return _finish(x, trials, dtype, device)


# Capital letters made of straight strokes, each stroke a segment (x0, y0, x1, y1) in a unit
# square with y pointing down.
_STROKES = {
    "A": [(0.1, 0.95, 0.5, 0.05), (0.5, 0.05, 0.9, 0.95), (0.27, 0.6, 0.73, 0.6)],
    "E": [(0.2, 0.05, 0.2, 0.95), (0.2, 0.05, 0.85, 0.05), (0.2, 0.5, 0.7, 0.5),
          (0.2, 0.95, 0.85, 0.95)],
    "F": [(0.2, 0.05, 0.2, 0.95), (0.2, 0.05, 0.85, 0.05), (0.2, 0.5, 0.7, 0.5)],
    "H": [(0.15, 0.05, 0.15, 0.95), (0.85, 0.05, 0.85, 0.95), (0.15, 0.5, 0.85, 0.5)],
    "I": [(0.5, 0.05, 0.5, 0.95), (0.25, 0.05, 0.75, 0.05), (0.25, 0.95, 0.75, 0.95)],
    "K": [(0.2, 0.05, 0.2, 0.95), (0.85, 0.05, 0.2, 0.55), (0.4, 0.42, 0.85, 0.95)],
    "L": [(0.2, 0.05, 0.2, 0.95), (0.2, 0.95, 0.85, 0.95)],
    "M": [(0.1, 0.95, 0.1, 0.05), (0.1, 0.05, 0.5, 0.6), (0.5, 0.6, 0.9, 0.05),
          (0.9, 0.05, 0.9, 0.95)],
    "N": [(0.15, 0.95, 0.15, 0.05), (0.15, 0.05, 0.85, 0.95), (0.85, 0.95, 0.85, 0.05)],
    "T": [(0.1, 0.05, 0.9, 0.05), (0.5, 0.05, 0.5, 0.95)],
    "V": [(0.1, 0.05, 0.5, 0.95), (0.5, 0.95, 0.9, 0.05)],
    "W": [(0.05, 0.05, 0.25, 0.95), (0.25, 0.95, 0.5, 0.4), (0.5, 0.4, 0.75, 0.95),
          (0.75, 0.95, 0.95, 0.05)],
    "X": [(0.1, 0.05, 0.9, 0.95), (0.9, 0.05, 0.1, 0.95)],
    "Y": [(0.1, 0.05, 0.5, 0.5), (0.9, 0.05, 0.5, 0.5), (0.5, 0.5, 0.5, 0.95)],
    "Z": [(0.1, 0.05, 0.9, 0.05), (0.9, 0.05, 0.1, 0.95), (0.1, 0.95, 0.9, 0.95)],
}  # fmt: skip
LETTERS = "".join(_STROKES)  # the letters letter_images can draw


def letter_images(letters: str = LETTERS, size: int = 16) -> torch.Tensor:
    """Capital letters drawn into a ``size x size`` grid: ±1 patterns ``(len, size * size)``.

    Each letter of ``letters`` (from :data:`LETTERS`, capitals made of straight strokes)
    is drawn by code: a pixel is +1 (ink) when its centre lies within 1.1 pixels of a
    stroke, -1 otherwise. Rows are the images read row by row (``.view(-1, size, size)``
    gives them back as images). Letters share many pixels, so their patterns are
    correlated, unlike random ones.
    """
    if not isinstance(letters, str) or not letters:
        raise TypeError(f"letters must be a non-empty str, got {letters!r}")
    unknown = sorted(set(letters) - set(LETTERS))
    if unknown:
        raise ValueError(f"letters must be drawn from {LETTERS!r}, got {unknown}")
    size = _validate.positive_int("size", size)
    if size < 5:
        raise ValueError(f"size must be at least 5 pixels, got {size}")
    centres = (torch.arange(size, dtype=torch.float64) + 0.5) / size
    y, x = torch.meshgrid(centres, centres, indexing="ij")
    images = []
    for letter in letters:
        near = torch.zeros(size, size, dtype=torch.bool)
        for x0, y0, x1, y1 in _STROKES[letter]:
            dx, dy = x1 - x0, y1 - y0
            along = (((x - x0) * dx + (y - y0) * dy) / (dx * dx + dy * dy)).clamp(0, 1)
            gap = torch.hypot(x - (x0 + along * dx), y - (y0 + along * dy))
            near |= gap * size <= 1.1
        images.append(torch.where(near, 1.0, -1.0).flatten())
    return torch.stack(images).float()


# ---------------------------------------------------------------------------------------------
# Tasks: train and test splits for the forgetting experiments


@dataclass(frozen=True)
class Task:
    """One task of a continual-learning experiment: a train split and a test split.

    Shapes carry a leading trials axis ``T`` when the generator was given ``trials``:

    - ``train_keys`` ``(T, N_train, d)`` and ``train_values`` ``(T, N_train, d_v)``: the
      pairs the memory is updated with;
    - ``test_keys`` ``(T, N_test, d)`` and ``test_values`` ``(T, N_test, d_v)``: the pairs
      it is tested on;
    - ``values`` ``(T, C, d_v)``: the task's distinct values, the candidates a read is
      scored against (one per cluster, or one per pair for random pairs);
    - ``train_targets`` ``(N_train,)`` and ``test_targets`` ``(N_test,)``: the index in
      ``values`` of each item's value (the same in every trial);
    - ``centres`` ``(T, C, d)``: the cluster centres (None for random pairs).
    """

    train_keys: torch.Tensor
    train_values: torch.Tensor
    test_keys: torch.Tensor
    test_values: torch.Tensor
    values: torch.Tensor
    train_targets: torch.Tensor
    test_targets: torch.Tensor
    centres: torch.Tensor | None = None

    def __post_init__(self) -> None:
        for split in ("train", "test"):
            keys = _validate.float_type(f"{split}_keys", getattr(self, f"{split}_keys"))
            values = _validate.float_type(f"{split}_values", getattr(self, f"{split}_values"))
            targets = getattr(self, f"{split}_targets")
            if not isinstance(targets, torch.Tensor) or targets.is_floating_point():
                raise TypeError(
                    f"{split}_targets must be an integer torch.Tensor, got {targets!r:.60}"
                )
            if keys.dim() < 2 or keys.shape[:-1] != values.shape[:-1] or keys.shape[-2] == 0:
                raise ValueError(
                    f"{split}_keys and {split}_values must hold the same N >= 1 items, got shapes "
                    f"{tuple(keys.shape)} and {tuple(values.shape)}"
                )
            if targets.shape[-1:] != keys.shape[-2:-1]:
                raise ValueError(
                    f"{split}_targets must hold one index per item ({keys.shape[-2]}), "
                    f"got shape {tuple(targets.shape)}"
                )
        _validate.float_type("values", self.values)

    @property
    def n_train(self) -> int:
        return self.train_keys.shape[-2]

    @property
    def n_test(self) -> int:
        return self.test_keys.shape[-2]


def _sizes(name: str, value: object, n_tasks: int) -> list[int]:
    """One positive size per task, from an int (the same for all) or a sequence."""
    return _validate.sequence(name, value, _split_size, "ints (one per task)", length=n_tasks)


def _split_size(name: str, value: object) -> int:
    if isinstance(value, Integral) and not isinstance(value, bool) and value < 1:
        raise ValueError(f"{name} must be >= 1 (a split cannot be empty), got {value}")
    return _validate.positive_int(name, value)


def _task_generators(seed: int | torch.Generator, n_tasks: int, parts: int) -> list[list]:
    """Independent generators per task and per part, so a task's data do not depend on
    the sizes of the other tasks (or of its own other splits)."""
    gen = generator(seed)
    draws = torch.randint(0, 2**62, (n_tasks, parts), generator=gen, dtype=torch.int64)
    return [[torch.Generator().manual_seed(int(s)) for s in row] for row in draws]


def _draw(n: int, trials: int | None, dim: int, gen: torch.Generator) -> torch.Tensor:
    """Standard normal ``(T, n, dim)`` in float64, drawn item by item: the first ``m`` items
    of a draw of ``n > m`` are the draw of ``m``, so larger splits extend smaller ones.

    (One call per item: torch fills a large tensor in blocks, so one call for all ``n``
    items would not give a prefix of a larger call.)
    """
    t = 1 if trials is None else trials
    items = [torch.randn(t, dim, generator=gen, dtype=torch.float64) for _ in range(n)]
    return torch.stack(items, dim=1)


def _shaped(x: torch.Tensor, kind: str) -> torch.Tensor:
    """Standard normal draws turned into vectors of ``kind`` (see :func:`random_vectors`)."""
    if kind == "unit":
        return x / x.norm(dim=-1, keepdim=True)
    if kind == "binary":
        return torch.where(x >= 0, 1.0, -1.0).to(x.dtype)
    return x


def _finish(x: torch.Tensor, trials: int | None, dtype: torch.dtype, device) -> torch.Tensor:
    x = x.to(dtype=dtype, device=device)
    return x.squeeze(0) if trials is None else x


def _check_dtype(dtype: object, device: object) -> None:
    _validate.float_dtype("dtype", dtype)
    _validate.torch_device("device", device)


def clustered_tasks(
    n_tasks: int,
    n_train: int | Sequence[int],
    n_test: int | Sequence[int],
    dim: int,
    trials: int | None = None,
    *,
    clusters: int = 1,
    radius: float | None = None,
    spread: float = 1.0,
    centres: torch.Tensor | None = None,
    value_kind: str = "gaussian",
    value_dim: int | None = None,
    seed: int | torch.Generator = 0,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> list[Task]:
    """``n_tasks`` tasks whose keys lie in clusters, each cluster with its own value.

    Task ``t`` has ``clusters`` centres; a key of cluster ``c`` is its centre plus
    Gaussian noise of standard deviation ``spread`` per coordinate, and its value is the
    cluster's value (a random vector of ``value_kind``, as in :func:`random_vectors`).
    Items go to the clusters in turn (item ``i`` to cluster ``i % clusters``). The test
    split holds *fresh* keys drawn from the same clusters, so it measures
    generalisation: the memory never saw a test key.

    Centres are random Gaussian directions of norm ``radius`` (default 5.0), drawn for
    every trial and task, or given as ``centres`` of shape ``(n_tasks, clusters, dim)``
    (the same in every trial) or ``(trials, n_tasks, clusters, dim)``.

    ``n_train`` and ``n_test`` are one size for all tasks or one per task. The train
    keys of a task are nested: with the same seed, the first ``m`` keys of a split of
    ``n > m`` keys are the split of ``m`` keys, and a task's data do not depend on the
    sizes of the other tasks. Returns one :class:`Task` per task.
    """
    n_tasks = _validate.positive_int("n_tasks", n_tasks)
    trains = _sizes("n_train", n_train, n_tasks)
    tests = _sizes("n_test", n_test, n_tasks)
    dim = _validate.positive_int("dim", dim)
    trials = _validate.optional_trials(trials)
    clusters = _validate.positive_int("clusters", clusters)
    spread = _validate.positive_float("spread", spread, allow_zero=True)
    value_dim = dim if value_dim is None else _validate.positive_int("value_dim", value_dim)
    if value_kind not in KINDS:
        raise ValueError(f"value_kind must be one of {KINDS}, got {value_kind!r}")
    _check_dtype(dtype, device)
    given = _centres(centres, radius, n_tasks, clusters, dim, trials)
    radius = 5.0 if radius is None else _validate.positive_float("radius", radius, allow_zero=True)
    if given is None and radius == 0 and spread == 0:
        raise ValueError("radius and spread are both 0: every key would be the zero vector")
    tasks = []
    for t, (g_centre, g_value, g_train, g_test) in enumerate(_task_generators(seed, n_tasks, 4)):
        if given is None:
            centre = _draw(clusters, trials, dim, g_centre)
            centre = radius * centre / centre.norm(dim=-1, keepdim=True)
        else:
            centre = given[:, t]
        values = _shaped(_draw(clusters, trials, value_dim, g_value), value_kind)
        train_keys, train_targets = _cluster_keys(centre, trains[t], spread, g_train)
        test_keys, test_targets = _cluster_keys(centre, tests[t], spread, g_test)
        fin = partial(_finish, trials=trials, dtype=dtype, device=device)
        tasks.append(
            Task(
                train_keys=fin(train_keys),
                train_values=fin(values[:, train_targets]),
                test_keys=fin(test_keys),
                test_values=fin(values[:, test_targets]),
                values=fin(values),
                train_targets=train_targets.to(device),
                test_targets=test_targets.to(device),
                centres=fin(centre),
            )
        )
    return tasks


def _cluster_keys(
    centre: torch.Tensor, n: int, spread: float, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` keys around the centres ``(T, C, d)``, item ``i`` in cluster ``i % C``:
    the keys ``(T, n, d)`` and their clusters ``(n,)``."""
    targets = torch.arange(n) % centre.shape[-2]
    noise = _draw(n, centre.shape[0], centre.shape[-1], gen)
    return centre[:, targets] + spread * noise, targets


def _centres(
    centres: object, radius: object, n_tasks: int, clusters: int, dim: int, trials: int | None
) -> torch.Tensor | None:
    """Given centres as ``(T, n_tasks, clusters, dim)`` float64, or None to draw them."""
    if centres is None:
        return None
    if radius is not None:
        raise ValueError(
            f"give either centres or radius, not both (got radius={radius!r}); "
            "radius sets the norm of randomly drawn centres"
        )
    centres = _validate.float_tensor("centres", centres)
    t = 1 if trials is None else trials
    shape = (n_tasks, clusters, dim)
    if tuple(centres.shape) == shape:
        centres = centres.expand(t, *shape)
    elif tuple(centres.shape) != (t, *shape):
        raise ValueError(
            f"centres must have shape (n_tasks, clusters, dim) = {shape} or "
            f"(trials, n_tasks, clusters, dim) = {(t, *shape)}, got {tuple(centres.shape)}"
        )
    return centres.to(device="cpu", dtype=torch.float64)


def random_tasks(
    n_tasks: int,
    n_pairs: int | Sequence[int],
    dim: int,
    trials: int | None = None,
    *,
    kind: str = "gaussian",
    value_kind: str | None = None,
    value_dim: int | None = None,
    seed: int | torch.Generator = 0,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> list[Task]:
    """``n_tasks`` tasks of independent random pairs: memorisation, so test = train.

    A random pair has nothing to generalise from: the value of a key the memory never
    saw is unrelated to anything it stored. The only fair test is recall of the stored
    pairs, so each task's test split *is* its train split. Each pair is its own target
    (``values`` = ``train_values``). ``kind`` and ``value_kind`` are as in
    :func:`random_pairs`; ``n_pairs`` is one size for all tasks or one per task, and
    larger tasks extend smaller ones drawn with the same seed. Returns one :class:`Task`
    per task.
    """
    n_tasks = _validate.positive_int("n_tasks", n_tasks)
    sizes = _sizes("n_pairs", n_pairs, n_tasks)
    dim = _validate.positive_int("dim", dim)
    trials = _validate.optional_trials(trials)
    value_dim = dim if value_dim is None else _validate.positive_int("value_dim", value_dim)
    value_kind = kind if value_kind is None else value_kind
    for name, k in (("kind", kind), ("value_kind", value_kind)):
        if k not in KINDS:
            raise ValueError(f"{name} must be one of {KINDS}, got {k!r}")
    _check_dtype(dtype, device)
    tasks = []
    for n, (g_key, g_value) in zip(sizes, _task_generators(seed, n_tasks, 2), strict=True):
        keys = _finish(_shaped(_draw(n, trials, dim, g_key), kind), trials, dtype, device)
        values = _shaped(_draw(n, trials, value_dim, g_value), value_kind)
        values = _finish(values, trials, dtype, device)
        targets = torch.arange(n, device=device)
        tasks.append(Task(keys, values, keys, values, values, targets, targets))
    return tasks


# ---------------------------------------------------------------------------------------------
# Functional pairs: keys and values projected from one context, k = W_K x, v = W_V f(x)

NONLINEARITIES = ("linear", "tanh", "relu", "square")
# Mean and standard deviation of f(z) for z standard normal, so that every f gives values of
# mean 0 and variance 1 per coordinate: tanh (numerical), relu (1/sqrt(2 pi) and
# sqrt(1/2 - 1/(2 pi))) and z^2 (1 and sqrt 2).
_MOMENTS = {
    "linear": (0.0, 1.0),
    "tanh": (0.0, 0.627928),
    "relu": (0.398942, 0.583796),
    "square": (1.0, 1.414214),
}


def random_projection(
    out_dim: int,
    in_dim: int,
    trials: int | None = None,
    *,
    rank: int | None = None,
    seed: int | torch.Generator = 0,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """A random matrix ``W`` of shape ``(out_dim, in_dim)`` (or ``(trials, out_dim, in_dim)``).

    ``W = sqrt(out_dim / r) U V^T`` with ``U`` and ``V`` random orthonormal frames of
    ``r = min(out_dim, in_dim, rank)`` columns: ``r`` equal singular values and nothing
    else. For ``x`` standard normal, ``W x`` has squared norm about ``out_dim``, like a
    standard normal vector of that size. Square with ``rank=None``, ``W`` is orthogonal
    (invertible, ``W^-1 = W^T``); with ``rank < min(out_dim, in_dim)`` it maps every ``x``
    into an ``r``-dimensional subspace and forgets the rest of it.
    """
    out_dim = _validate.positive_int("out_dim", out_dim)
    in_dim = _validate.positive_int("in_dim", in_dim)
    trials = _validate.optional_trials(trials)
    _check_dtype(dtype, device)
    r = min(out_dim, in_dim)
    if rank is not None:
        rank = _validate.positive_int("rank", rank)
        if rank > r:
            raise ValueError(f"rank must be at most min(out_dim, in_dim) = {r}, got rank={rank}")
        r = rank
    gen = generator(seed)
    t = 1 if trials is None else trials
    u = torch.linalg.qr(torch.randn(t, out_dim, r, generator=gen, dtype=torch.float64))[0]
    v = torch.linalg.qr(torch.randn(t, in_dim, r, generator=gen, dtype=torch.float64))[0]
    w = (out_dim / r) ** 0.5 * (u @ v.transpose(-2, -1))
    return _finish(w, trials, dtype, device)


def nonlinearity(x: torch.Tensor, name: str) -> torch.Tensor:
    """``f(x)`` elementwise, shifted and scaled so that a standard normal ``x`` gives mean 0
    and variance 1: ``name`` is one of :data:`NONLINEARITIES` ("linear" is the identity)."""
    x = _validate.float_type("x", x)
    if name not in NONLINEARITIES:
        raise ValueError(f"nonlinearity must be one of {NONLINEARITIES}, got {name!r}")
    f = {"linear": lambda z: z, "tanh": torch.tanh, "relu": torch.relu, "square": torch.square}
    mean, std = _MOMENTS[name]
    return (f[name](x) - mean) / std


@dataclass(frozen=True)
class ContextPairs:
    """Keys and values projected from contexts: ``k = W_K x`` and ``v = W_V f(x)``.

    Shapes carry a leading trials axis ``T`` when the generator was given ``trials``:
    ``contexts`` ``(T, N, context_dim)``, ``keys`` ``(T, N, dim)``, ``values``
    ``(T, N, dim)``, ``key_map`` ``W_K`` ``(T, dim, context_dim)`` and ``value_map``
    ``W_V`` ``(T, dim, context_dim)``. ``nonlinearity`` names ``f``. :meth:`encode` makes
    the pairs of new contexts with the same projections.
    """

    contexts: torch.Tensor
    keys: torch.Tensor
    values: torch.Tensor
    key_map: torch.Tensor
    value_map: torch.Tensor
    nonlinearity: str = "linear"

    def __post_init__(self) -> None:
        for name in ("contexts", "keys", "values", "key_map", "value_map"):
            _validate.float_type(name, getattr(self, name))
        if self.nonlinearity not in NONLINEARITIES:
            raise ValueError(
                f"nonlinearity must be one of {NONLINEARITIES}, got {self.nonlinearity!r}"
            )

    def encode(self, contexts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(keys, values)`` of ``contexts`` (shaped like :attr:`contexts`, any N)."""
        contexts = _validate.float_tensor("contexts", contexts)
        want = (*self.contexts.shape[:-2], self.contexts.shape[-1])
        got = (*contexts.shape[:-2], contexts.shape[-1])
        if contexts.dim() != self.contexts.dim() or got != want:
            shape = (*want[:-1], "N", want[-1])
            raise ValueError(f"contexts must have shape {shape}, got {tuple(contexts.shape)}")
        contexts = contexts.to(self.key_map)
        keys = contexts @ self.key_map.transpose(-2, -1)
        values = nonlinearity(contexts, self.nonlinearity) @ self.value_map.transpose(-2, -1)
        return keys, values


def context_pairs(
    n: int,
    dim: int,
    trials: int | None = None,
    *,
    context_dim: int | None = None,
    key_rank: int | None = None,
    nonlinearity: str = "linear",
    seed: int | torch.Generator = 0,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> ContextPairs:
    """``n`` functional pairs: one context ``x`` per pair gives ``k = W_K x`` and
    ``v = W_V f(x)``, as the keys and values of attention come from one token.

    Contexts are standard normal of dimension ``context_dim`` (default ``dim``); ``W_K``
    and ``W_V`` are :func:`random_projection` matrices of shape ``(dim, context_dim)``,
    drawn once per trial and shared by all its pairs. ``key_rank`` limits the rank of
    ``W_K`` (default: full); ``W_V`` has full rank. ``f`` is one of
    :data:`NONLINEARITIES`, standardised (see :func:`nonlinearity`). With the defaults
    (square, full rank, linear) ``v = W_V W_K^T k``: the value is a fixed linear function
    of the key. Keys and values have the statistics of :func:`random_pairs` (standard
    normal coordinates) whenever ``W_K`` keeps ``dim`` dimensions. Returns a
    :class:`ContextPairs`; its ``encode`` makes the pairs of unseen contexts.
    """
    n = _validate.positive_int("n", n)
    dim = _validate.positive_int("dim", dim)
    context_dim = dim if context_dim is None else _validate.positive_int("context_dim", context_dim)
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"nonlinearity must be one of {NONLINEARITIES}, got {nonlinearity!r}")
    _validate.torch_device("device", device)
    gen = generator(seed)
    key_map = random_projection(dim, context_dim, trials, rank=key_rank, seed=gen, dtype=dtype)
    value_map = random_projection(dim, context_dim, trials, seed=gen, dtype=dtype)
    contexts = random_vectors(n, context_dim, trials, seed=gen, dtype=dtype)
    maps = ContextPairs(contexts, contexts, contexts, key_map, value_map, nonlinearity)
    keys, values = maps.encode(contexts)
    fin = partial(torch.Tensor.to, device=device)
    return ContextPairs(
        fin(contexts), fin(keys), fin(values), fin(key_map), fin(value_map), nonlinearity
    )


def low_rank_pairs(
    n: int,
    dim: int,
    rank: int,
    noise: float = 0.5,
    trials: int | None = None,
    *,
    seed: int | torch.Generator = 0,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` pairs whose value depends on the key through ``rank`` dimensions, plus noise.

    Each pair comes from a latent ``z`` of ``rank`` standard normal coordinates:
    ``k = B_K z + noise e_k`` and ``v = B_V z + noise e_v``, with ``B_K`` and ``B_V``
    :func:`random_projection` matrices of shape ``(dim, rank)``, drawn once per trial and
    shared by its pairs, and ``e_k``, ``e_v`` standard normal of dimension ``dim``, fresh
    for every pair. The noiseless parts have squared norm about ``dim``, like a standard
    normal vector, so ``noise`` is the ratio of the noise's norm to theirs. Without noise
    the value is a fixed linear map of rank ``rank`` of the key,
    ``v = B_V B_K^T k * rank / dim``; with noise the relation is blurred on both sides.
    Draw stored and held-out pairs in one call: they then share ``B_K`` and ``B_V``.

    Returns ``(keys, values)``, each ``(n, dim)`` or ``(trials, n, dim)``.
    """
    n = _validate.positive_int("n", n)
    dim = _validate.positive_int("dim", dim)
    rank = _validate.positive_int("rank", rank)
    if rank > dim:
        raise ValueError(f"rank must be at most dim = {dim}, got rank={rank}")
    noise = _validate.positive_float("noise", noise, allow_zero=True)
    trials = _validate.optional_trials(trials)
    _check_dtype(dtype, device)
    gen = generator(seed)
    t = 1 if trials is None else trials
    maps = [random_projection(dim, rank, t, seed=gen, dtype=torch.float64) for _ in range(2)]
    latent = torch.randn(t, n, rank, generator=gen, dtype=torch.float64)
    pairs = [
        latent @ m.transpose(-2, -1) + noise * torch.randn(t, n, dim, generator=gen).double()
        for m in maps
    ]
    keys, values = (_finish(x, trials, dtype, device) for x in pairs)
    return keys, values


# ---------------------------------------------------------------------------------------------
# Reference data: free recall by people, bundled with psifr

HUMAN_STUDIES = ("Morton2013", "peers_notask")
_RECALL_KEYS = ["subject", "list", "item"]


def _check_study(study: object) -> None:
    if study not in HUMAN_STUDIES:
        raise ValueError(f"study must be one of {HUMAN_STUDIES}, got {study!r}")


def human_recalls(study: str = "Morton2013") -> pd.DataFrame:
    """The free-recall table of a human data set bundled with psifr, as psifr's
    ``fr.sample_data`` reads it (offline): one row per study and recall event, columns
    ``subject, list, position, trial_type, item`` and the study's own columns.

    ``study`` is ``"Morton2013"`` or ``"peers_notask"``. The file is read from psifr's
    package folder without importing psifr (which imports seaborn and scipy).
    """
    _check_study(study)
    return _human_recalls(study).copy()


@cache
def _human_recalls(study: str) -> pd.DataFrame:
    from importlib.util import find_spec
    from pathlib import Path

    spec = find_spec("psifr")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("the human free-recall data ship with psifr: install psifr")
    folder = Path(next(iter(spec.submodule_search_locations)))
    return pd.read_csv(folder / "data" / f"{study}.csv")


def human_lag_crp(study: str = "Morton2013", list_type: str | None = None) -> pd.DataFrame:
    """The lag-CRP of a human free-recall data set bundled with psifr (read offline).

    ``study`` is ``"Morton2013"`` or ``"peers_notask"``; ``list_type`` keeps only the
    lists of that type (a value of Morton2013's column ``list_type``: ``"pure"`` or
    ``"mixed"``). Returns the frame of :func:`memnb.summaries.lag_crp`, psifr's
    ``fr.lag_crp(fr.merge_free_recall(table))``, one row per participant and lag
    (computed once, then cached), to hold a model's lag-CRP against.
    """
    _check_study(study)
    if list_type is not None:
        types = _human_recalls(study).get("list_type")
        if types is None or list_type not in set(types.dropna()):
            known = [] if types is None else sorted(set(types.dropna()))
            raise ValueError(f"list_type must be None or one of {known} for {study}, "
                             f"got {list_type!r}")  # fmt: skip
    return _human_lag_crp(study, list_type).copy()


@cache
def _human_lag_crp(study: str, list_type: str | None) -> pd.DataFrame:
    table = _human_recalls(study)
    if list_type is not None:
        table = table[table["list_type"] == list_type]
    return _table_lag_crp(table)


def _table_lag_crp(table: pd.DataFrame) -> pd.DataFrame:
    """psifr's lag-CRP, ``fr.lag_crp(fr.merge_free_recall(table)).reset_index()``, of a
    free-recall table in psifr's format, counted list by list as array operations over
    the output positions instead of psifr's loop over subjects, lists and recalls.

    A recall is matched to the study event of the same subject, list and item (its input
    position); one that matches none is an intrusion, and a recall of an item recalled
    before in its list a repeat. A transition counts when both of its recalls are first
    recalls of studied items; it counts as possible every lag to a studied item of the
    list not yet recalled, and as actual the lag it took. Lags run over
    ``-(L - 1) .. L - 1``, where ``L`` is the largest input position in the table.
    """
    kind = table["trial_type"]
    study = table.loc[kind == "study", [*_RECALL_KEYS, "position"]]
    recall = table.loc[kind == "recall", [*_RECALL_KEYS, "position"]]
    if study.duplicated(_RECALL_KEYS).any():
        raise ValueError("table studies an item twice in one list; psifr's scoring is undefined")
    subjects, subject_of = np.unique(table["subject"].to_numpy(), return_inverse=True)
    lists = table.groupby(["subject", "list"], sort=True).ngroup().to_numpy()
    n_lists, length = int(lists.max()) + 1, int(study["position"].max())
    list_subject = np.zeros(n_lists, dtype=np.int64)
    list_subject[lists] = subject_of
    studied = np.zeros((n_lists, length + 1), dtype=bool)  # column 0: no item
    studied[lists[(kind == "study").to_numpy()], study["position"].to_numpy()] = True
    recall = recall.assign(list_id=lists[(kind == "recall").to_numpy()])
    recall = recall.merge(study.rename(columns={"position": "input"}), "left", _RECALL_KEYS)
    recall = recall.sort_values(["list_id", "position"], kind="stable")
    inputs = recall["input"].fillna(0).to_numpy(dtype=np.int64)  # 0: an intrusion
    first = ~recall.duplicated(["list_id", "input"]).to_numpy() & (inputs > 0)
    list_id = recall["list_id"].to_numpy()
    output = recall.groupby("list_id", sort=False).cumcount().to_numpy()
    width = int(output.max()) + 1 if len(output) else 1
    items = np.zeros((n_lists, width), dtype=np.int64)  # the input recalled, 0 if none
    items[list_id[first], output[first]] = inputs[first]
    left = studied.copy()
    lags = 2 * length - 1
    actual = np.zeros((len(subjects), lags), dtype=np.int64)
    possible = np.zeros((len(subjects), lags), dtype=np.int64)
    for n in range(width - 1):
        here, there = items[:, n], items[:, n + 1]
        left[np.nonzero(here)[0], here[here > 0]] = False
        made = np.nonzero((here > 0) & (there > 0))[0]
        np.add.at(actual, (list_subject[made], there[made] - here[made] + length - 1), 1)
        row, item = np.nonzero(left[made])
        at = made[row]
        np.add.at(possible, (list_subject[at], item - here[at] + length - 1), 1)
    lag = np.arange(-(length - 1), length, dtype=np.int64)
    if recall["input"].isna().any():  # psifr's input positions are floats once one is NaN
        lag = lag.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        prob = actual / possible
    frame = pd.DataFrame(
        {
            "subject": np.repeat(subjects, lags),
            "lag": np.tile(lag, len(subjects)),
            "prob": prob.ravel(),
            "actual": actual.ravel(),
            "possible": possible.ravel(),
        }
    )
    return frame.reset_index()
