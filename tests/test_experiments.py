"""Experiments, theory, summaries, plots and widgets."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import pytest
import torch

import memnb
from memnb import DeltaRuleMemory, EpisodicMemory, MatrixAssociativeMemory, summaries, theory
from memnb.experiments import adaptation, sweep

F64 = torch.float64
COLUMNS = [
    "trial",
    "step",
    "mse",
    "cosine",
    "key_sq_norm",
    "diverged",
    "memory",
    "dim",
    "steps",
    "seed",
]


class SpyMemory(MatrixAssociativeMemory):
    """A Hebbian memory that records every read and write it is given."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.log = []

    def update(self, keys, values):
        self.log.append(("update", keys.clone(), values.clone()))
        return super().update(keys, values)

    def forward(self, queries):
        self.log.append(("read", queries.clone(), None))
        return super().forward(queries)


def spied_adaptation(**kwargs):
    spies = []

    def factory(dim, trials=None):
        spies.append(SpyMemory(dim, trials=trials))
        return spies[-1]

    frame = adaptation(factory, **kwargs)
    assert len(spies) == 1
    return frame, spies[0].log


# ---------------------------------------------------------------------------------------------
# adaptation


def test_adaptation_frame_layout():
    frame = adaptation(DeltaRuleMemory, steps=4, trials=3, dim=8, seed=5)
    assert list(frame.columns) == COLUMNS
    assert len(frame) == 3 * (4 + 1)
    assert sorted(frame["step"].unique()) == list(range(5))
    assert frame.groupby("step")["trial"].apply(sorted).tolist() == [[0, 1, 2]] * 5
    assert (frame["memory"] == "DeltaRuleMemory").all()
    assert (frame[["dim", "steps", "seed"]] == [8, 4, 5]).all().all()
    assert frame["diverged"].dtype == bool
    labelled = adaptation(DeltaRuleMemory, steps=1, trials=2, dim=4, label="delta")
    assert (labelled["memory"] == "delta").all()
    unlabelled = adaptation(partial(DeltaRuleMemory, lr=0.1), steps=1, trials=1, dim=4)
    assert (unlabelled["memory"] == "DeltaRuleMemory").all()


def test_adaptation_reads_before_the_first_write_and_writes_one_pair():
    steps, trials, dim = 3, 4, 6
    frame, log = spied_adaptation(steps=steps, trials=trials, dim=dim, seed=1)
    assert [event for event, _, _ in log] == ["read"] + ["update", "read"] * steps
    _, keys, values = log[1]
    assert keys.shape == values.shape == (trials, 1, dim)
    for event, k, v in log:
        torch.testing.assert_close(k, keys, rtol=0, atol=0)  # the same pair every time
        if event == "update":
            torch.testing.assert_close(v, values, rtol=0, atol=0)

    start = frame[frame["step"] == 0].sort_values("trial")
    expected_mse = values.pow(2).mean(dim=(1, 2)).double()  # M = 0 reads zero: |v|^2 / d
    np.testing.assert_allclose(start["mse"], expected_mse, rtol=1e-6)
    assert (start["cosine"] == 0).all()
    by_trial = frame.groupby("trial")["key_sq_norm"]
    assert (by_trial.nunique() == 1).all()
    np.testing.assert_allclose(by_trial.first(), keys.pow(2).sum(dim=(1, 2)).double(), rtol=1e-6)


def test_adaptation_is_reproducible():
    run = partial(adaptation, EpisodicMemory, steps=3, trials=4, dim=8)
    pd.testing.assert_frame_equal(run(seed=3), run(seed=3))
    assert not np.allclose(run(seed=3)["mse"], run(seed=4)["mse"])
    looped = partial(adaptation, lambda dim: EpisodicMemory(dim, memory_size=8), steps=2, trials=3)
    pd.testing.assert_frame_equal(looped(dim=4, seed=1), looped(dim=4, seed=1))


def test_adaptation_leaves_the_global_generator_alone():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    adaptation(EpisodicMemory, steps=1, trials=2, dim=4)
    torch.testing.assert_close(torch.rand(3), expected)


def test_adaptation_flags_divergence_without_raising():
    big = adaptation(partial(DeltaRuleMemory, lr=1e3), steps=50, trials=4, dim=32)
    assert big["diverged"].all()
    assert not np.isfinite(big[big["step"] == 50]["mse"]).any()
    assert np.isfinite(big[big["step"] == 0]["mse"]).all()
    for factory in (DeltaRuleMemory, EpisodicMemory, MatrixAssociativeMemory):
        frame = adaptation(factory, steps=10, trials=4, dim=32)
        assert not frame["diverged"].any()
        assert np.isfinite(frame["mse"]).all()


