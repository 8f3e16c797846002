"""Embedding dimensions: recall against the token dimension and the memory's own dimension."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

import pandas as pd
import torch

from .. import _validate, data, metrics, theory
from ..memories import DeltaRuleMemory
from ..memories.projecting import DESIGNS, ProjectingEpisodicMemory
from ._build import Factory, build_memory, child_seeds
from ._protocol import counts, read_all, score, sizes, write, written
from .capacity import capacity


def token_dimensions(
    factory: Factory,
    dims: Iterable[int] = (8, 16, 32, 64, 128, 256),
    n_items: int = 50,
    steps: int = 5,
    trials: int = 16,
    seed: int = 0,
    *,
    kind: str = "gaussian",
    label: str | None = None,
) -> pd.DataFrame:
    """The capacity protocol at a fixed number of pairs, for each key/value dimension.

    For every ``d`` in ``dims``, :func:`~memnb.experiments.capacity` writes ``n_items``
    random pairs of dimension ``d`` into a fresh memory (``trials`` of them, batched)
    ``steps`` times, then recalls each by its nearest stored value. Returns the capacity
    frame of every ``d`` stacked: one row per trial and dimension, with columns
    ``trial, n_items, accuracy, mse, cosine, diverged, memory, dim, steps, seed``.
    """
    dims = sizes("dims", dims)
    n_items = _validate.positive_int("n_items", n_items)
    frames = [
        capacity(factory, [n_items], steps, trials, d, seed, kind=kind, label=label) for d in dims
    ]
    return pd.concat(frames, ignore_index=True)


def batch_delta_rule(n_items: int) -> Factory:
    """A :class:`~memnb.DeltaRuleMemory` factory whose step suits a batch of ``n_items``.

    A full-batch write multiplies the read error along each eigenvector of ``K^T K`` by
    ``1 - lr * lambda``; for ``n_items`` standard normal keys of dimension ``dim`` the
    largest eigenvalue is about ``dim (1 + sqrt(n_items / dim))^2``
    (:func:`memnb.theory.gram_eigenvalue_edges`). The factory uses ``lr = 1 / lambda_max``
    for whatever ``dim`` it is called with, which is stable, where the default
    ``1 / dim`` diverges once ``n_items`` exceeds about ``(sqrt(2) - 1)^2 dim``.
    """
    n_items = _validate.positive_int("n_items", n_items)

    def DeltaRuleMemory_(dim: int, trials: int | None = None, **kwargs: object) -> DeltaRuleMemory:
        lam = float(theory.gram_eigenvalue_edges(n_items, dim, key_sq_norm=dim)[1])
        return DeltaRuleMemory(dim, 1.0 / lam, trials, **kwargs)

    DeltaRuleMemory_.__name__ = "DeltaRuleMemory"
    return DeltaRuleMemory_


def internal_dimensions(
    token_dims: Iterable[int] = (128,),
    memory_dims: Iterable[int] = (16, 32, 64, 128, 256),
    designs: Iterable[str] = DESIGNS,
    n_items: int = 50,
    steps: int = 50,
    trials: int = 16,
    seed: int = 0,
    *,
    memory_size: int = 100,
) -> pd.DataFrame:
    """The capacity protocol on :class:`~memnb.ProjectingEpisodicMemory` over a grid.

    For every token dimension, memory dimension and value-projection design, ``n_items``
    standard normal token pairs are written ``steps`` times into a fresh memory of
    ``memory_size`` slots and recalled (in token space) by the nearest stored value.
    Returns one row per trial and setting, with the capacity columns (``dim`` renamed
    ``token_dim``) and ``memory_dim, design, sigma_min``: the smallest singular value of
    that trial's value projection ``P_V`` after the writes (the matrix whose
    pseudo-inverse brings reads back to tokens; NaN for ``"readout"``, which has none).
    """
    tokens, inner = sizes("token_dims", token_dims), sizes("memory_dims", memory_dims)
    designs = _designs(designs)
    n_items = _validate.positive_int("n_items", n_items)
    memory_size = _validate.positive_int("memory_size", memory_size)
    frames = []
    for d in tokens:
        for m in inner:
            for design in designs:
                built: list[ProjectingEpisodicMemory] = []
                factory = partial(
                    _kept,
                    built,
                    memory_dim=m,
                    memory_size=memory_size,
                    value_projection=design,
                )
                frame = capacity(
                    factory, [n_items], steps, trials, d, seed, label="ProjectingEpisodicMemory"
                )
                sigma = _sigma_min(built[-1])  # one N: the one memory capacity wrote
                frames.append(frame.assign(memory_dim=m, design=design, sigma_min=sigma))
    return pd.concat(frames, ignore_index=True).rename(columns={"dim": "token_dim"})


def projection_trace(
    token_dim: int = 128,
    memory_dim: int = 16,
    designs: Iterable[str] = DESIGNS,
    steps: Iterable[int] = (0, 1, 2, 5, 10, 20, 50, 100),
    n_items: int = 50,
    trials: int = 16,
    seed: int = 0,
) -> pd.DataFrame:
    """Write the same ``n_items`` token pairs again and again and watch each design.

    After each count of writes in ``steps`` (increasing, 0 allowed), records per trial:
    ``loss`` (the memory's own loss, the one its writes descend; for ``"readout"`` it is
    measured in token space), ``value_power`` (mean squared entry of the projected values
    ``P_V v`` of the stored pairs; NaN for ``"readout"``, which has no ``P_V``), and the
    token-space ``accuracy`` (nearest stored value; a read that is not finite is a miss)
    and ``cosine`` of the reads. Returns a tidy frame with columns ``design, trial, step,
    loss, value_power, accuracy, cosine, diverged`` (a read or loss of that design and
    trial was NaN or inf at some count), ``chance`` (``1 / n_items``, the accuracy of a
    read that picks a stored value at random) and ``token_dim, memory_dim``.
    """
    token_dim = _validate.positive_int("token_dim", token_dim)
    memory_dim = _validate.positive_int("memory_dim", memory_dim)
    n_items = _validate.positive_int("n_items", n_items)
    trials = _validate.positive_int("trials", trials)
    steps = counts("steps", steps, zero=True)
    designs = _designs(designs)
    data_seed, memory_seed = child_seeds(seed, 2)
    keys, values = data.random_pairs(n_items, token_dim, trials, seed=data_seed)
    rows = []
    for design in designs:
        memory = ProjectingEpisodicMemory(
            token_dim, memory_dim, trials=trials, value_projection=design, seed=memory_seed
        )
        for count in written(memory, keys, values, steps):
            rows.append(_trace_row(memory, keys, values).assign(design=design, step=count))
    frame = pd.concat(rows, ignore_index=True).assign(
        chance=1 / n_items, token_dim=token_dim, memory_dim=memory_dim
    )
    frame["diverged"] = frame.groupby(["design", "trial"])["diverged"].transform("any")
    first = ["design", "trial", "step"]
    return frame[first + [c for c in frame.columns if c not in first]]


def bottleneck_recall(
    token_dim: int = 128,
    memory_dims: Iterable[int] = (8, 16, 32, 64, 128, 256),
    designs: Iterable[str] = ("frozen", "readout"),
    n_items: int = 50,
    n_heldout: int = 50,
    steps: int = 50,
    trials: int = 16,
    seed: int = 0,
    *,
    rank: int = 8,
    noise: float = 0.5,
    memory_size: int = 100,
    beta: float = 1.0,
) -> pd.DataFrame:
    """Stored and held-out recall of :class:`~memnb.ProjectingEpisodicMemory` on pairs
    with a low-rank relation (:func:`memnb.data.low_rank_pairs`), for each internal
    dimension and design.

    ``n_items + n_heldout`` pairs of dimension ``token_dim`` are drawn per trial (value
    and key share ``rank`` latent dimensions, with relative ``noise``); the first
    ``n_heldout`` are held out. For each memory dimension and design a fresh memory (slot
    softmax ``beta``) is written ``steps`` times with the ``n_items`` stored pairs, then
    read:

    - ``tested="stored"``: each stored key; recalled when its read is closest by cosine to
      its own value among the stored values (the capacity score);
    - ``tested="heldout"``: each held-out key; recalled when its read is closest to the
      pair's own value among the held-out and the stored values (a read that is not
      finite is a miss).

    Returns one row per trial, setting and ``tested``, with columns ``trial, n_items,
    accuracy, mse, cosine, diverged, tested, chance`` (``1 / candidates``) and
    ``design, memory_dim, token_dim, rank, noise, steps, seed``.
    """
    token_dim = _validate.positive_int("token_dim", token_dim)
    inner, designs = sizes("memory_dims", memory_dims), _designs(designs)
    n_items = _validate.positive_int("n_items", n_items)
    n_heldout = _validate.positive_int("n_heldout", n_heldout)
    steps = _validate.positive_int("steps", steps)
    trials = _validate.positive_int("trials", trials)
    memory_size = _validate.positive_int("memory_size", memory_size)
    beta = _validate.positive_float("beta", beta)
    data_seed, memory_seed = child_seeds(seed, 2)
    keys, values = data.low_rank_pairs(
        n_items + n_heldout, token_dim, rank, noise, trials, seed=data_seed
    )
    held, stored = (keys[:, :n_heldout], values[:, :n_heldout]), (keys, values)
    stored = tuple(x[:, n_heldout:].contiguous() for x in stored)
    frames = []
    for m in inner:
        for design in designs:
            factory = partial(
                ProjectingEpisodicMemory,
                memory_dim=m,
                memory_size=memory_size,
                beta=beta,
                value_projection=design,
            )
            memory = build_memory(factory, dim=token_dim, trials=trials, seed=memory_seed)
            write(memory, *stored, steps)
            with torch.no_grad():
                reads = [read_all(memory, k, v.shape) for k, v in (stored, held)]
            frame = _heldout_frame(reads, stored[1], held[1])
            frames.append(frame.assign(design=design, memory_dim=m, steps=steps))
    frame = pd.concat(frames, ignore_index=True)
    return frame.assign(token_dim=token_dim, rank=rank, noise=noise, seed=seed)


def reduced_rank_recall(
    token_dim: int = 128,
    ranks: Iterable[int] = (8, 16, 32, 64, 128),
    n_items: int = 50,
    n_heldout: int = 50,
    trials: int = 16,
    seed: int = 0,
    *,
    rank: int = 8,
    noise: float = 0.5,
) -> pd.DataFrame:
    """The same pairs and scores as :func:`bottleneck_recall`, for the best linear map of
    each rank: a reference that learns its bottleneck instead of drawing it at random.

    The map is fitted in closed form on the ``n_items`` stored pairs: the least-squares
    matrix of least norm, ``M = pinv(K) V``, with its reads ``K M`` projected onto their
    top ``m`` principal directions (reduced-rank regression; for ``m >= token_dim`` the
    plain least-squares fit). Returns the frame of :func:`bottleneck_recall`, with
    ``design="least squares"``, ``memory_dim`` the rank ``m`` and ``steps`` 0 (no writes).
    """
    token_dim = _validate.positive_int("token_dim", token_dim)
    ranks = sizes("ranks", ranks)
    n_items = _validate.positive_int("n_items", n_items)
    n_heldout = _validate.positive_int("n_heldout", n_heldout)
    trials = _validate.positive_int("trials", trials)
    data_seed, _ = child_seeds(seed, 2)
    keys, values = data.low_rank_pairs(
        n_items + n_heldout, token_dim, rank, noise, trials, seed=data_seed, dtype=torch.float64
    )
    held_keys, held_values = keys[:, :n_heldout], values[:, :n_heldout]
    keys, values = keys[:, n_heldout:], values[:, n_heldout:]
    fit = torch.linalg.pinv(keys) @ values  # (T, token_dim, token_dim): read = k M
    directions = torch.linalg.svd(keys @ fit, full_matrices=False).Vh  # (T, r, token_dim)
    frames = []
    for m in ranks:
        top = directions[:, :m]
        mapped = fit @ top.transpose(-2, -1) @ top
        reads = [(k @ mapped).float() for k in (keys, held_keys)]
        frame = _heldout_frame(reads, values.float(), held_values.float())
        frames.append(frame.assign(design="least squares", memory_dim=m, steps=0))
    frame = pd.concat(frames, ignore_index=True)
    return frame.assign(token_dim=token_dim, rank=rank, noise=noise, seed=seed)


def _heldout_frame(
    reads: list[torch.Tensor], values: torch.Tensor, held_values: torch.Tensor
) -> pd.DataFrame:
    """Score the reads of the stored keys and of the held-out keys (see
    :func:`bottleneck_recall`): rows ``tested="stored"`` and ``tested="heldout"``."""
    stored_read, held_read = reads
    n, held = values.shape[-2], held_values.shape[-2]
    stored = score(stored_read, values, n).assign(tested="stored", chance=1 / n)
    frame = score(held_read, held_values, held)
    finite = torch.isfinite(held_read).all(dim=-1, keepdim=True)
    candidates = torch.cat([held_values, values], dim=-2)
    hits = metrics.nearest_neighbor_recall(torch.where(finite, held_read, 0.0), candidates)
    frame = frame.assign(
        n_items=n,
        accuracy=hits.double().mean(dim=-1).cpu().numpy(),
        tested="heldout",
        chance=1 / (n + held),
    )
    return pd.concat([stored, frame], ignore_index=True)


def _kept(
    built: list[ProjectingEpisodicMemory], token_dim: int, trials: int | None = None, **kwargs
) -> ProjectingEpisodicMemory:
    """A :class:`ProjectingEpisodicMemory`, also appended to ``built`` (to look at later)."""
    memory = ProjectingEpisodicMemory(token_dim, trials=trials, **kwargs)
    built.append(memory)
    return memory


def _sigma_min(memory: ProjectingEpisodicMemory) -> object:
    """Per-trial smallest singular value of ``P_V`` (numpy, ``(T,)``), NaN for a readout."""
    singular = memory.singular_values()
    return float("nan") if singular is None else singular[..., 0].cpu().numpy()


def _designs(designs: object) -> list[str]:
    """``designs`` as a non-empty list of names from :data:`DESIGNS`."""
    design = partial(_validate.one_of, options=DESIGNS)
    return _validate.sequence("designs", designs, design, f"names from {DESIGNS}", scalar=False)


def _trace_row(
    memory: ProjectingEpisodicMemory, keys: torch.Tensor, values: torch.Tensor
) -> pd.DataFrame:
    with torch.no_grad():
        read = memory(keys)
        loss = memory.loss(keys, values)
        projected = memory.project_values(values)
    finite = torch.isfinite(read).all(dim=-1, keepdim=True)
    scored = torch.where(finite, read, 0.0)  # a read that is not finite is a miss
    power = projected.pow(2).mean(dim=(-2, -1)) if projected is not None else None
    return pd.DataFrame(
        {
            "trial": range(keys.shape[0]),
            "loss": loss.double().cpu().numpy(),
            "value_power": float("nan") if power is None else power.double().cpu().numpy(),
            "accuracy": metrics.nearest_neighbor_recall(scored, values)
            .double()
            .mean(1)
            .cpu()
            .numpy(),
            "cosine": metrics.cosine(read, values).double().mean(1).cpu().numpy(),
            "diverged": (~(finite.all(dim=(-2, -1)) & torch.isfinite(loss))).cpu().numpy(),
        }
    )
