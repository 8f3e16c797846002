"""The steps that several protocols share: their sizes and counts, writing, reading, scoring.

A protocol checks its settings with :func:`sizes`, :func:`counts`, :func:`noise_levels`
and :func:`cosine_threshold`, writes with :func:`write` or :func:`written`, reads with
:func:`read` or :func:`read_all` (from cues perturbed by :func:`noisy` when asked) and
scores recall with :func:`score`; :func:`held_floats` reads the state size when the
memory tells it. The writing, reading and scoring steps trust the keys, values
and counts the protocol hands them; they check only what the memory answers, since a
reader's memory may answer anything.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import partial

import pandas as pd
import torch

from .. import _validate, metrics
from ..memories import LoopedMemory
from ..memories import state_size as _state_size

READ_CHUNK = 1024  # queries read at once, so that a large store never needs N x N scores at once
SCORE_BYTES = 1 << 22  # float64 bytes per trial group when scoring reads (a few MiB: cache)
COSINE_THRESHOLD = 0.9  # the second recall criterion: cosine(read, own value) >= this


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


def noise_levels(name: str, value: object) -> list[float]:
    """``value`` (relative norms of cue noise) as a list of distinct finite floats >= 0; a
    number is a list of one."""
    level = partial(_validate.positive_float, allow_zero=True)
    return _validate.sequence(name, value, level, "numbers >= 0", distinct=True)


def cosine_threshold(value: object) -> float:
    """``value`` as a cosine threshold in ``(-1, 1]`` (every cosine is ``>= -1``, so a
    threshold of -1 or less would count every finite read as recalled)."""
    value = _validate.number("cosine_threshold", value)
    if not -1 < value <= 1:
        raise ValueError(f"cosine_threshold must lie in (-1, 1], got {value}")
    return value


def cue_directions(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    """Standard normal directions of cue noise, float32 on the CPU, from their own ``seed``
    (so drawing them moves no other draw of a protocol)."""
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float32)


def noisy(keys: torch.Tensor, directions: torch.Tensor, level: float) -> torch.Tensor:
    """Cues ``k + e``: each key plus its direction scaled to ``|e| = level |k|``.

    ``keys`` and ``directions`` have the same shape; a level of 0 returns ``keys`` itself.
    """
    if level == 0:
        return keys
    scale = level * keys.norm(dim=-1, keepdim=True) / directions.norm(dim=-1, keepdim=True)
    return keys + scale * directions


def held_floats(memory: object) -> dict[str, int]:
    """``{"state_size": floats one trial holds}`` (:func:`memnb.state_size`) when the memory
    provides ``state_size()``, else ``{}`` (a reader's class without it)."""
    inner = memory.memories[0] if isinstance(memory, LoopedMemory) else memory
    if not callable(getattr(inner, "state_size", None)):
        return {}
    return {"state_size": _state_size(memory)}


def _seen(memory: object, x: torch.Tensor) -> tuple[int, ...]:
    """The shape of ``x`` as the memory's class sees it (one trial's, behind a
    :class:`LoopedMemory`)."""
    return tuple(x.shape[1:] if isinstance(memory, LoopedMemory) else x.shape)


def memory_name(memory: object) -> str:
    """The class name of ``memory`` (of the memories a :class:`LoopedMemory` wraps)."""
    inner = memory.memories[0] if isinstance(memory, LoopedMemory) else memory
    return type(inner).__name__


@contextmanager
def calling(memory: object, call: str) -> Iterator[None]:
    """Run a call of a reader's memory: an exception its own code raises becomes a
    one-line :class:`memnb.ProtocolError` that names the class and the ``call``.

    memnb's own memories raise their own ``TypeError`` and ``ValueError`` for bad input,
    which pass unchanged, as do the protocol errors of :func:`read`.
    """
    try:
        yield
    except _validate.ProtocolError:
        raise
    except Exception as error:
        inner = memory.memories[0] if isinstance(memory, LoopedMemory) else memory
        if type(inner).__module__.startswith("memnb."):
            raise
        text = " ".join(str(error).split()) or "no message"
        raise _validate.ProtocolError(
            f"{memory_name(memory)}.{call} raised {type(error).__name__}: {text}"
        ) from error


def write(memory: object, keys: torch.Tensor, values: torch.Tensor, times: int) -> None:
    """Write ``(keys, values)`` into ``memory`` ``times`` times, one ``update`` each
    (an exception raised by a reader's ``update`` becomes a :class:`memnb.ProtocolError`)."""
    with calling(memory, f"update(keys, values) with keys of shape {_seen(memory, keys)}"):
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
    """Query ``memory`` and check its answer before anything uses it.

    The read must be a ``torch.Tensor`` of the ``expected`` shape, on the device of the
    queries, in a floating dtype (:func:`memnb._validate.read_value`); otherwise a
    one-line :class:`memnb.ProtocolError` (also a ``TypeError`` or ``ValueError``) names
    the class, the call, what came back and what was expected. A float16 or bfloat16 read
    is returned in float32, with a :class:`memnb.LowPrecisionRead` warning; a read in
    another floating dtype than the queries (float64 for float32 keys) is returned in the
    queries' dtype, the precision of the data it is scored against.
    """
    name = memory_name(memory)
    with calling(memory, f"__call__(queries) with queries of shape {_seen(memory, queries)}"):
        out = memory(queries)
    out = _validate.read_value(name, out, queries)
    if tuple(out.shape) != tuple(expected):
        raise _validate.ProtocolValueError(
            f"{name}.__call__(queries) returned shape {tuple(out.shape)} when read with "
            f"queries of shape {tuple(queries.shape)}; expected {tuple(expected)}"
        )
    if out.dtype in _validate.LOW_PRECISION:
        warnings.warn(
            f"{name} read in {out.dtype}; its reads are scored in torch.float32",
            _validate.LowPrecisionRead,
            stacklevel=2,
        )
        out = out.float()
    elif out.dtype != queries.dtype:  # e.g. a float64 read of float32 keys: their precision
        out = out.to(queries.dtype)
    return out.detach()


def read_all(memory: object, keys: torch.Tensor, expected: torch.Size) -> torch.Tensor:
    """Read every key of ``(T, N, d)``, ``READ_CHUNK`` at a time (a read does not change a
    memory): the reads, of shape ``expected``."""
    chunks = []
    for start in range(0, keys.shape[1], READ_CHUNK):
        part = keys[:, start : start + READ_CHUNK]
        chunks.append(read(memory, part, (*expected[:1], part.shape[1], *expected[2:])))
    return torch.cat(chunks, dim=1)


def score(
    retrieved: torch.Tensor,
    values: torch.Tensor,
    n: int,
    cosine_threshold: float = COSINE_THRESHOLD,
) -> pd.DataFrame:
    """Per-trial accuracy, MSE and cosine of the reads ``(T, N, d_v)`` of N items.

    An item is recalled when its read is nearest by cosine to its own value among the N
    (:func:`memnb.metrics.nearest_neighbor_recall`); a read that is not finite is a miss.
    Returns one row per trial with columns ``trial, n_items, accuracy, mse, cosine,
    diverged, cosine_recall`` (``cosine_recall``: the fraction of items whose read has
    cosine ``>= cosine_threshold`` with its own value, from the same float64 cosines as
    ``cosine``; a read that is not finite is a miss there too). The trials are scored a
    few at a time, so that each group's read-by-value scores and float64 copies (about
    ``SCORE_BYTES``) stay in cache; every number is computed per trial, so the grouping
    changes no result.
    """
    per_trial = 8 * retrieved.shape[-2] * max(values.shape[-2], values.shape[-1])
    parts = [
        _score_trials(retrieved[a:b], values[a:b], cosine_threshold)
        for a, b in _groups(retrieved.shape[0], SCORE_BYTES // per_trial)
    ]
    accuracy, mse, cosine, diverged, close = (
        torch.cat(p).cpu().numpy() for p in zip(*parts, strict=True)
    )
    return pd.DataFrame(
        {
            "trial": range(retrieved.shape[0]),
            "n_items": n,
            "accuracy": accuracy,
            "mse": mse,
            "cosine": cosine,
            "diverged": diverged,
            "cosine_recall": close,
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
    retrieved: torch.Tensor, values: torch.Tensor, cosine_threshold: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Accuracy, MSE, cosine, divergence and cosine recall of each trial of ``retrieved``,
    ``(T,)`` each.

    Recall is decided as in float64 (:func:`memnb.metrics.nearest_neighbor_recall`); MSE
    and cosine are computed in float64 (a NaN cosine is below any threshold: a miss).
    """
    finite = torch.isfinite(retrieved).all(dim=-1, keepdim=True)
    # A read that is not finite is a miss: score a zero vector in its place.
    hits = metrics.nearest_neighbor_recall(torch.where(finite, retrieved, 0.0), values)
    retrieved, values = retrieved.double(), values.double()
    mse = (retrieved - values).pow(2).mean(dim=(1, 2))
    cosines = metrics.cosine(retrieved, values)
    close = (cosines >= cosine_threshold).double().mean(dim=1)
    diverged = (~finite).any(dim=(1, 2))
    return hits.double().mean(dim=1), mse, cosines.mean(dim=1), diverged, close
