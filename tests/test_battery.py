"""The battery: every protocol on an outside memory class, its checks and its executor."""

import math
import pickle
import sys
from concurrent.futures import ThreadPoolExecutor

import matplotlib.figure
import pandas as pd
import pytest
import readers
import torch
from pandas.testing import assert_frame_equal

import memnb
from memnb import battery

KEYS = (
    "steps_to_90pct",
    "capacity_95",
    "forgetting",
    "dim_for_95",
    "successor_cosine",
    "cue_noise_95",
)


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
    assert battery.PROTOCOLS == (
        "adaptation",
        "capacity",
        "forgetting",
        "dimensions",
        "contiguity",
        "cue_noise",
    )
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
    assert note.startswith(f"diverged in {len(trials)} of {len(trials)} trials at tasks A then B")
    assert not reader.protocol("forgetting")["diverged"].any() and not reader.diverged
    table = battery.summary_table([blows])
    assert "Blows: " + note in table.attrs["note"]
    assert "forgetting" in table.attrs["diverged"]["Blows"]


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
    assert table.shape == (2, 3 * len(KEYS)) and list(table.index) == ["reader", "AttentionMemory"]
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


# ---------------------------------------------------------------------------------------------
# Broken reader memories: a divergence is a result, never a score; a bad read is one line.


@pytest.mark.parametrize("cls", [readers.Overflow, readers.LateNaN], ids=lambda c: c.__name__)
def test_a_memory_that_diverges_earns_no_headline(cls):
    broken = battery.profile(cls, quick=True)
    assert set(broken.diverged) == set(KEYS)
    for key, value in broken.summary.items():
        assert math.isnan(value) and math.isnan(value.low) and math.isnan(value.high), key
        note = broken.notes[key]
        assert note.startswith(broken.diverged[key]) and "no score is quoted" in note, note
        protocol = battery.PROTOCOLS[KEYS.index(key)]
        trials = broken.protocol(protocol)["trial"].nunique()
        assert f"diverged in {trials} of {trials} trials at " in note
    first = "write 2 of 20" if cls is readers.Overflow else "write 4 of 20"
    assert broken.diverged["steps_to_90pct"].endswith(first)
    text = battery.summary_text([broken])
    assert set(text.iloc[0]) == {"diverged"}
    table = battery.summary_table([broken])
    assert table.isna().all().all() and table.attrs["diverged"][cls.__name__] == list(KEYS)


def test_some_diverged_trials_are_left_out_and_said():
    profile = battery.profile(ReaderMemory, quick=True, label="reader")
    frames = {p: profile.protocol(p) for p in battery.PROTOCOLS}
    capacity = frames["capacity"]
    broken = capacity["trial"] == 0  # one trial of eight breaks at every N
    frames["capacity"] = capacity.assign(
        diverged=broken, accuracy=capacity["accuracy"].where(~broken, 1.0)
    )
    summary, notes = battery._headlines(frames, battery.SETTINGS[True], seed=0)
    honest, _ = battery._headlines(
        {**frames, "capacity": capacity[~broken]}, battery.SETTINGS[True], seed=0
    )
    assert summary["capacity_95"] == honest["capacity_95"]  # the broken trial is not read
    assert "diverged in 1 of 8 trials at N = 4" in notes["capacity_95"]
    assert "read from the 7 trials that stayed finite" in notes["capacity_95"]
    frames["capacity"] = capacity.assign(diverged=capacity["trial"] < 3)  # 3 of 8: too many
    summary, notes = battery._headlines(frames, battery.SETTINGS[True], seed=0)
    assert math.isnan(summary["capacity_95"]) and "no score is quoted" in notes["capacity_95"]


def test_a_numpy_read_is_one_clear_line():
    with pytest.raises(memnb.ProtocolError) as raised:
        battery.profile(readers.NumpyRead, quick=True)
    message = str(raised.value)
    assert isinstance(raised.value, TypeError) and "\n" not in message
    assert message == (
        "NumpyRead.__call__(queries) with queries of shape (4, 8) returned a numpy.ndarray; "
        "expected a torch.Tensor (torch.as_tensor converts it)"
    )


def test_a_float16_memory_is_scored_in_float32_and_said():
    half = battery.profile(readers.HalfPrecision, quick=True)
    assert not half.diverged
    assert half.notes["reads"].startswith(
        "the memory read in torch.float16; its reads were scored in torch.float32"
    )
    assert all(p in half.notes["reads"] for p in battery.PROTOCOLS)
    assert half.summary["successor_cosine"] > 0.9  # a delta rule: it learns in float16 too


def test_an_exception_in_update_is_one_clear_line():
    with pytest.raises(memnb.ProtocolError) as raised:
        battery.profile(readers.RaisesInUpdate, quick=True)
    assert str(raised.value) == (
        "RaisesInUpdate.update(keys, values) with keys of shape (4, 8) raised RuntimeError: "
        "my update is broken"
    )
    assert isinstance(raised.value.__cause__, RuntimeError)


def test_the_figure_marks_diverged_headlines(reader):
    broken = battery.profile(readers.Overflow, quick=True)
    figure = broken.figure([reader])
    texts = [t.get_text() for ax in figure.axes for t in ax.texts]
    texts += [t.get_text() for ax in figure.axes for t in ax.get_yticklabels()]
    for key in ("steps_to_90pct", "capacity_95", "dim_for_95", "cue_noise_95"):
        assert any(f"{key} diverged" in t for t in texts), key
    assert "diverged" in texts and any("successor_cosine diverged" in t for t in texts)
    clean = [t.get_text() for ax in reader.figure().axes for t in ax.texts]
    assert not any("diverged" in t for t in clean)


def test_cue_noise_is_gaussian_for_key_value_memories_and_flips_for_pattern_memories(reader):
    rows = reader.protocol("cue_noise")
    assert (rows["cues"] == "gaussian").all() and (rows["n_items"] == 8).all()
    assert sorted(rows["cue_noise"].unique()) == list(battery._GAUSSIAN["cue_noise"])
    assert "cue_noise_95" not in reader.notes  # the unit is in its name
    # The headline is where mean recall over the levels crosses 95 %.
    curve = rows.groupby("cue_noise")["accuracy"].mean()
    below = curve[curve < 0.95].index.min()
    above = curve[curve.index < below].index.max()
    assert above <= reader.summary["cue_noise_95"] <= below
    flips = battery.cue_noise(memnb.ModernHopfieldMemory, trials=4)
    assert (flips["cues"] == "flip").all() and flips["accuracy"].equals(flips["exact"])
    assert flips.groupby("cue_noise")["accuracy"].mean().iloc[0] == 1.0  # clean cues recalled
