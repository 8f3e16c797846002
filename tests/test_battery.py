"""The battery: every protocol on an outside memory class, its checks and its executor."""

import math
import pickle
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
    """A reader's memory with only update and __call__: a matrix written by SGD steps
    (each key's step scaled by its squared norm, so that the step suits any key scale)."""

    def __init__(self, dim: int, lr: float = 0.5) -> None:
        self.weight = torch.zeros(dim, dim)
        self.lr = lr

    def update(self, keys: torch.Tensor, values: torch.Tensor) -> None:
        error = keys @ self.weight.T - values
        self.weight -= self.lr * error.T @ (keys / keys.pow(2).sum(-1, keepdim=True))

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


class Blows(ReaderMemory):
    def __init__(self, dim: int) -> None:
        super().__init__(dim, lr=50.0)  # far too long a step: the weights overflow


@pytest.fixture(scope="module")
def reader() -> battery.Profile:
    return battery.profile(ReaderMemory, quick=True, label="reader")


def test_profile_runs_every_protocol(reader):
    assert battery.PROTOCOLS == ("adaptation", "capacity", "forgetting", "dimensions", "contiguity")
    assert list(reader.frame["protocol"].drop_duplicates()) == list(battery.PROTOCOLS)
    assert (reader.frame["memory"] == "reader").all() and reader.label == "reader"
    assert tuple(reader.summary) == KEYS
    assert all(isinstance(v, float) and math.isfinite(v) for v in reader.summary.values())
    for value in reader.summary.values():  # each number inside its 95 % interval
        assert isinstance(value, battery.Estimate) and value.low <= value <= value.high
    assert 0 <= reader.summary["steps_to_90pct"] <= 20
    assert reader.summary["successor_cosine"] > 0.9
    for name in battery.PROTOCOLS:
        assert reader.protocol(name)["trial"].nunique() >= 8


def test_unreached_headlines_are_nan():
    never = battery.profile(NeverLearns, quick=True)
    s = never.summary
    assert math.isnan(s["steps_to_90pct"]) and math.isnan(s["capacity_95"])
    assert math.isnan(s["dim_for_95"])
    for value in s.values():
        assert math.isnan(value.low) == math.isnan(value.high) == math.isnan(value)
    # It never learned A, so it forgets nothing: not a good score but no score at all.
    assert math.isnan(s["forgetting"]) and never.notes["forgetting"].startswith("not measurable")
    table = battery.summary_table([never])
    assert "NaN" in table.attrs["note"] and "NeverLearns" in table.attrs["note"]


def test_forgetting_is_the_chapters_protocol_and_needs_a_learned_task(reader):
    trials = reader.protocol("forgetting")
    assert (trials["kind"] == "clustered").all() and (trials["clusters"] == 4).all()
    assert (trials["chance"] == 1 / 8).all()  # two tasks of four cluster values each
    assert trials["acc_A1"].mean() > 1 / 8 + battery.LEARNED * (1 - 1 / 8)
    assert reader.summary["forgetting"] == pytest.approx(trials["forgetting"].mean())
    assert "forgetting" not in reader.notes


def test_diverged_forgetting_trials_are_noted(reader):
    blows = battery.profile(Blows, quick=True)
    trials = blows.protocol("forgetting")
    assert trials["diverged"].all() and math.isnan(blows.summary["forgetting"])
    note = blows.notes["forgetting"]
    assert note.startswith("not measurable") and f"{len(trials)} of {len(trials)} trials" in note
    assert not reader.protocol("forgetting")["diverged"].any()
    table = battery.summary_table([blows])
    assert "Blows: " + note in table.attrs["note"]


def test_identical_trials_have_intervals_of_no_width(reader):
    # Every trial a copy of trial 0: every resample of the trials gives the number itself.
    frames = {}
    for name in battery.PROTOCOLS:
        first = reader.protocol(name).query("trial == 0")
        frames[name] = pd.concat([first.assign(trial=t) for t in range(8)], ignore_index=True)
    summary, _ = battery._headlines(frames, battery.SETTINGS[True], seed=0)
    for key, value in summary.items():
        assert not math.isnan(value) and value.low == pytest.approx(value) == value.high, key


