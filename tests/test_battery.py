"""The battery: every protocol on an outside memory class, its checks and its executor."""

import math
import sys
from concurrent.futures import ThreadPoolExecutor

import matplotlib.figure
import pandas as pd
import pytest
import torch
from pandas.testing import assert_frame_equal

import memnb
from memnb import battery

KEYS = ("steps_to_90pct", "capacity_95", "forgetting", "dim_for_95", "successor_cosine")


class ReaderMemory:
    """A reader's memory with only update and __call__: a matrix written by SGD steps."""

    def __init__(self, dim: int, lr: float = 0.5) -> None:
        self.weight = torch.zeros(dim, dim)
        self.lr = lr

    def update(self, keys: torch.Tensor, values: torch.Tensor) -> None:
        error = keys @ self.weight.T - values
        self.weight -= self.lr * error.T @ keys / keys.shape[-1]

    def __call__(self, queries: torch.Tensor) -> torch.Tensor:
        return queries @ self.weight.T


class NoUpdate:
    def __init__(self, dim):
        self.dim = dim

    def __call__(self, queries):
        return queries


class NoRead:
    def __init__(self, dim):
        self.dim = dim

    def update(self, keys, values):
        pass


class WrongShape(ReaderMemory):
    def __call__(self, queries):
        return super().__call__(queries)[..., :-1]


class NaNRead(ReaderMemory):
    def __call__(self, queries):
        return torch.full_like(queries, float("nan"))


class NeverLearns(ReaderMemory):
    def update(self, keys, values):
        pass  # reads stay zero: no headline level is ever reached


@pytest.fixture(scope="module")
def reader() -> battery.Profile:
    return battery.profile(ReaderMemory, quick=True, label="reader")


def test_profile_runs_every_protocol(reader):
    assert battery.PROTOCOLS == ("adaptation", "capacity", "forgetting", "dimensions", "contiguity")
    assert list(reader.frame["protocol"].drop_duplicates()) == list(battery.PROTOCOLS)
    assert (reader.frame["memory"] == "reader").all() and reader.label == "reader"
    assert tuple(reader.summary) == KEYS
    assert all(isinstance(v, float) and math.isfinite(v) for v in reader.summary.values())
    assert 0 <= reader.summary["steps_to_90pct"] <= 20
    assert reader.summary["successor_cosine"] > 0.9
    for name in battery.PROTOCOLS:
        assert reader.protocol(name)["trial"].nunique() >= 8


def test_unreached_headlines_are_nan():
    never = battery.profile(NeverLearns, quick=True)
    s = never.summary
    assert math.isnan(s["steps_to_90pct"]) and math.isnan(s["capacity_95"])
    assert math.isnan(s["dim_for_95"]) and s["forgetting"] == 0.0
    table = battery.summary_table([never])
    assert "NaN" in table.attrs["note"] and "NeverLearns" in table.attrs["note"]


def test_diverged_forgetting_trials_are_noted(reader):
    delta = battery.profile(memnb.DeltaRuleMemory, quick=True)  # its step is too long here
    trials = delta.protocol("forgetting")
    assert trials["diverged"].all()
    assert delta.notes["forgetting"].startswith(f"{len(trials)} of {len(trials)} trials diverged")
    assert "forgetting" not in reader.notes and not reader.protocol("forgetting")["diverged"].any()
    table = battery.summary_table([delta])
    assert "DeltaRuleMemory: " + delta.notes["forgetting"] in table.attrs["note"]


def test_same_seed_same_profile(reader):
    again = battery.profile(ReaderMemory, quick=True, label="reader")
    assert_frame_equal(reader.frame, again.frame)
    assert again.summary == pytest.approx(reader.summary, nan_ok=True)
    other = battery.profile(ReaderMemory, quick=True, label="reader", seed=1)
    assert not reader.frame["mse"].equals(other.frame["mse"])


