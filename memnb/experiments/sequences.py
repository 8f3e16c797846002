"""Sequences in key-value memories: probes of stored transitions, chaining and free recall.

Every protocol here takes a memory factory, as :func:`memnb.experiments.capacity` does,
and runs all trials as one batched memory. Free-recall output is in the table format of
the ``psifr`` package, so that psifr's own analyses (the lag-CRP,
:func:`memnb.summaries.lag_crp`) apply unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
import torch

from .. import _validate, data, metrics
from ._build import Factory, build_memory, child_seeds, label_of, place_like
from ._protocol import read, write

MODELS = ("chain", "context")


def probe(
    factory: Factory,
    pairs: Sequence[tuple[str, str]] = (("A", "B"), ("B", "C")),
    trials: int = 64,
    dim: int = 64,
    steps: int = 5,
    seed: int = 0,
    *,
    kind: str = "gaussian",
    unstored: Sequence[str] = (),
    transpose: bool = False,
    label: str | None = None,
) -> pd.DataFrame:
    """Store named transitions, then read every item and compare the read with every item.

    ``pairs`` names the stored associations, e.g. ``(("A", "B"), ("B", "C"))`` for the
    sequence A, B, C. Each distinct name is a random vector (``kind`` as in
    :func:`memnb.data.random_vectors`), drawn independently in every trial. All pairs are
    written together as one batch, ``steps`` times. Every item is then used as a query,
    including the items named in ``unstored``, which are drawn but never written (controls).

    ``transpose=True`` reads a matrix memory backwards, ``q M`` instead of ``q M^T``; the
    memory must expose its ``(T, value_dim, dim)`` ``matrix``.

    Returns a tidy frame, one row per trial, cue and target, with columns
    ``trial, cue, target, cosine`` (cosine between the read of ``cue`` and the item
    ``target``; NaN where the read is not finite), ``diverged`` (some read of the trial
    was NaN or inf) and ``memory, dim, steps, seed``.
    """
    pairs = _validate.sequence("pairs", pairs, _pair, "(key, value) pairs of names", scalar=False)
    names = list(dict.fromkeys(name for pair in pairs for name in pair))
    if isinstance(unstored, str | bytes) or not isinstance(unstored, Sequence):
        raise TypeError(f"unstored must be a sequence of names, got {unstored!r}")
    clash = [name for name in unstored if name in names]
    if clash:
        raise ValueError(f"unstored names {clash} also appear in pairs")
    names = names + list(unstored)
    if not isinstance(transpose, bool):
        raise TypeError(f"transpose must be True or False, got {transpose!r}")
    trials = _validate.positive_int("trials", trials)
    dim = _validate.positive_int("dim", dim)
    steps = _validate.positive_int("steps", steps)
    data_seed, memory_seed = child_seeds(seed, 2)
    items = data.random_vectors(len(names), dim, trials, kind=kind, seed=data_seed)
    index = {name: i for i, name in enumerate(names)}
    memory = build_memory(factory, dim=dim, trials=trials, seed=memory_seed)
    (items,) = place_like(memory, items)
    keys = items[:, [index[k] for k, _ in pairs]]
    values = items[:, [index[v] for _, v in pairs]]
    write(memory, keys, values, steps)
    with torch.no_grad():
        if transpose:
            retrieved = items @ _matrix(memory, trials, dim)
        else:
            retrieved = read(memory, items, tuple(items.shape))
    cos = metrics.cosine(retrieved.double()[:, :, None], items.double()[:, None])
    diverged = ~torch.isfinite(retrieved).all(dim=-1).all(dim=-1).cpu()
    n = len(names)
    frame = pd.DataFrame(
        {
            "trial": torch.arange(trials).repeat_interleave(n * n).numpy(),
            "cue": [names[i] for i in range(n) for _ in range(n)] * trials,
            "target": names * (n * trials),
            "cosine": cos.reshape(-1).cpu().numpy(),
            "diverged": diverged.repeat_interleave(n * n).numpy(),
        }
    )
    return frame.assign(memory=label_of(factory, label), dim=dim, steps=steps, seed=seed)


def chain_recall(
    factory: Factory,
    length: int = 8,
    trials: int = 32,
    dim: int = 64,
    steps: int = 5,
    seed: int = 0,
    *,
    kind: str = "gaussian",
    label: str | None = None,
) -> pd.DataFrame:
    """Store a list as transitions ``x_i -> x_{i+1}``, then recall it by chaining from ``x_1``.

    The ``length - 1`` transitions of a list of ``length`` random items are written as one
    batch, ``steps`` times. Recall starts from the first item; each read is rescaled to
    the mean norm of the list's items and used as the next query (no clean-up to the
    nearest item), so errors carry forward along the list.

    Returns a tidy frame, one row per trial and position ``2 .. length``, with columns
    ``trial, position``, ``cosine`` (between the read and the item at that position),
    ``correct`` (the read is closer by cosine to that item than to any other list item;
    a read that is not finite is not), ``diverged`` (some read of the trial was NaN or
    inf), ``fit_error`` (how well the writes stored the transitions: the largest relative
    error ``|read(x_i) - x_{i+1}| / |x_{i+1}|`` over the ``length - 1`` transitions, read
    from the items themselves; NaN when a read is not finite), ``chance`` (``1 / length``,
    the fraction of reads nearest the right item when each read points anywhere) and
    ``memory, dim, length, steps, seed``.
    """
    length = _length(length)
    trials = _validate.positive_int("trials", trials)
    dim = _validate.positive_int("dim", dim)
    steps = _validate.positive_int("steps", steps)
    data_seed, memory_seed = child_seeds(seed, 2)
    items = data.random_vectors(length, dim, trials, kind=kind, seed=data_seed)
    memory = build_memory(factory, dim=dim, trials=trials, seed=memory_seed)
    (items,) = place_like(memory, items)
    write(memory, items[:, :-1], items[:, 1:], steps)
    scale = items.norm(dim=-1).mean(dim=-1)[:, None, None]
    query, reads = items[:, :1], []
    with torch.no_grad():
        fit = _fit_error(read(memory, items[:, :-1], (trials, length - 1, dim)), items[:, 1:])
        for _ in range(length - 1):
            out = read(memory, query, (trials, 1, dim))
            reads.append(out)
            norm = out.norm(dim=-1, keepdim=True)
            query = torch.where(norm > 0, out * scale / norm.clamp_min(1e-30), out)
    reads = torch.cat(reads, dim=1).double()
    sims = metrics.cosine(reads[:, :, None], items.double()[:, None])  # (T, L-1, L)
    target = torch.arange(1, length)
    cosine = sims[:, torch.arange(length - 1), target]
    finite = torch.isfinite(reads).all(dim=-1)
    correct = (sims.argmax(dim=-1) == target) & finite
    frame = pd.DataFrame(
        {
            "trial": torch.arange(trials).repeat_interleave(length - 1).numpy(),
            "position": target.repeat(trials).numpy() + 1,
            "cosine": cosine.reshape(-1).cpu().numpy(),
            "correct": correct.reshape(-1).cpu().numpy(),
            "diverged": (~finite.all(dim=-1)).cpu().repeat_interleave(length - 1).numpy(),
            "fit_error": fit.cpu().repeat_interleave(length - 1).numpy(),
            "chance": 1.0 / length,
        }
    )
    return frame.assign(
        memory=label_of(factory, label), dim=dim, length=length, steps=steps, seed=seed
    )


def _fit_error(reads: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The largest relative error ``|read - target| / |target|`` of each trial, ``(T,)``
    (float64; NaN when a read of the trial is not finite)."""
    reads, targets = reads.double(), targets.double()
    error = (reads - targets).norm(dim=-1) / targets.norm(dim=-1).clamp_min(1e-30)
    finite = torch.isfinite(reads).all(dim=-1).all(dim=-1)
    return torch.where(finite, error.amax(dim=-1), torch.nan)


