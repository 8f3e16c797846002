"""Capture capacity: how many pairs a memory recalls after one bulk write of all of them."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from itertools import pairwise
from numbers import Integral

import pandas as pd
import torch

from .. import _validate, data, metrics
from ..memories import AttentionMemory, BatchedMemory
from ._build import Factory, build_memory, child_seeds, label_of, place_like, read

READ_CHUNK = 1024  # queries read at once, so that a large store never needs N x N scores at once
SCORE_BYTES = 1 << 22  # float64 bytes per trial group when scoring reads (a few MiB: cache)


def capacity(
    factory: Factory,
    n_items: Iterable[int] = (4, 8, 16, 32, 64, 128, 256),
    steps: int | Iterable[int] = 5,
    trials: int = 16,
    dim: int = 64,
    seed: int = 0,
    *,
    kind: str = "gaussian",
    label: str | None = None,
) -> pd.DataFrame:
    """Write N pairs ``steps`` times as one batch, then recall each of them.

    For every N in ``n_items`` a fresh memory (``trials`` independent ones, batched when
    the factory accepts ``trials``) receives ``update(keys, values)`` with all N pairs,
    ``steps`` times; then each of the N keys is read back. An item is recalled when its
    read is closer by cosine to its own value than to any of the other N - 1 stored
    values (:func:`memnb.metrics.nearest_neighbor_recall`); a read that is zero or not
    finite is a miss.

    ``steps`` may also be an increasing sequence of counts, e.g. ``(1, 5, 20)``: each
    memory is then read after each count in one run, which gives the same numbers as
    separate runs because a read does not change a memory.

    The pairs (``kind`` as in :func:`memnb.data.random_pairs`) are nested: the N pairs of
    a trial are the first N of one draw for the largest N, so neighbouring N differ only
    by the pairs added. Every N starts from the same initial memory state.

    Returns a tidy frame, one row per trial, N and count of writes, with columns
    ``trial, n_items``, ``accuracy`` (fraction of the N items recalled), ``mse``
    (per-coordinate squared error of the read, averaged over items), ``cosine`` (cosine
    between read and value, averaged over items), ``diverged`` (some read was NaN or
    inf), and the parameters ``memory, dim, steps, seed`` (``steps``: the writes made
    before the read).
    """
    sizes = _sizes(n_items)
    counts = _counts(steps)
    trials = _validate.positive_int("trials", trials)
    dim = _validate.positive_int("dim", dim)
    data_seed, memory_seed = child_seeds(seed, 2)
    all_keys, all_values = data.random_pairs(max(sizes), dim, trials, seed=data_seed, kind=kind)
    rows = []
    memories = _fresh_memories(factory, len(sizes), dim, trials, memory_seed)
    for memory, n in zip(memories, sizes, strict=True):
        pairs = (all_keys[:, :n].contiguous(), all_values[:, :n].contiguous())
        keys, values = place_like(memory, *pairs)
        for count in _written(memory, keys, values, counts):
            with torch.no_grad():
                retrieved = _read_all(memory, keys, values.shape)
            rows.append(_score(retrieved, values, n).assign(steps=count))
    frame = pd.concat(rows, ignore_index=True)
    frame = frame.assign(memory=label_of(factory, label), dim=dim, seed=seed)
    return frame[[*frame.columns.drop(["steps", "seed"]), "steps", "seed"]]


def _fresh_memories(
    factory: Factory, count: int, dim: int, trials: int, seed: int
) -> Iterator[object]:
    """``count`` memories in the same initial state, one at a time.

    memnb's own memories are built once and copied (building draws the initial state
    again); any other factory is called again with the same seed.
    """
    first = build_memory(factory, dim=dim, trials=trials, seed=seed)
    own = isinstance(first, BatchedMemory) and type(first).__module__.startswith("memnb.")
    for i in range(count):
        if own:  # copies of the untouched first one, which itself goes last
            yield first if i == count - 1 else copy.deepcopy(first)
        else:
            yield first if i == 0 else build_memory(factory, dim=dim, trials=trials, seed=seed)


def _counts(steps: object) -> list[int]:
    """``steps`` as an increasing list of positive ints (an int is a list of one)."""
    if isinstance(steps, Iterable) and not isinstance(steps, str | bytes):
        counts = [_validate.positive_int("steps", s) for s in steps]
        if not counts:
            raise ValueError("steps must hold at least one number of writes, got none")
        if any(b <= a for a, b in pairwise(counts)):
            raise ValueError(f"steps must be strictly increasing, got {counts}")
        return counts
    return [_validate.positive_int("steps", steps)]


def _sizes(n_items: object) -> list[int]:
    """``n_items`` as a list of distinct positive ints (an int is a list of one)."""
    if isinstance(n_items, Integral) and not isinstance(n_items, bool):
        n_items = [n_items]
    if isinstance(n_items, str | bytes) or not isinstance(n_items, Iterable):
        raise TypeError(
            f"n_items must be a sequence of positive ints, got {type(n_items).__name__}"
        )
    sizes = list(n_items)
    if not sizes:
        raise ValueError("n_items must hold at least one number of items, got an empty sequence")
    for n in sizes:
        _validate.positive_int("n_items", n)
    if len(set(sizes)) != len(sizes):
        raise ValueError(f"n_items must not repeat a value, got {sizes}")
    return [int(n) for n in sizes]


def _written(
    memory: object, keys: torch.Tensor, values: torch.Tensor, counts: list[int]
) -> Iterator[int]:
    """Write ``(keys, values)`` up to each of the increasing ``counts`` and yield the count.

    One run serves every count: the memory is read (by the caller) after 1, 5, 20, ...
    writes without being rebuilt.
    """
    done = 0
    for count in counts:
        for _ in range(count - done):
            memory.update(keys, values)
        done = count
        yield count


def _read_all(memory: object, keys: torch.Tensor, expected: torch.Size) -> torch.Tensor:
    """Read every key, ``READ_CHUNK`` items at a time (a read does not change a memory)."""
    chunks = []
    for start in range(0, keys.shape[1], READ_CHUNK):
        part = keys[:, start : start + READ_CHUNK]
        chunks.append(read(memory, part, (*expected[:1], part.shape[1], *expected[2:])))
    return torch.cat(chunks, dim=1)


def _score(retrieved: torch.Tensor, values: torch.Tensor, n: int) -> pd.DataFrame:
    """Per-trial accuracy, MSE and cosine of the reads of N items.

    The trials are scored a few at a time, so that each group's read-by-value scores and
    float64 copies (about ``SCORE_BYTES``) stay in cache; every number is computed per
    trial, so the grouping changes no result.
    """
    per_trial = 8 * retrieved.shape[-2] * max(values.shape[-2], values.shape[-1])
    parts = [
        _score_trials(retrieved[a:b], values[a:b])
        for a, b in _groups(retrieved.shape[0], SCORE_BYTES // per_trial)
    ]
    accuracy, mse, cosine, diverged = (torch.cat(p).cpu().numpy() for p in zip(*parts, strict=True))
    return pd.DataFrame(
        {
            "trial": range(retrieved.shape[0]),
            "n_items": n,
            "accuracy": accuracy,
            "mse": mse,
            "cosine": cosine,
            "diverged": diverged,
        }
    )


def _groups(trials: int, size: int) -> list[tuple[int, int]]:
    """``(start, stop)`` of consecutive groups of about ``size`` trials, none of just one
    when ``trials > 1`` (a reduction to a single number may be split across threads)."""
    size = max(2, size)
    bounds = [[a, min(a + size, trials)] for a in range(0, trials, size)]
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] < 2:
        last = bounds.pop()
        bounds[-1][1] = last[1]
    return [(a, b) for a, b in bounds]


def _score_trials(
    retrieved: torch.Tensor, values: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Accuracy, MSE, cosine and divergence of each trial of ``retrieved``, ``(T,)`` each.

    Recall is decided as in float64 (:func:`memnb.metrics.nearest_neighbor_recall`); MSE
    and cosine are computed in float64.
    """
    finite = torch.isfinite(retrieved).all(dim=-1, keepdim=True)
    # A read that is not finite is a miss: score a zero vector in its place.
    hits = metrics.nearest_neighbor_recall(torch.where(finite, retrieved, 0.0), values)
    retrieved, values = retrieved.double(), values.double()
    mse = (retrieved - values).pow(2).mean(dim=(1, 2))
    cosine = metrics.cosine(retrieved, values).mean(dim=1)
    return hits.double().mean(dim=1), mse, cosine, (~finite).any(dim=(1, 2))


