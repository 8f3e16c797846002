"""Embedding dimensions: recall against the token dimension and the memory's own dimension."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

import pandas as pd
import torch

from .. import _validate, data, metrics, theory
from ..memories import DeltaRuleMemory
from ..memories.projecting import DESIGNS, ProjectingEpisodicMemory
from ._build import Factory, child_seeds
from ._protocol import counts, sizes, written
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
    ``token_dim``) and ``memory_dim, design``.
    """
    tokens, inner = sizes("token_dims", token_dims), sizes("memory_dims", memory_dims)
    designs = _designs(designs)
    n_items = _validate.positive_int("n_items", n_items)
    memory_size = _validate.positive_int("memory_size", memory_size)
    frames = []
    for d in tokens:
        for m in inner:
            for design in designs:
                factory = partial(
                    ProjectingEpisodicMemory,
                    memory_dim=m,
                    memory_size=memory_size,
                    value_projection=design,
                )
                frame = capacity(
                    factory, [n_items], steps, trials, d, seed, label="ProjectingEpisodicMemory"
                )
                frames.append(frame.assign(memory_dim=m, design=design))
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
    trial was NaN or inf at some count) and ``token_dim, memory_dim``.
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
    frame = pd.concat(rows, ignore_index=True).assign(token_dim=token_dim, memory_dim=memory_dim)
    frame["diverged"] = frame.groupby(["design", "trial"])["diverged"].transform("any")
    first = ["design", "trial", "step"]
    return frame[first + [c for c in frame.columns if c not in first]]


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
