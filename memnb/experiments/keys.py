"""Key recall: the capacity protocol on stored pairs and on pairs the memory never saw."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import torch

from .. import _validate, data, metrics
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
    written,
)
from ._protocol import cosine_threshold as _threshold

PAIRS = ("hetero", "auto")


def key_recall(
    factory: Factory,
    pairs: str = "auto",
    n_items: Iterable[int] = (4, 8, 16, 32, 64, 128, 256),
    steps: int | Iterable[int] = 5,
    trials: int = 16,
    dim: int = 64,
    seed: int = 0,
    *,
    n_unseen: int = 64,
    context_dim: int | None = None,
    key_rank: int | None = None,
    nonlinearity: str = "linear",
    label: str | None = None,
    cue_noise: float | Iterable[float] = 0.0,
    cosine_threshold: float = COSINE_THRESHOLD,
) -> pd.DataFrame:
    """The capacity protocol, scored on the stored pairs and on ``n_unseen`` new ones.

    ``pairs="hetero"``: keys and values are independent random vectors
    (:func:`memnb.data.random_pairs`); ``pairs="auto"``: functional pairs, both from one context
    each, ``k = W_K x`` and ``v = W_V f(x)`` (:func:`memnb.data.context_pairs`, with
    ``context_dim``, ``key_rank`` and ``nonlinearity`` passed on; these must keep their
    defaults for hetero pairs).

    For every N a fresh memory receives ``update(keys, values)`` with the N stored pairs
    ``steps`` times (an increasing sequence of counts reads after each), as in
    :func:`memnb.experiments.capacity`. Then it is read twice:

    - ``tested="stored"``: each stored key; recalled when the read is closest by cosine
      to its own value among the N stored values (exactly the capacity score);
    - ``tested="unseen"``: the keys of ``n_unseen`` contexts never written (drawn with
      the same projections); recalled when the read is closest to the unseen pair's own
      value among the ``n_unseen`` unseen values and the N stored ones. For hetero pairs
      an unseen key's value is unrelated to anything stored, so this stays near chance,
      ``1 / (n_unseen + N)`` (column ``chance``).

    ``cue_noise`` (a relative norm >= 0, or a sequence of them) perturbs the stored-pair
    queries as in :func:`memnb.experiments.capacity`: each stored key ``k`` is read as
    ``k + e`` with a Gaussian ``e`` scaled to ``|e| = cue_noise |k|`` (directions from
    their own seed, shared by every N, count and level), and the read is scored against
    the stored values as before. The unseen contexts are read from their own keys at
    every level: they are already cues the memory never saw, and for functional
    pairs noise would change which value is right (``k + e`` is the key of another
    context). Their rows (read once) repeat for each level, so that the rows of one
    level form a whole frame. ``cue_noise=0`` reads the stored keys themselves, and
    every other number is the same whatever ``cue_noise`` is.

    Beside nearest-of-N, ``cosine_recall`` scores the same reads by a second criterion:
    the fraction of items whose read has cosine ``>= cosine_threshold`` (in ``(-1, 1]``)
    with its own value (the stored or the unseen one).

    The pairs are nested over N, and the unseen pairs are the same for every N. Returns a
    tidy frame, one row per trial, N, count of writes, cue-noise level and ``tested``,
    with columns ``trial, n_items, accuracy, mse, cosine, diverged, tested, chance,
    cosine_recall, state_size, memory, pairs, dim, context_dim, key_rank, nonlinearity,
    cue_noise, cosine_threshold, steps, seed``. ``chance`` is the nearest-of-N accuracy
    of a read that ignores its query (``1 / N`` stored, ``1 / (N + n_unseen)`` unseen);
    ``state_size`` holds the floats one trial's memory holds after the writes
    (:func:`memnb.state_size`) and is left out when the memory has no ``state_size()``
    method, as a reader's class may not.
    """
    if pairs not in PAIRS:
        raise ValueError(f"pairs must be one of {PAIRS}, got {pairs!r}")
    n_items = sizes("n_items", n_items)
    steps = counts("steps", steps)
    trials = _validate.positive_int("trials", trials)
    dim = _validate.positive_int("dim", dim)
    n_unseen = _validate.positive_int("n_unseen", n_unseen)
    levels = noise_levels("cue_noise", cue_noise)
    threshold = _threshold(cosine_threshold)
    if pairs == "hetero" and (context_dim, key_rank, nonlinearity) != (None, None, "linear"):
        raise ValueError(
            "context_dim, key_rank and nonlinearity shape functional pairs only; for "
            f"pairs='hetero' leave them at None, None, 'linear', got {context_dim!r}, "
            f"{key_rank!r}, {nonlinearity!r}"
        )
    data_seed, memory_seed, noise_seed = child_seeds(seed, 3)  # the first two as without noise
    total = max(n_items) + n_unseen
    if pairs == "hetero":
        keys, values = data.random_pairs(total, dim, trials, seed=data_seed)
    else:
        made = data.context_pairs(
            total,
            dim,
            trials,
            context_dim=context_dim,
            key_rank=key_rank,
            nonlinearity=nonlinearity,
            seed=data_seed,
        )
        keys, values = made.keys, made.values
    new_keys, new_values = keys[:, :n_unseen], values[:, :n_unseen]
    keys, values = keys[:, n_unseen:], values[:, n_unseen:]
    # Without noise the keys stand in for the directions, which are then never used.
    directions = cue_directions(keys.shape, noise_seed) if max(levels) > 0 else keys
    rows = []
    for n in n_items:
        memory = build_memory(factory, dim=dim, trials=trials, seed=memory_seed)
        k, v, qk, qv, e = place_like(
            memory, keys[:, :n], values[:, :n], new_keys, new_values, directions[:, :n]
        )
        k, v = k.contiguous(), v.contiguous()
        for count in written(memory, k, v, steps):
            held, unseen = held_floats(memory), None
            for level in levels:
                with torch.no_grad():
                    stored = score(read_all(memory, noisy(k, e, level), v.shape), v, n, threshold)
                    if unseen is None:  # read once: the unseen cues carry no noise
                        read = read_all(memory, qk, qv.shape)
                        unseen = _score_unseen(read, qv, v, n, threshold).assign(
                            tested="unseen", chance=1 / (n + n_unseen), **held
                        )
                stored = stored.assign(tested="stored", chance=1 / n, **held)
                rows.append(stored.assign(steps=count, cue_noise=level))
                rows.append(unseen.assign(steps=count, cue_noise=level))
    frame = pd.concat(rows, ignore_index=True)
    frame = frame.assign(
        memory=label_of(factory, label),
        pairs=pairs,
        dim=dim,
        context_dim=dim if context_dim is None else context_dim,
        key_rank=pd.array([key_rank] * len(frame), dtype="Int64"),
        nonlinearity=nonlinearity,
        cosine_threshold=threshold,
        seed=seed,
    )
    order = ["trial", "n_items", "accuracy", "mse", "cosine", "diverged", "tested", "chance"]
    new = ["cosine_recall"] + (["state_size"] if "state_size" in frame.columns else [])
    rest = ["memory", "pairs", "dim", "context_dim", "key_rank", "nonlinearity"]
    last = ["cue_noise", "cosine_threshold", "steps", "seed"]
    return frame[order + new + rest + last]


def _score_unseen(
    retrieved: torch.Tensor, own: torch.Tensor, stored: torch.Tensor, n: int, threshold: float
) -> pd.DataFrame:
    """As the capacity score, but each read competes against the unseen values ``own``
    and the ``stored`` ones: a hit is a read closest to its own unseen value (the cosine
    criterion needs no competitors: it is scored against ``own``)."""
    frame = score(retrieved, own, n, threshold)
    retrieved = retrieved.double()
    finite = torch.isfinite(retrieved).all(dim=-1, keepdim=True)
    scale = retrieved.abs().amax(dim=-1, keepdim=True)
    safe = torch.where(finite & (scale > 0), retrieved / torch.where(scale > 0, scale, 1.0), 0.0)
    candidates = torch.cat([own, stored], dim=1).double()
    hits = metrics.nearest_neighbor_recall(safe, candidates)
    return frame.assign(accuracy=hits.double().mean(dim=1).cpu().numpy())
