"""Capture capacity: how many pairs a memory recalls after one bulk write of all of them."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from functools import partial

import numpy as np
import pandas as pd
import torch

from .. import _validate, data, metrics
from ..memories import AttentionMemory, BatchedMemory
from ._build import Factory, build_memory, child_seeds, label_of, place_like
from ._protocol import (
    COSINE_THRESHOLD,
    counts,
    cue_directions,
    held_floats,
    noise_levels,
    noisy,
    read_all,
    score,
    sizes,
    write,
    written,
)
from ._protocol import cosine_threshold as _threshold

# Reads of at most this many items are scored together (see _scored).
BATCHED_SCORE_ITEMS = 64


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
    cue_noise: float | Iterable[float] = 0.0,
    cosine_threshold: float = COSINE_THRESHOLD,
) -> pd.DataFrame:
    """Write N pairs ``steps`` times as one batch, then recall each of them.

    For every N in ``n_items`` a fresh memory (``trials`` independent ones, batched when
    the factory accepts ``trials``) receives ``update(keys, values)`` with all N pairs,
    ``steps`` times; then each of the N keys is read back. An item is recalled when its
    read is closer by cosine to its own value than to any of the other N - 1 stored
    values (:func:`memnb.metrics.nearest_neighbor_recall`); a read that is zero or not
    finite is a miss. A second criterion is scored from the same reads: the item is
    recalled when its read has cosine ``>= cosine_threshold`` (in ``(-1, 1]``) with its
    own value, whatever the other values.

    ``cue_noise`` (a relative norm >= 0, or a sequence of them) reads each key ``k`` as
    the cue ``k + e``, with a Gaussian direction ``e`` scaled per query to
    ``|e| = cue_noise |k|``, and scores the read against the same values: a memory
    recalls from a cue near a key, a lookup table only from the key itself. The
    directions come from a seed of their own (derived from ``seed``), drawn once for the
    largest N and shared by every N, count and level, so neighbouring levels differ only
    by the scale of the noise; ``cue_noise=0`` reads the keys themselves, and every other
    number of the frame is the same whatever ``cue_noise`` is. A sequence of levels
    writes each memory once and reads it once per level.

    ``steps`` may also be an increasing sequence of counts, e.g. ``(1, 5, 20)``: each
    memory is then read after each count in one run, which gives the same numbers as
    separate runs because a read does not change a memory.

    The pairs (``kind`` as in :func:`memnb.data.random_pairs`) are nested: the N pairs of
    a trial are the first N of one draw for the largest N, so neighbouring N differ only
    by the pairs added. Every N starts from the same initial memory state.

    Returns a tidy frame, one row per trial, N, count of writes and cue-noise level, with
    columns ``trial, n_items``, ``accuracy`` (fraction of the N items recalled, nearest
    of N), ``mse`` (per-coordinate squared error of the read, averaged over items),
    ``cosine`` (cosine between read and value, averaged over items), ``diverged`` (some
    read was NaN or inf), ``cosine_recall`` (fraction of the N items whose read has
    cosine ``>= cosine_threshold`` with its value), ``chance`` (``1 / N``, the nearest-of-N
    accuracy of a read that ignores its query), ``state_size`` (floats one trial's memory
    holds after the writes, :func:`memnb.state_size`; this column is left out when the
    memory has no ``state_size()`` method, as a reader's class may not), and the
    parameters ``memory, dim, cue_noise, cosine_threshold, steps, seed`` (``steps``: the
    writes made before the read).
    """
    n_items = sizes("n_items", n_items)
    steps = counts("steps", steps)
    trials = _validate.positive_int("trials", trials)
    dim = _validate.positive_int("dim", dim)
    levels = noise_levels("cue_noise", cue_noise)
    threshold = _threshold(cosine_threshold)
    data_seed, memory_seed, noise_seed = child_seeds(seed, 3)  # the first two as without noise
    all_keys, all_values = data.random_pairs(max(n_items), dim, trials, seed=data_seed, kind=kind)
    # Without noise the keys stand in for the directions, which are then never used.
    directions = cue_directions(all_keys.shape, noise_seed) if max(levels) > 0 else all_keys
    rows, settings = [], []  # the scores of each read, and the settings of its rows
    memories = _fresh_memories(factory, len(n_items), dim, trials, memory_seed)
    for memory, n in zip(memories, n_items, strict=True):
        pairs = (all_keys[:, :n].contiguous(), all_values[:, :n].contiguous())
        keys, values, towards = place_like(memory, *pairs, directions[:, :n])
        reads = []
        for count in written(memory, keys, values, steps):
            held = held_floats(memory)
            for level in levels:
                with torch.no_grad():
                    reads.append(read_all(memory, noisy(keys, towards, level), values.shape))
                settings.append({"chance": 1 / n, **held, "steps": count, "cue_noise": level})
        rows.extend(_scored(reads, values, n, threshold))
    frame = pd.concat(rows, ignore_index=True)
    # One column per setting, each read's value repeated over its rows (one assign per
    # read cost more than the reads of a small memory).
    repeats = [len(r) for r in rows]
    columns = {c: np.repeat([s[c] for s in settings], repeats) for c in settings[0]}
    frame = frame.assign(**columns, memory=label_of(factory, label), dim=dim, seed=seed)
    frame = frame.assign(cosine_threshold=threshold)
    last = ["cue_noise", "cosine_threshold", "steps", "seed"]
    return frame[[*frame.columns.drop(last), *last]]


def _scored(
    reads: list[torch.Tensor], values: torch.Tensor, n: int, threshold: float
) -> list[pd.DataFrame]:
    """:func:`score` of each of ``reads`` (each ``(T, N, d_v)``) against ``values``.

    Small reads are scored as one batch along the trials axis and split again: every
    number is computed per trial, so the frames are those of separate calls, and one call
    costs less than several when N is small.
    """
    trials = values.shape[0]
    if len(reads) == 1 or n > BATCHED_SCORE_ITEMS:
        return [score(r, values, n, threshold) for r in reads]
    together = score(torch.cat(reads), values.repeat(len(reads), 1, 1), n, threshold)
    parts = []
    for i in range(len(reads)):
        part = together.iloc[i * trials : (i + 1) * trials].reset_index(drop=True)
        parts.append(part.assign(trial=range(trials)))
    return parts


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
    n_items = sizes("n_items", n_items)
    beta = partial(_validate.positive_float, allow_zero=True)
    betas = _validate.sequence("betas", betas, beta, "numbers >= 0", scalar=False)
    trials = _validate.positive_int("trials", trials)
    dim = _validate.positive_int("dim", dim)
    (data_seed,) = child_seeds(seed, 1)
    all_keys, all_values = data.random_pairs(
        max(n_items), dim, trials, seed=data_seed, kind=kind, dtype=torch.float64
    )
    rows = []
    for n in n_items:
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


def key_updates(
    factory: Factory,
    rounds: Iterable[int] = (1, 2, 4, 8),
    n_keys: int = 16,
    trials: int = 16,
    dim: int = 64,
    seed: int = 0,
    *,
    steps: int = 1,
    kind: str = "gaussian",
    label: str | None = None,
) -> pd.DataFrame:
    """Give the same keys new values, round after round, and recall the latest value.

    Each trial draws ``n_keys`` keys and, for every round up to ``max(rounds)``, a new
    value for every key (``kind`` as in :func:`memnb.data.random_pairs`). A fresh memory
    receives ``update(keys, values_r)`` ``steps`` times per round, round after round (a
    memory that learns by gradient steps needs several writes to store a round). After each count of
    rounds ``r`` in ``rounds`` every key is read; the candidates are all the ``r *
    n_keys`` values written so far, the latest and the outdated ones. A key is recalled
    when its read is nearest by cosine to its latest value; ``outdated`` counts the keys
    whose read is nearest to one of their own earlier values. This is the setting in
    which Schlag, Irie and Schmidhuber (2021) contrast the delta rule, which replaces a
    key's value, with the sum update of linear attention, which adds to it.

    Returns a tidy frame, one row per trial and count of rounds, with columns ``trial,
    rounds, accuracy`` (fraction of keys recalled), ``outdated``, ``cosine`` (mean cosine
    of the read with the latest value), ``diverged`` (some read was NaN or inf),
    ``chance`` (``1 / (r * n_keys)``) and ``memory, n_keys, dim, steps, seed``. A read that is
    zero or not finite is a miss.
    """
    rounds = counts("rounds", rounds)
    n_keys = _validate.positive_int("n_keys", n_keys)
    trials = _validate.positive_int("trials", trials)
    dim = _validate.positive_int("dim", dim)
    steps = _validate.positive_int("steps", steps)
    data_seed, memory_seed, value_seed = child_seeds(seed, 3)
    keys, first = data.random_pairs(n_keys, dim, trials, seed=data_seed, kind=kind)
    more = max(rounds) - 1  # the values of the rounds after the first
    _, later = data.random_pairs(max(more, 1) * n_keys, dim, trials, seed=value_seed, kind=kind)
    values = torch.cat([first, later[:, : more * n_keys]], dim=1)  # (T, R * n_keys, d)
    memory = build_memory(factory, dim=dim, trials=trials, seed=memory_seed)
    keys, values, _ = place_like(memory, keys, values, keys)
    rows, done = [], 0
    for r in rounds:
        for j in range(done, r):
            write(memory, keys, values[:, j * n_keys : (j + 1) * n_keys], steps)
        done = r
        with torch.no_grad():
            retrieved = read_all(memory, keys, (trials, n_keys, values.shape[-1]))
        rows.append(_latest_recall(retrieved, values[:, : r * n_keys], n_keys).assign(rounds=r))
    frame = pd.concat(rows, ignore_index=True)
    frame = frame.assign(
        memory=label_of(factory, label), n_keys=n_keys, dim=dim, steps=steps, seed=seed
    )
    first_columns = ["trial", "rounds", "accuracy", "outdated", "cosine", "diverged", "chance"]
    return frame[[*first_columns, *frame.columns.drop(first_columns)]]


def _latest_recall(retrieved: torch.Tensor, written: torch.Tensor, n_keys: int) -> pd.DataFrame:
    """Score reads ``(T, n, d)`` against every value written ``(T, r * n, d)``, round by
    round: recall of the latest value, share of reads nearest an outdated own value, mean
    cosine with the latest value, and divergence, per trial."""
    r = written.shape[1] // n_keys
    finite = torch.isfinite(retrieved).all(dim=-1, keepdim=True)
    reads = torch.where(finite, retrieved, 0.0).double()
    candidates = written.double()
    answered = reads.abs().amax(dim=-1) > 0  # a zero (or non-finite) read is a miss
    similarity = metrics.cosine(reads.unsqueeze(2), candidates.unsqueeze(1))  # (T, n, r n)
    nearest = similarity.argmax(dim=-1)  # (T, n)
    own = torch.arange(n_keys, device=nearest.device)
    latest = (r - 1) * n_keys + own
    hit = (nearest == latest) & answered
    earlier = (nearest % n_keys == own) & (nearest < latest) & answered
    cosine = metrics.cosine(reads, candidates[:, -n_keys:])
    return pd.DataFrame(
        {
            "trial": range(retrieved.shape[0]),
            "accuracy": hit.double().mean(dim=1).cpu().numpy(),
            "outdated": earlier.double().mean(dim=1).cpu().numpy(),
            "cosine": cosine.mean(dim=1).cpu().numpy(),
            "diverged": (~finite).any(dim=(1, 2)).cpu().numpy(),
            "chance": 1 / (r * n_keys),
        }
    )