def test_adaptation_kind():
    frame = adaptation(DeltaRuleMemory, steps=1, trials=5, dim=9, kind="binary")
    assert (frame["key_sq_norm"] == 9).all()
    frame = adaptation(DeltaRuleMemory, steps=1, trials=5, dim=9, kind="unit")
    np.testing.assert_allclose(frame["key_sq_norm"], 1, rtol=1e-6)
    # Default lr = 1/dim with binary keys (|k|^2 = dim) writes the pair in one step.
    frame = adaptation(DeltaRuleMemory, steps=1, trials=5, dim=9, kind="binary")
    assert frame[frame["step"] == 1]["mse"].max() < 1e-10


# ---------------------------------------------------------------------------------------------
# theory


def start_mse(frame: pd.DataFrame, by=("memory", "trial")) -> np.ndarray:
    start = frame[frame["step"] == 0].set_index(list(by))["mse"]
    return np.asarray(frame.set_index(list(by)).index.map(start), dtype=float)


@pytest.mark.parametrize("lr", [0.01, 0.03, 0.06])  # lr |k|^2 < 2: the error shrinks
def test_delta_rule_theory_matches_a_float64_run(lr):
    frame = adaptation(partial(DeltaRuleMemory, lr=lr, dtype=F64), steps=8, trials=6, dim=16)
    predicted = theory.delta_rule_adaptation(frame, lr)
    assert predicted.index.equals(frame.index)
    assert (np.abs(frame["mse"] - predicted) <= 1e-12 * start_mse(frame)).all()
    # The prediction is not trivially the measurement: a wrong lr misses.
    assert (np.abs(frame["mse"] - theory.delta_rule_adaptation(frame, 1.1 * lr)) > 1e-6).any()


def test_hebbian_theory_matches_a_float64_run():
    frame = adaptation(partial(MatrixAssociativeMemory, dtype=F64), steps=5, trials=6, dim=16)
    predicted = theory.hebbian_adaptation(frame)
    error = np.abs(frame["mse"] - predicted)
    # The Hebbian MSE grows like (t |k|^2)^2, so allow float64 rounding relative to it too.
    assert (error <= 1e-12 * start_mse(frame) + 1e-13 * predicted).all()
    assert predicted.iloc[-1] > 100 * predicted.iloc[0]


def test_delta_rule_theory_over_an_lr_sweep():
    lrs = [0.01, 0.03]
    factories = {lr: partial(DeltaRuleMemory, lr=lr, dtype=F64) for lr in lrs}
    frame = sweep(adaptation, factories, label="lr", steps=4, trials=3, dim=8)
    with pytest.raises(ValueError, match="memory.*trial"):
        theory.delta_rule_adaptation(frame, frame["lr"])  # one memory name for both lrs
    predicted = theory.delta_rule_adaptation(frame, frame["lr"], by=("lr", "trial"))
    error = np.abs(frame["mse"] - predicted)
    assert (error <= 1e-12 * start_mse(frame, by=("lr", "trial"))).all()


# ---------------------------------------------------------------------------------------------
# summaries


def curve_frame(curves: dict[str, list[list[float]]]) -> pd.DataFrame:
    """A frame from {memory: [trial 0's mse per step, trial 1's, ...]}."""
    rows = [
        {"memory": name, "trial": trial, "step": step, "mse": mse}
        for name, trials in curves.items()
        for trial, curve in enumerate(trials)
        for step, mse in enumerate(curve)
    ]
    return pd.DataFrame(rows)


def test_mean_curve():
    frame = curve_frame({"a": [[1.0, 0.5, 0.1], [3.0, 0.5, 0.3]], "b": [[2.0, 2.0, 2.0]]})
    curves = summaries.mean_curve(frame)
    assert curves.index.name == "step"
    assert list(curves.index) == [0, 1, 2]
    assert list(curves.columns) == ["a", "b"]
    np.testing.assert_allclose(curves["a"], [2.0, 0.5, 0.2])
    np.testing.assert_allclose(curves["b"], [2.0, 2.0, 2.0])
    pooled = summaries.mean_curve(frame, by=None)
    np.testing.assert_allclose(pooled["mse"], [4 / 3 + 2 / 3, 1.0, 2.4 / 3])


