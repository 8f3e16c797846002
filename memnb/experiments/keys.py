"""Key recall: the capacity protocol on stored pairs and on pairs the memory never saw."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import torch

from .. import _validate, data, metrics
from ._build import Factory, build_memory, child_seeds, label_of, place_like
from ._protocol import counts, read_all, score, sizes, written

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
) -> pd.DataFrame:
    """The capacity protocol, scored on the stored pairs and on ``n_unseen`` new ones.

    ``pairs="hetero"``: keys and values are independent random vectors
    (:func:`memnb.data.random_pairs`); ``pairs="auto"``: both come from one context
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

    The pairs are nested over N, and the unseen pairs are the same for every N. Returns a
    tidy frame, one row per trial, N, count of writes and ``tested``, with columns
    ``trial, n_items, accuracy, mse, cosine, diverged, tested, chance, memory, pairs,
    dim, context_dim, key_rank, nonlinearity, steps, seed``.
    """
    if pairs not in PAIRS:
        raise ValueError(f"pairs must be one of {PAIRS}, got {pairs!r}")
    n_items = sizes("n_items", n_items)
    steps = counts("steps", steps)
    trials = _validate.positive_int("trials", trials)
    dim = _validate.positive_int("dim", dim)
    n_unseen = _validate.positive_int("n_unseen", n_unseen)
    if pairs == "hetero" and (context_dim, key_rank, nonlinearity) != (None, None, "linear"):
        raise ValueError(
            "context_dim, key_rank and nonlinearity shape autoassociative pairs only; for "
            f"pairs='hetero' leave them at None, None, 'linear', got {context_dim!r}, "
            f"{key_rank!r}, {nonlinearity!r}"
        )
    data_seed, memory_seed = child_seeds(seed, 2)
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
    rows = []
    for n in n_items:
        memory = build_memory(factory, dim=dim, trials=trials, seed=memory_seed)
        k, v, qk, qv = place_like(memory, keys[:, :n], values[:, :n], new_keys, new_values)
        k, v = k.contiguous(), v.contiguous()
        for count in written(memory, k, v, steps):
            with torch.no_grad():
                stored = score(read_all(memory, k, v.shape), v, n)
                unseen = _score_unseen(read_all(memory, qk, qv.shape), qv, v, n)
            rows.append(stored.assign(steps=count, tested="stored", chance=1 / n))
            rows.append(unseen.assign(steps=count, tested="unseen", chance=1 / (n + n_unseen)))
    frame = pd.concat(rows, ignore_index=True)
    frame = frame.assign(
        memory=label_of(factory, label),
        pairs=pairs,
        dim=dim,
        context_dim=dim if context_dim is None else context_dim,
        key_rank=pd.array([key_rank] * len(frame), dtype="Int64"),
        nonlinearity=nonlinearity,
        seed=seed,
    )
    order = ["trial", "n_items", "accuracy", "mse", "cosine", "diverged", "tested", "chance"]
    rest = ["memory", "pairs", "dim", "context_dim", "key_rank", "nonlinearity", "steps", "seed"]
    return frame[order + rest]


def _score_unseen(
    retrieved: torch.Tensor, own: torch.Tensor, stored: torch.Tensor, n: int
) -> pd.DataFrame:
    """As the capacity score, but each read competes against the unseen values ``own``
    and the ``stored`` ones: a hit is a read closest to its own unseen value."""
    frame = score(retrieved, own, n)
    retrieved = retrieved.double()
    finite = torch.isfinite(retrieved).all(dim=-1, keepdim=True)
    scale = retrieved.abs().amax(dim=-1, keepdim=True)
    safe = torch.where(finite & (scale > 0), retrieved / torch.where(scale > 0, scale, 1.0), 0.0)
    candidates = torch.cat([own, stored], dim=1).double()
    hits = metrics.nearest_neighbor_recall(safe, candidates)
    return frame.assign(accuracy=hits.double().mean(dim=1).cpu().numpy())