def test_thread_executor_matches_in_process(reader):
    with ThreadPoolExecutor(max_workers=3) as pool:
        threaded = battery.profile(ReaderMemory, quick=True, label="reader", executor=pool)
    assert_frame_equal(reader.frame, threaded.frame)
    batched = battery.profile(memnb.AttentionMemory, quick=True)
    with ThreadPoolExecutor(max_workers=5) as pool:
        threaded = battery.profile(memnb.AttentionMemory, quick=True, executor=pool)
    assert_frame_equal(batched.frame, threaded.frame)


def test_device_is_passed_or_moved_to():
    plain = battery.profile(memnb.AttentionMemory, quick=True)  # takes device=
    placed = battery.profile(memnb.AttentionMemory, quick=True, device="cpu")
    assert_frame_equal(plain.frame, placed.frame)
    module = battery.on_device(lambda d: torch.nn.Linear(d, d), torch.device("meta"))
    assert next(module(4).parameters()).device.type == "meta"  # moved with .to(device)
    takes = battery.on_device(memnb.MatrixAssociativeMemory, "meta")
    assert takes(4, trials=2).matrix.device.type == "meta"


@pytest.mark.parametrize(
    ("cls", "error", "words"),
    [
        (NoUpdate, TypeError, ["update(keys, values)", "NoUpdate"]),
        (NoRead, TypeError, ["__call__(queries)", "NoRead"]),
        (WrongShape, ValueError, ["shape (2, 4, 7)", "expected (2, 4, 8)"]),
        (NaNRead, ValueError, ["NaN"]),
    ],
)
def test_protocol_violations_fail_early_and_clearly(cls, error, words):
    with pytest.raises(error) as raised:
        battery.profile(cls, quick=True)
    for word in words:
        assert word in str(raised.value)


def test_bad_arguments():
    with pytest.raises(TypeError, match="factory must be callable"):
        battery.profile("ReaderMemory", quick=True)
    with pytest.raises(TypeError, match="executor"):
        battery.profile(ReaderMemory, quick=True, executor=object())
    with pytest.raises(ValueError, match="seed"):
        battery.profile(ReaderMemory, quick=True, seed=-1)


def test_progress_bar_needs_tqdm(monkeypatch, capsys):
    battery.profile(memnb.AttentionMemory, quick=True, progress=True)
    assert "protocol" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    with pytest.raises(ImportError, match="tqdm"):
        battery.profile(memnb.AttentionMemory, quick=True, progress=True)
    battery.profile(memnb.AttentionMemory, quick=True)  # no bar asked: no tqdm needed


def test_summary_table_and_figure(reader):
    attention = battery.profile(memnb.AttentionMemory, quick=True)
    table = battery.summary_table([reader, attention])
    assert table.shape == (2, 5) and list(table.index) == ["reader", "AttentionMemory"]
    assert list(table.attrs["keys"].values()) == list(KEYS)
    assert table.iloc[0].tolist() == pytest.approx([reader.summary[k] for k in KEYS])
    fig = reader.figure([attention])
    assert isinstance(fig, matplotlib.figure.Figure) and len(fig.axes) == len(battery.PROTOCOLS)
    alone = reader.figure()  # no references: one memory in every panel
    assert len(alone.axes) == len(battery.PROTOCOLS)
    with pytest.raises(ValueError, match="distinct labels"):
        reader.figure([reader])
    with pytest.raises(ValueError, match="at least one"):
        battery.summary_table([])


def test_reference_profiles_are_memnb_families():
    refs = battery.reference_profiles(quick=True)
    families = ["EpisodicMemory", "MatrixAssociativeMemory", "DeltaRuleMemory", "AttentionMemory"]
    assert [p.label for p in refs] == families
    assert set(families) <= set(memnb.memories.MEMORIES)  # read from the book's registry
    assert all(isinstance(p.frame, pd.DataFrame) and tuple(p.summary) == KEYS for p in refs)