def context_vectors(items: torch.Tensor, rho: float, start: torch.Tensor) -> torch.Tensor:
    """The drifting context of a studied list: ``c_i = norm(rho c_{i-1} + beta x_i)``.

    ``items`` is ``(T, L, d)``, ``start`` the context before the list, ``(T, d)``;
    ``beta = sqrt(1 - rho^2)``, so for unit items nearly orthogonal to the context the
    context keeps about unit norm before the normalisation. Returns ``(T, L, d)``.
    """
    rho = _rho(rho)
    items = _validate.float_tensor("items", items)
    start = _validate.float_tensor("start", start)
    if items.dim() != 3 or start.shape != (items.shape[0], items.shape[2]):
        raise ValueError(
            f"items must have shape (T, L, d) and start (T, d), got {tuple(items.shape)} "
            f"and {tuple(start.shape)}"
        )
    _validate.same_device(("items", "start"), items, start)
    return _drift(items, rho, start)


def _drift(items: torch.Tensor, rho: float, start: torch.Tensor) -> torch.Tensor:
    """:func:`context_vectors` of checked arguments."""
    beta = math.sqrt(1.0 - rho * rho)
    c, out = start, []
    for i in range(items.shape[-2]):
        c = _unit(rho * c + beta * items[:, i])
        out.append(c)
    return torch.stack(out, dim=-2)