def test_steps_to_fraction():
    frame = curve_frame(
        {
            "fast": [[1.0, 0.05, 0.01], [1.0, 0.15, 0.01]],  # mean 0.1 at step 1: not below
            "slow": [[1.0, 0.5, 0.2, 0.09]],
            "never": [[1.0, 0.9, 0.8, 0.7]],
            "diverges": [[1.0, np.inf, np.inf, np.inf]],
        }
    )
    result = summaries.steps_to_fraction(frame, 0.1)
    assert result.dtype == "Int64"
    assert result["fast"] == 2
    assert result["slow"] == 3
    assert result["never"] is pd.NA
    assert result["diverges"] is pd.NA
    assert summaries.steps_to_fraction(frame, 0.95)["never"] == 1
    assert summaries.steps_to_fraction(frame, 0.5)["fast"] == 1


# ---------------------------------------------------------------------------------------------
# sweep


def test_sweep_stacks_frames_with_the_label():
    kwargs = {"steps": 2, "trials": 3, "dim": 4, "seed": 1}
    factories = {"hebbian": MatrixAssociativeMemory, "delta": DeltaRuleMemory}
    frame = sweep(adaptation, factories, **kwargs)
    assert len(frame) == 2 * 3 * 3
    assert list(frame["memory"].unique()) == ["hebbian", "delta"]
    assert frame.index.equals(pd.RangeIndex(len(frame)))
    alone = adaptation(DeltaRuleMemory, **kwargs)
    pd.testing.assert_frame_equal(
        frame[frame["memory"] == "delta"].drop(columns="memory").reset_index(drop=True),
        alone.drop(columns="memory"),
    )

    by_lr = sweep(adaptation, {0.1: partial(DeltaRuleMemory, lr=0.1)}, label="lr", **kwargs)
    assert (by_lr["lr"] == 0.1).all() and (by_lr["memory"] == "DeltaRuleMemory").all()


@pytest.mark.parametrize("factories", [{}, [], None])
def test_sweep_rejects_an_empty_or_missing_mapping(factories):
    with pytest.raises(ValueError, match="factories"):
        sweep(adaptation, factories, steps=1)


# ---------------------------------------------------------------------------------------------
# plots and widgets


def test_learning_curve_draws_lines():
    from matplotlib.axes import Axes

    from memnb import plots

    frame = sweep(
        adaptation,
        {"hebbian": MatrixAssociativeMemory, "delta": DeltaRuleMemory},
        steps=3,
        trials=4,
        dim=8,
    )
    ax = plots.learning_curve(frame, title="two memories")
    assert isinstance(ax, Axes)
    assert len(ax.lines) >= 2
    assert ax.get_yscale() == "log"
    assert ax.get_title() == "two memories"
    assert not any("diverged" in text.get_text() for text in ax.texts)
    assert {t.get_text() for t in ax.get_legend().get_texts()} >= {"hebbian", "delta"}
    assert plots.learning_curve(frame, logy=False).get_yscale() == "linear"


def test_learning_curve_draws_theory():
    from memnb import plots

    frame = adaptation(partial(DeltaRuleMemory, lr=0.02), steps=4, trials=4, dim=8)
    frame["mse_theory"] = theory.delta_rule_adaptation(frame, 0.02)
    ax = plots.learning_curve(frame, theory="mse_theory")
    theory_lines = [line for line in ax.lines if line.get_linestyle() == "--"]
    assert len(theory_lines) == 1
    expected = frame.groupby("step")["mse_theory"].mean()
    np.testing.assert_allclose(theory_lines[0].get_ydata(), expected.to_numpy())
    assert "theory" in {t.get_text() for t in ax.get_legend().get_texts()}


def test_learning_curve_marks_divergence():
    from memnb import plots

    frame = sweep(
        adaptation,
        {"stable": DeltaRuleMemory, "unstable": partial(DeltaRuleMemory, lr=1e3)},
        steps=50,
        trials=3,
        dim=32,
    )
    ax = plots.learning_curve(frame)
    marks = [text.get_text() for text in ax.texts if "diverged" in text.get_text()]
    assert len(marks) == 1 and marks[0].startswith("unstable: diverged")
    # The unstable curve stops early: its last drawn step is before the last step run.
    drawn = [line for line in ax.lines if len(line.get_xdata()) > 1]
    assert min(max(line.get_xdata()) for line in drawn) < 50
    assert max(max(line.get_xdata()) for line in drawn) == 50


