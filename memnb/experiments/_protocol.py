"""The steps that several protocols share: their sizes and counts, writing, reading, scoring.

A protocol checks its settings with :func:`sizes` and :func:`counts`, writes with
:func:`write` or :func:`written`, reads with :func:`read` or :func:`read_all` and scores
recall with :func:`score`. The writing, reading and scoring steps trust the keys, values
and counts the protocol hands them; they check only what the memory answers, since a
reader's memory may answer anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import partial

import pandas as pd
import torch

from .. import _validate, metrics

READ_CHUNK = 1024  # queries read at once, so that a large store never needs N x N scores at once
SCORE_BYTES = 1 << 22  # float64 bytes per trial group when scoring reads (a few MiB: cache)


def sizes(name: str, value: object) -> list[int]:
    """``value`` (numbers of items, dimensions) as a list of distinct positive ints; an int
    is a list of one."""
    return _validate.sequence(name, value, _validate.positive_int, "positive ints", distinct=True)


def counts(name: str, value: object, *, zero: bool = False) -> list[int]:
    """``value`` (counts of writes) as a strictly increasing list of positive ints (0, no
    write yet, allowed first with ``zero``); an int is a list of one."""
    item = partial(_validate.positive_int, allow_zero=zero)
    expected = "counts of writes" + (" >= 0" if zero else " > 0")
    return _validate.sequence(name, value, item, expected, increasing=True)


def write(memory: object, keys: torch.Tensor, values: torch.Tensor, times: int) -> None:
    """Write ``(keys, values)`` into ``memory`` ``times`` times, one ``update`` each."""
    for _ in range(times):
        memory.update(keys, values)


def written(
    memory: object, keys: torch.Tensor, values: torch.Tensor, counts: Iterable[int]
) -> Iterator[int]:
    """Write ``(keys, values)`` up to each of the increasing ``counts`` and yield the count.

    One run serves every count: the memory is read (by the caller) after 1, 5, 20, ...
    writes without being rebuilt. A count of 0 yields before any write.
    """
    done = 0
    for count in counts:
        write(memory, keys, values, count - done)
        done = count
        yield count


def read(memory: object, queries: torch.Tensor, expected: tuple[int, ...]) -> torch.Tensor:
    """Query ``memory`` and check that it answered with a tensor of the ``expected`` shape."""
    out = memory(queries)
    if not isinstance(out, torch.Tensor):
        raise TypeError(f"the memory returned a {type(out).__name__} when read, expected a tensor")
    if tuple(out.shape) != expected:
        raise ValueError(
            f"the memory returned shape {tuple(out.shape)} when read with queries of shape "
            f"{tuple(queries.shape)}; expected {tuple(expected)}"
        )
    return out.detach()


def read_all(memory: object, keys: torch.Tensor, expected: torch.Size) -> torch.Tensor:
    """Read every key of ``(T, N, d)``, ``READ_CHUNK`` at a time (a read does not change a
    memory): the reads, of shape ``expected``."""
    chunks = []
    for start in range(0, keys.shape[1], READ_CHUNK):
        part = keys[:, start : start + READ_CHUNK]
        chunks.append(read(memory, part, (*expected[:1], part.shape[1], *expected[2:])))
    return torch.cat(chunks, dim=1)


def score(retrieved: torch.Tensor, values: torch.Tensor, n: int) -> pd.DataFrame:
    """Per-trial accuracy, MSE and cosine of the reads ``(T, N, d_v)`` of N items.

    An item is recalled when its read is nearest by cosine to its own value among the N
    (:func:`memnb.metrics.nearest_neighbor_recall`); a read that is not finite is a miss.
    Returns one row per trial with columns ``trial, n_items, accuracy, mse, cosine,
    diverged``. The trials are scored a few at a time, so that each group's read-by-value
    scores and float64 copies (about ``SCORE_BYTES``) stay in cache; every number is
    computed per trial, so the grouping changes no result.
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
