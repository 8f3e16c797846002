"""Adaptation speed: the error on one new pair after each of 0..steps single writes."""

from __future__ import annotations

import pandas as pd
import torch

from .. import _validate, data, metrics
from ._build import Factory, build_memory, child_seeds, label_of, place_like
from ._protocol import read, written


def adaptation(
    factory: Factory,
    steps: int = 20,
    trials: int = 16,
    dim: int = 32,
    seed: int = 0,
    *,
    kind: str = "gaussian",
    label: str | None = None,
) -> pd.DataFrame:
    """Write one novel pair ``steps`` times and record the read error after each write.

    Each trial has its own fresh memory and its own random pair ``(k, v)`` (``kind`` as in
    :func:`memnb.data.random_pairs`). Step 0 is the error before any write; step ``s``
    the error after ``s`` calls of ``update(k, v)`` with the same key (a batch of 1).
    All trials run as one batched memory when the factory accepts ``trials``.

    Returns a tidy frame, one row per trial and step, with columns ``trial, step, mse``,
    ``cosine`` (between the read and the target; 0 for a zero read),
    ``key_sq_norm`` (``|k|^2`` of the trial's key), ``diverged`` (the trial's error
    became NaN or inf), and the parameters ``memory, dim, steps, seed``.
    """
    steps = _validate.positive_int("steps", steps)
    trials = _validate.positive_int("trials", trials)
    dim = _validate.positive_int("dim", dim)
    data_seed, memory_seed = child_seeds(seed, 2)
    memory = build_memory(factory, dim=dim, trials=trials, seed=memory_seed)
    keys, values = place_like(memory, *data.random_pairs(1, dim, trials, seed=data_seed, kind=kind))
    errors = torch.empty(steps + 1, trials, dtype=torch.float64)
    cosines = torch.empty(steps + 1, trials, dtype=torch.float64)
    for step in written(memory, keys, values, range(steps + 1)):
        with torch.no_grad():
            retrieved = read(memory, keys, values.shape)
            errors[step] = (retrieved.double() - values.double()).pow(2).mean(dim=(1, 2)).cpu()
            cosines[step] = metrics.cosine(retrieved, values)[:, 0].cpu()
    diverged = (~torch.isfinite(errors)).any(dim=0)
    frame = pd.DataFrame(
        {
            "trial": torch.arange(trials).repeat(steps + 1).numpy(),
            "step": torch.arange(steps + 1).repeat_interleave(trials).numpy(),
            "mse": errors.reshape(-1).numpy(),
            "cosine": cosines.reshape(-1).numpy(),
            "key_sq_norm": keys.pow(2).sum(dim=(1, 2)).double().cpu().repeat(steps + 1).numpy(),
            "diverged": diverged.repeat(steps + 1).numpy(),
        }
    )
    return frame.assign(memory=label_of(factory, label), dim=dim, steps=steps, seed=seed)
