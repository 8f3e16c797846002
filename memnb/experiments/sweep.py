"""Run one experiment over several memories or settings and stack the frames."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pandas as pd

from ._build import Factory


def sweep(
    experiment: Callable[..., pd.DataFrame],
    factories: Mapping[object, Factory],
    *,
    label: str = "memory",
    **kwargs: object,
) -> pd.DataFrame:
    """Run ``experiment(factory, **kwargs)`` for every factory and concatenate the frames.

    ``factories`` maps a label (a memory name, a learning rate, ...) to a factory; the
    label is stored in column ``label``. Every run gets the same ``kwargs``, seed
    included, so all settings see the same data.
    """
    if not isinstance(factories, Mapping) or len(factories) == 0:
        raise ValueError(
            f"factories must be a non-empty mapping of label -> factory, got {factories!r}"
        )
    frames = [experiment(factory, **kwargs) for factory in factories.values()]
    if label in frames[0].columns and label != "memory":
        raise ValueError(
            f"label {label!r} is already a column of the experiment's frame; choose another name"
        )
    frames = [frame.assign(**{label: key}) for key, frame in zip(factories, frames, strict=True)]
    return pd.concat(frames, ignore_index=True)