def attention_weights(
    n_items: Iterable[int] = (2, 8, 32, 128, 512),
    betas: Iterable[float] = (4.0, 8.0, 16.0),
    dim: int = 64,
    trials: int = 16,
    seed: int = 0,
    *,
    kind: str = "unit",
) -> pd.DataFrame:
    """The softmax weight that :class:`~memnb.AttentionMemory` puts on the right pair.

    For each N and inverse temperature ``beta``, a fresh memory stores N random pairs
    once; each stored key is then used as a query and the weight its read gives to its
    own pair is recorded. Returns a tidy frame, one row per trial, N and beta, with
    columns ``trial, n_items, beta, weight`` (the mean over the N items) and
    ``dim, seed``. The pairs are the same for every beta and nested over N.
    """
    sizes = _sizes(n_items)
    if isinstance(betas, str | bytes) or not isinstance(betas, Iterable):
        raise TypeError(f"betas must be a sequence of numbers >= 0, got {betas!r}")
    betas = [_validate.positive_float("betas", b, allow_zero=True) for b in betas]
    if not betas:
        raise ValueError("betas must hold at least one inverse temperature, got none")
    trials = _validate.positive_int("trials", trials)
    dim = _validate.positive_int("dim", dim)
    (data_seed,) = child_seeds(seed, 1)
    all_keys, all_values = data.random_pairs(
        max(sizes), dim, trials, seed=data_seed, kind=kind, dtype=torch.float64
    )
    rows = []
    for n in sizes:
        keys, values = all_keys[:, :n], all_values[:, :n]
        for beta in betas:
            memory = AttentionMemory(dim, beta, trials, dtype=torch.float64)
            memory.update(keys, values)
            own = memory.weights(keys).diagonal(dim1=-2, dim2=-1).mean(dim=-1)
            rows.append(
                pd.DataFrame(
                    {"trial": range(trials), "n_items": n, "beta": beta, "weight": own.numpy()}
                )
            )
    return pd.concat(rows, ignore_index=True).assign(dim=dim, seed=seed)