def test_adaptation_figure():
    from matplotlib.figure import Figure

    from memnb import widgets

    for memory in widgets.ADAPTATION_MEMORIES:
        lr = 0.05 if memory in widgets.LEARNED else None
        fig = widgets.adaptation_figure(memory, lr=lr, dim=8, steps=3, trials=4)
        assert isinstance(fig, Figure)
        assert len(fig.axes) == 1 and len(fig.axes[0].lines) >= 1
        assert memory in fig.axes[0].get_title()
    with pytest.raises(ValueError, match="lr=0.05"):
        widgets.adaptation_figure("MatrixAssociativeMemory", lr=0.05, dim=8, steps=2)
    with pytest.raises(ValueError, match="'Nope'"):
        widgets.adaptation_figure("Nope", dim=8, steps=2)


def test_adaptation_explorer_shows_one_figure(monkeypatch):
    import ipywidgets
    from IPython.display import Image
    from matplotlib.figure import Figure

    from memnb import widgets

    shown = []
    monkeypatch.setattr(widgets, "display", lambda *objs, **kw: shown.extend(objs), raising=False)
    box = widgets.adaptation_explorer(dim=8, steps=2)
    assert isinstance(box, ipywidgets.VBox)
    box.live()
    live = box.children[0]
    outputs = [w for w in live.children if isinstance(w, ipywidgets.Output)]
    assert len(outputs) == 1
    controls = [c for w in live.children if isinstance(w, ipywidgets.Box) for c in w.children]
    assert {c.description for c in controls} >= {"memory", "lr", "dim", "steps"}
    # Outside a kernel a figure reaches either display() or the Output's own list.
    figures = [obj for obj in shown if isinstance(obj, Figure | Image)] + list(outputs[0].outputs)
    assert len(figures) == 1


def test_explorer_redraws_when_a_control_changes(monkeypatch):
    import ipywidgets
    import matplotlib.pyplot as plt

    from memnb import widgets

    monkeypatch.setattr(widgets, "display", lambda *objs, **kw: None, raising=False)
    calls = []

    def draw(n):
        calls.append(n)
        fig, ax = plt.subplots()
        ax.plot(range(n or 1))
        return fig

    slider = ipywidgets.IntSlider(value=3, min=1, max=10, description="n")
    box = widgets.explorer(draw, {"n": slider})
    assert calls == [3]
    slider.value = 5
    assert calls == [3, 5]
    assert isinstance(box, ipywidgets.VBox)
    assert slider in box.children[0].children
    slider.disabled = True  # a disabled control passes None at the next redraw
    slider.value = 6
    assert calls == [3, 5, None]


def test_explorer_starts_where_its_controls_can(monkeypatch):
    from memnb import widgets

    monkeypatch.setattr(widgets, "display", lambda *objs, **kw: None, raising=False)
    monkeypatch.setattr(widgets, "keys_figure", lambda **values: pytest.fail("drawn"))
    with pytest.raises(ValueError, match=r"context_dim.*one of \[16, 32, 64, 128, 256\].*\b8\b"):
        widgets.keys_explorer(context_dim=8)
    with pytest.raises(ValueError, match=r"steps.*between 1 and 50.*\b51\b"):
        widgets.keys_explorer(steps=51)


def test_lazy_modules():
    assert memnb.plots.learning_curve is not None
    assert memnb.widgets.adaptation_explorer is not None
    with pytest.raises(AttributeError, match="nonexistent"):
        memnb.nonexistent  # noqa: B018


def test_adaptation_explorer_learning_rate_follows_the_memory(monkeypatch):
    from memnb import widgets

    monkeypatch.setattr(widgets, "display", lambda *objs, **kw: None, raising=False)
    box = widgets.adaptation_explorer("DeltaRuleMemory", dim=8, steps=2)
    box.live()
    controls = {c.description: c for c in box.children[0].children[0].children}
    assert controls["lr"].value == pytest.approx(1 / 8)
    assert not controls["lr"].disabled
    controls["memory"].value = "MatrixAssociativeMemory"
    assert controls["lr"].disabled
    controls["memory"].value = "EpisodicMemory"
    assert not controls["lr"].disabled
    assert controls["lr"].value == pytest.approx(0.1)


def test_mean_curve_does_not_skip_nan():
    frame = pd.DataFrame(
        {
            "memory": ["m"] * 6,
            "trial": [0, 0, 0, 1, 1, 1],
            "step": [0, 1, 2, 0, 1, 2],
            "mse": [1.0, 0.05, 0.05, 1.0, float("nan"), float("nan")],
        }
    )
    assert summaries.mean_curve(frame)["m"].isna().tolist() == [False, True, True]
    assert summaries.steps_to_fraction(frame)["m"] is pd.NA