def test_estimate_is_a_float_with_its_interval():
    value = battery.Estimate(2.5, 1.0, 4.0)
    assert value == 2.5 and isinstance(value, float) and f"{value:.1f}" == "2.5"
    assert (value.low, value.high) == (1.0, 4.0) and str(value) == repr(value) == "2.5"
    again = pickle.loads(pickle.dumps(value))
    assert isinstance(again, battery.Estimate) and (again, again.low, again.high) == (2.5, 1, 4)
    assert math.isnan(battery.Estimate(3.0).low)
    with pytest.raises(ValueError, match="low must not exceed high"):
        battery.Estimate(2.0, 3.0, 1.0)


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
    assert table.shape == (2, 15) and list(table.index) == ["reader", "AttentionMemory"]
    assert list(table.attrs["keys"].values()) == list(KEYS)
    assert list(table.columns.levels[1]) == ["high", "low", "value"]
    row = table.loc["reader"].unstack()[["value", "low", "high"]].loc[list(table.attrs["keys"])]
    expected = [
        x for k in KEYS for x in (reader.summary[k], reader.summary[k].low, reader.summary[k].high)
    ]
    assert row.to_numpy().ravel().tolist() == pytest.approx(expected)
    fig = reader.figure([attention])
    assert isinstance(fig, matplotlib.figure.Figure) and len(fig.axes) == len(battery.PROTOCOLS)
    alone = reader.figure()  # no references: one memory in every panel
    assert len(alone.axes) == len(battery.PROTOCOLS)
    with pytest.raises(ValueError, match="distinct labels"):
        reader.figure([reader])
    with pytest.raises(ValueError, match="at least one"):
        battery.summary_table([])


def test_reference_profiles_are_memnb_families_at_their_tuned_settings():
    refs = battery.reference_profiles(quick=True)
    assert [p.label for p in refs] == list(battery.REFERENCES)
    assert set(battery.REFERENCES) <= set(memnb.memories.MEMORIES)  # the book's registry
    assert all(isinstance(p.frame, pd.DataFrame) and tuple(p.summary) == KEYS for p in refs)
    for p in refs:
        assert p.settings == battery.TUNED[p.label]
        assert not p.frame["diverged"].any(), p.label  # tuned references never diverge
        assert not math.isnan(p.summary["forgetting"]), p.label  # each learned A
    plain = battery.reference_profiles(quick=True, names=["DeltaRuleMemory"], tuned=False)
    assert plain[0].settings == {} and math.isnan(plain[0].summary["forgetting"])


def test_tuned_settings_are_stored_with_how_they_were_found():
    for name, settings in battery.TUNED.items():
        cls = memnb.memories.MEMORIES[name]
        grid = battery.REFERENCE_GRIDS.get(name, cls.hyperparameters)
        assert set(settings) == set(battery.PROTOCOLS), name
        for setting in settings.values():
            assert all(value in grid[key] for key, value in setting.items()), (name, setting)
    # The search that found them, re-run for one family and protocol.
    found = battery.tune_references("DeltaRuleMemory", protocols="forgetting")
    best = found["DeltaRuleMemory"]["forgetting"].best
    assert best == battery.TUNED["DeltaRuleMemory"]["forgetting"]
    # Linear attention: DPFP wins the dimension sweep, the identity map wins capacity.
    name, protocols = "LinearAttentionMemory", ("capacity", "dimensions")
    found = battery.tune_references(name, protocols=protocols)[name]
    for protocol, tuned in found.items():
        assert tuned.best == battery.TUNED[name][protocol], protocol


def test_settings_choose_the_factory_of_each_protocol():
    tuned = battery.profile(
        memnb.DeltaRuleMemory, quick=True, settings={"forgetting": {"lr": 1e-4}}
    )
    assert tuned.settings == {"forgetting": {"lr": 1e-4}}
    assert not math.isnan(tuned.summary["forgetting"])  # the default step never learns A
    with pytest.raises(ValueError, match="settings key must be one of"):
        battery.profile(memnb.DeltaRuleMemory, quick=True, settings={"speed": {}})
    with pytest.raises(TypeError, match=r"settings\['forgetting'\] must map keyword names"):
        battery.profile(memnb.DeltaRuleMemory, quick=True, settings={"forgetting": 3})
