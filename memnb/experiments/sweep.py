"""Run one experiment over several memories or settings and stack the frames."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import Executor

import pandas as pd

from .. import _validate
from ._build import Factory


def sweep(
    experiment: Callable[..., pd.DataFrame],
    factories: Mapping[object, Factory],
    *,
    label: str = "memory",
    executor: Executor | None = None,
    **kwargs: object,
) -> pd.DataFrame:
    """Run ``experiment(factory, **kwargs)`` for every factory and concatenate the frames.

    ``factories`` maps a label (a memory name, a learning rate, ...) to a factory; the
    label is stored in column ``label``. Every run gets the same ``kwargs``, seed
    included, so all settings see the same data.

    By default the runs happen one after another in this process (each run is itself
    batched over its trials). With ``executor`` (any :class:`concurrent.futures.Executor`,
    for example a thread pool or ``dask.distributed.Client(...).get_executor()``) every run
    is submitted as ``executor.submit(experiment, factory, **kwargs)`` and the results are
    gathered in the order of ``factories``; the frame is the same as the in-process one.
    On a process or cluster executor the experiment and the factories must be picklable
    (module-level functions and classes, ``functools.partial`` of them).
    """
    _validate.callable_("experiment", experiment, "an experiment function such as adaptation")
    if not isinstance(label, str):
        raise TypeError(f"label must be a str (a column name), got {label!r}")
    if not isinstance(factories, Mapping) or len(factories) == 0:
        raise ValueError(
            f"factories must be a non-empty mapping of label -> factory, got {factories!r}"
        )
    if executor is not None and not isinstance(executor, Executor):
        raise TypeError(
            "executor must be a concurrent.futures.Executor (or None to run in-process), "
            f"got {type(executor).__name__}"
        )
    if executor is None:
        frames = [experiment(factory, **kwargs) for factory in factories.values()]
    else:
        futures = [executor.submit(experiment, factory, **kwargs) for factory in factories.values()]
        frames = [future.result() for future in futures]
    if label in frames[0].columns and label != "memory":
        raise ValueError(
            f"label {label!r} is already a column of the experiment's frame; choose another name"
        )
    frames = [frame.assign(**{label: key}) for key, frame in zip(factories, frames, strict=True)]
    return pd.concat(frames, ignore_index=True)