def free_recall(
    factory: Factory,
    model: str = "context",
    length: int = 16,
    trials: int = 64,
    dim: int = 128,
    rho: float = 0.6,
    tau: float = 0.1,
    steps: int = 5,
    seed: int = 0,
) -> pd.DataFrame:
    """Simulate free recall of a list of ``length`` unit-norm items by a chain or a context model.

    ``model="chain"``: the memory stores ``x_i -> x_{i+1}``; recall starts at the first
    item and each recalled item is the next cue.

    ``model="context"``: a context vector drifts during study (:func:`context_vectors`).
    One memory stores context -> item, a second item -> context (the two associations of
    the temporal context model, M_CF and M_FC). Recall starts from the context at the end
    of the list; after each recall the context drifts towards the recalled item and the
    study context the second memory returns for it, ``c <- norm(rho c + beta c_in)`` with
    ``c_in = norm(x + norm(M_FC x))``.

    In both models the next item is drawn among those not yet recalled with probability
    proportional to ``exp(cos(read, x_j) / tau)`` (a softmax choice), until every item has
    been recalled. Each trial is one list of one simulated subject.

    Returns the psifr table: columns ``subject, list, trial_type, position, item`` with
    items named by their serial position (1 .. length), study events then recall events,
    and ``diverged`` (a read of that subject's memory was NaN or inf; such a read is
    scored as similar to no item, so the next choice is at random). psifr's analyses
    ignore the extra column.
    """
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    length = _length(length)
    trials = _validate.positive_int("trials", trials)
    dim = _validate.positive_int("dim", dim)
    rho = _rho(rho)
    tau = _validate.positive_float("tau", tau)
    steps = _validate.positive_int("steps", steps)
    data_seed, memory_seed, choice_seed = child_seeds(seed, 3)
    gen = data.generator(data_seed)
    items = data.random_vectors(length, dim, trials, kind="unit", seed=gen)
    start = data.random_vectors(1, dim, trials, kind="unit", seed=gen)[:, 0]
    order, diverged = _recall_order(
        factory, model, items, start, rho, tau, steps, memory_seed, choice_seed
    )
    return _recall_table(order + 1, diverged)


def _recall_table(recalled: torch.Tensor, diverged: torch.Tensor) -> pd.DataFrame:
    """psifr's table (as ``fr.table_from_lists`` builds it) of ``T`` subjects who each
    studied items 1 .. L in order and recalled them in the order ``recalled``, ``(T, L)``,
    with the column ``diverged`` of each subject, ``(T,)``."""
    trials, length = recalled.shape
    positions = torch.arange(1, length + 1).expand(trials, length)
    items = torch.stack([positions, recalled.long()], dim=1).reshape(-1).numpy()
    return pd.DataFrame(
        {
            "subject": torch.arange(1, trials + 1).repeat_interleave(2 * length).numpy(),
            "list": 1,
            "trial_type": (["study"] * length + ["recall"] * length) * trials,
            "position": positions.repeat(1, 2).reshape(-1).numpy(),
            "item": items,
            "diverged": diverged.numpy().repeat(2 * length),
        }
    )


