"""Misbehaving reader memories, built from parts by hypothesis, through every protocol.

Each memory is a delta-rule matrix, as a reader would write it, with one fault: NaN or
inf in its state from a random write on, state that grows by a factor at every write, a
read of the wrong shape at a random call, an exception in ``update`` or ``__call__`` at a
random call, a read that is not a tensor, or a read in another dtype. Every protocol of
the battery, and the battery itself, must meet each with a clear error (one line that
names the class) or a recorded divergence; none may end with a finite headline read from
reads that were not finite.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import memnb
from memnb import battery, experiments

DIM = 8
WRITES = 3  # every protocol below writes at least this often before its last read
TINY = {
    "adaptation": dict(steps=4, trials=2, dim=DIM),
    "capacity": dict(n_items=(2, 4), steps=3, trials=2, dim=DIM),
    "forgetting": dict(steps=3, trials=2, dim=DIM, n_train=4, n_test=4, clusters=2),
    "dimensions": dict(dims=(4, DIM), n_items=4, steps=3, trials=2),
    "contiguity": dict(trials=2, dim=DIM, steps=3),
    "cue_noise": dict(
        trials=2,
        gaussian=dict(n_items=4, steps=3, dim=DIM, cue_noise=(0, 0.5)),
        flip=dict(n_patterns=2, dim=DIM, noise=(0, 0.25)),
    ),
}
RUNS = {
    "adaptation": lambda f: experiments.adaptation(f, **TINY["adaptation"]),
    "capacity": lambda f: experiments.capacity(f, **TINY["capacity"]),
    "forgetting": lambda f: experiments.forgetting(f, **TINY["forgetting"]),
    "dimensions": lambda f: experiments.token_dimensions(f, **TINY["dimensions"]),
    "contiguity": lambda f: experiments.probe(f, **TINY["contiguity"]),
    "cue_noise": lambda f: battery.cue_noise(f, **TINY["cue_noise"]),
}

FAULTS = st.one_of(
    st.tuples(st.just("nan"), st.integers(1, WRITES)),
    st.tuples(st.just("inf"), st.integers(1, WRITES)),
    st.tuples(st.just("growth"), st.sampled_from([2.0, 1e6, 1e20])),
    st.tuples(st.just("shape"), st.integers(1, 4)),
    st.tuples(st.just("raise in update"), st.integers(1, 4)),
    st.tuples(st.just("raise in call"), st.integers(1, 4)),
    st.tuples(st.just("not a tensor"), st.sampled_from(["numpy", "list", "tuple"])),
    st.tuples(
        st.just("dtype"),
        st.sampled_from([torch.float16, torch.bfloat16, torch.float64, torch.int32]),
    ),
)


def broken_memory(fault: tuple[str, object], trials: bool) -> type:
    """A reader's delta-rule memory with ``fault``; ``trials``: it takes ``trials=T``."""
    kind, arg = fault

    class Broken:
        fired = False  # did the fault happen in some run

        def __init__(self, dim: int, trials: int | None = None) -> None:
            shape = (dim, dim) if trials is None else (trials, dim, dim)
            self.matrix = torch.zeros(shape)
            self.writes = self.reads = 0

        def update(self, keys: torch.Tensor, values: torch.Tensor) -> None:
            self.writes += 1
            if kind == "raise in update" and self.writes >= arg:
                raise RuntimeError(f"update {self.writes} failed")
            norms = keys.pow(2).sum(-1, keepdim=True)
            error = values - keys @ self.matrix.transpose(-2, -1)
            self.matrix = self.matrix + 0.5 * error.transpose(-2, -1) @ (keys / norms)
            if kind in ("nan", "inf") and self.writes >= arg:
                self.matrix[..., 0, 0] = float(kind)
                type(self).fired = True
            if kind == "growth":
                self.matrix = self.matrix * arg

        def __call__(self, queries: torch.Tensor) -> object:
            self.reads += 1
            out = queries @ self.matrix.transpose(-2, -1)
            if kind == "raise in call" and self.reads >= arg:
                raise KeyError("the read failed")
            if kind == "shape" and self.reads >= arg:
                return out[..., 1:]
            if kind == "not a tensor":
                return {"numpy": out.numpy(), "list": out.tolist(), "tuple": tuple(out)}[arg]
            if kind == "dtype":
                return out.to(arg)
            return out

    if not trials:  # a class that takes no trials: the experiments build one per trial

        class BrokenSingle(Broken):
            def __init__(self, dim: int) -> None:
                super().__init__(dim)

        BrokenSingle.__name__ = BrokenSingle.__qualname__ = "Broken"
        return BrokenSingle
    return Broken


def check_error(error: Exception) -> None:
    """A clear error: a memnb protocol error, or a TypeError or ValueError, on one line,
    naming the reader's class."""
    message = str(error)
    assert isinstance(error, memnb.ProtocolError | TypeError | ValueError), repr(error)
    assert message and "\n" not in message, message
    assert "Broken" in message, message


def check_frame(frame, cls: type) -> None:
    """A fault that put NaN or inf in the state is recorded in every trial."""
    if cls.fired:
        assert frame["diverged"].all(), "a NaN or inf in the state went unrecorded"


FUZZ = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


@pytest.mark.filterwarnings("ignore::memnb.LowPrecisionRead")
@FUZZ
@given(fault=FAULTS, trials=st.booleans(), protocol=st.sampled_from(list(RUNS)))
def test_every_protocol_meets_a_broken_memory_with_an_error_or_a_divergence(
    fault, trials, protocol
):
    cls = broken_memory(fault, trials)
    try:
        frame = RUNS[protocol](cls)
    except Exception as error:  # noqa: BLE001 (what was raised is the test)
        check_error(error)
        return
    check_frame(frame, cls)


@FUZZ
@given(fault=FAULTS, trials=st.booleans())
def test_the_battery_never_scores_what_a_broken_memory_did_not_earn(fault, trials):
    cls = broken_memory(fault, trials)
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(battery.SETTINGS, True, TINY)
        try:
            profile = battery.profile(cls, quick=True)
        except Exception as error:  # noqa: BLE001
            check_error(error)
            return
    for protocol, key in battery.HEADLINE_OF.items():
        rows = profile.frame[profile.frame["protocol"] == protocol]
        bad = rows.loc[rows["diverged"].astype(bool), "trial"].nunique()
        value, note = profile.summary[key], profile.notes.get(key, "")
        if bad == 0:
            assert key not in profile.diverged
            continue
        assert note and profile.diverged[key] in note
        share = 1 - bad / rows["trial"].nunique()
        if share < battery.FINITE_SHARE:
            assert math.isnan(value) and note.startswith("diverged in"), (key, note)
        elif not math.isnan(value):
            assert "trials that stayed finite" in note
    if cls.fired:  # NaN or inf in the state before every protocol's last read
        assert set(profile.diverged) == set(battery.HEADLINES)
        assert all(math.isnan(v) for v in profile.summary.values())
    low = fault[0] == "dtype" and fault[1] in (torch.float16, torch.bfloat16)
    assert ("reads" in profile.notes) == low
    assert np.isfinite(profile.frame.select_dtypes("number").fillna(0).to_numpy()).any()
