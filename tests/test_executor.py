"""Sweeps on an executor (a thread pool, a Dask cluster) give the in-process frame."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest

import memnb
from memnb import experiments

FACTORIES = {
    "delta": memnb.DeltaRuleMemory,
    "hebbian": memnb.MatrixAssociativeMemory,
}
SETTINGS = {"steps": 5, "trials": 4, "dim": 8, "seed": 3}


@pytest.fixture(scope="module")
def in_process() -> pd.DataFrame:
    return experiments.sweep(experiments.adaptation, FACTORIES, **SETTINGS)


def test_thread_pool_gives_the_in_process_frame(in_process):
    with ThreadPoolExecutor(max_workers=2) as pool:
        frame = experiments.sweep(experiments.adaptation, FACTORIES, executor=pool, **SETTINGS)
    pd.testing.assert_frame_equal(frame, in_process)


def test_dask_local_cluster_gives_the_in_process_frame(in_process):
    distributed = pytest.importorskip(
        "dask.distributed", reason="dask[distributed] is not installed; the Dask test needs it"
    )
    # processes=False: the scheduler and worker live in this process and talk in memory,
    # so the test opens no network port and needs no pickling of the memories.
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        frame = experiments.sweep(
            experiments.adaptation, FACTORIES, executor=client.get_executor(), **SETTINGS
        )
    pd.testing.assert_frame_equal(frame, in_process)


def test_executor_must_be_an_executor():
    with pytest.raises(TypeError, match="executor must be a concurrent.futures.Executor"):
        experiments.sweep(experiments.adaptation, FACTORIES, executor="dask", **SETTINGS)