def _recall_order(factory, model, items, start, rho, tau, steps, memory_seed, choice_seed):
    """The serial positions (0-based) recalled in each trial, ``(T, L)``, and whether a
    read of the trial was not finite, ``(T,)``."""
    trials, length, dim = items.shape
    seeds = child_seeds(memory_seed, 2)
    first = build_memory(factory, dim=dim, trials=trials, seed=seeds[0])
    (items, start) = place_like(first, items, start)
    if model == "chain":
        keys, values = items[:, :-1], items[:, 1:]
    else:
        contexts = _drift(items, rho, start)
        keys, values = contexts, items
        back = build_memory(factory, dim=dim, trials=trials, seed=seeds[1])
        write(back, items, contexts, steps)
    write(first, keys, values, steps)
    gen = torch.Generator().manual_seed(choice_seed)
    beta = math.sqrt(1.0 - rho * rho)
    cue = items[:, 0] if model == "chain" else contexts[:, -1]
    done = torch.zeros(trials, length, dtype=torch.bool, device=items.device)
    diverged = torch.zeros(trials, dtype=torch.bool, device=items.device)
    order = []
    with torch.no_grad():
        for _ in range(length):
            out = read(first, cue[:, None], (trials, 1, dim))
            diverged |= ~torch.isfinite(out).all(dim=-1).all(dim=-1)
            sims = metrics.cosine(out.double(), items.double()).nan_to_num(0.0)  # (T, L)
            logits = (sims / tau).masked_fill(done, -math.inf)
            pick = torch.multinomial(torch.softmax(logits, dim=-1).cpu(), 1, generator=gen)
            pick = pick[:, 0].to(items.device)
            done[torch.arange(trials), pick] = True
            order.append(pick)
            x = items[torch.arange(trials), pick]
            if model == "chain":
                cue = x
            else:
                retrieved = read(back, x[:, None], (trials, 1, dim))[:, 0]
                diverged |= ~torch.isfinite(retrieved).all(dim=-1)
                cue = _unit(rho * cue + beta * _unit(x + _unit(retrieved)))
    return torch.stack(order, dim=1).cpu(), diverged.cpu()


def _pair(name: str, pair: object) -> tuple[str, str]:
    """One ``(key, value)`` pair of names of the argument ``name``."""
    if isinstance(pair, str | bytes) or not isinstance(pair, Sequence) or len(pair) != 2:
        raise ValueError(f"each of {name} must be a (key, value) pair of names, got {pair!r}")
    return tuple(pair)


def _length(length: object) -> int:
    length = _validate.positive_int("length", length)
    if length < 2:
        raise ValueError(
            f"length must be at least 2 items (a list needs a transition), got {length}"
        )
    return length


def _rho(rho: object) -> float:
    rho = _validate.positive_float("rho", rho, allow_zero=True)
    if rho >= 1:
        raise ValueError(f"rho must be in [0, 1) (the context must drift), got {rho}")
    return rho


def _unit(x: torch.Tensor) -> torch.Tensor:
    return x / x.norm(dim=-1, keepdim=True).clamp_min(1e-30)


def _matrix(memory: object, trials: int, dim: int) -> torch.Tensor:
    matrix = getattr(memory, "matrix", None)
    if not isinstance(matrix, torch.Tensor) or tuple(matrix.shape) != (trials, dim, dim):
        raise TypeError(
            f"transpose=True needs a matrix memory with a (trials, dim, dim) = "
            f"{(trials, dim, dim)} matrix, got {type(memory).__name__}"
        )
    return matrix
