"""The capacity chapter's figures of budgets and rankings: recall against state size and
capacity at defaults against capacity at the best setting."""

from functools import partial

import numpy as np
import pandas as pd
import pytest
from figures import pixels
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from memnb import plots, summaries
from memnb.experiments import capacity, sweep
from memnb.memories import AttentionMemory, MatrixAssociativeMemory, SlidingWindowMemory


def _at_one_n(n=16):
    """Recall of n pairs by a window of several sizes and by the attention store."""
    windows = {w: partial(SlidingWindowMemory, window=w) for w in (4, 8, 16)}
    frame = sweep(capacity, windows, label="window", n_items=[n], steps=1, trials=4, dim=8)
    store = capacity(AttentionMemory, [n], steps=1, trials=4, dim=8)
    return pd.concat([frame, store])


def test_state_size_curve_draws_one_line_per_memory_at_its_sizes():
    frame = _at_one_n()
    ax = plots.state_size_curve(frame, title="N = 16")
    assert isinstance(ax, Axes) and ax.get_xscale() == "log" and ax.get_title() == "N = 16"
    assert ax.get_xlabel().startswith("state size") and ax.get_ylabel() == plots.NEAREST
    curves = [line for line in ax.lines if line.get_linestyle() == "-"]  # not the error caps
    window = [line for line in curves if list(line.get_xdata()) == [64, 128, 256]]
    assert len(window) == 1  # window x (d + d) floats, d = 8
    held = frame[frame["memory"] == "SlidingWindowMemory"]
    expected = held.groupby("state_size")["accuracy"].mean()  # the mean over trials
    np.testing.assert_allclose(window[0].get_ydata(), expected.to_numpy())
    assert expected.is_monotonic_increasing  # a longer window holds more of the 16 pairs
    chance = [line for line in ax.lines if line.get_label() == "chance"]
    assert len(chance) == 1 and chance[0].get_ydata()[0] == pytest.approx(1 / 16)
    labels = {t.get_text() for t in ax.get_legend().get_texts()}
    assert {"SlidingWindowMemory", "AttentionMemory", "chance"} <= labels


def test_state_size_curve_cosine_criterion_has_no_chance_line():
    ax = plots.state_size_curve(_at_one_n(), "cosine_recall")
    assert ax.get_ylabel() == "recall, cosine >= 0.9"
    assert not [line for line in ax.lines if line.get_label() == "chance"]


def test_state_size_curve_rejects_several_n_and_missing_columns():
    frame = capacity(MatrixAssociativeMemory, [4, 8], steps=1, trials=2, dim=8)
    with pytest.raises(ValueError, match="one N"):
        plots.state_size_curve(frame)
    with pytest.raises(ValueError, match="state_size"):
        plots.state_size_curve(frame[frame["n_items"] == 4].drop(columns="state_size"))


def _ranking():
    curves = {
        ("a", "default"): [1.0, 0.9, 0.5, 0.2],
        ("a", "best"): [1.0, 1.0, 0.97, 0.6],
        ("b", "default"): [1.0, 1.0, 1.0, 1.0],
        ("b", "best"): [1.0, 1.0, 1.0, 1.0],
        ("c", "default"): [0.5, 0.2, 0.1, 0.1],
        ("c", "best"): [0.97, 0.9, 0.5, 0.2],
    }
    rows = [
        {"memory": m, "setting": s, "trial": t, "n_items": n, "accuracy": a}
        for (m, s), accs in curves.items()
        for t in range(3)
        for n, a in zip((4, 8, 16, 32), accs, strict=True)
    ]
    table = summaries.capacity_at(pd.DataFrame(rows), by=["memory", "setting"], ci=0.9, n_boot=20)
    return table.reset_index()


def test_capacity_ranking_marks_defaults_best_bounds_and_misses():
    table = _ranking()
    ax = plots.capacity_ranking(table, title="nearest")
    assert ax.get_xscale() == "log" and ax.get_title() == "nearest"
    # By capacity at the best setting, largest on top: b (a lower bound), a, c.
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "a", "c"]
    triangles = [line for line in ax.lines if line.get_marker() == "^" and len(line.get_xdata())]
    assert {float(line.get_xdata()[0]) for line in triangles} == {32.0}
    crosses = [line for line in ax.lines if line.get_marker() == "x" and len(line.get_xdata())]
    assert len(crosses) == 1  # c at its defaults: below the smallest N
    legend = {t.get_text() for t in ax.get_legend().get_texts()}
    assert {"at defaults", "at its best"} <= legend


def test_capacity_ranking_keeps_a_given_order_and_checks_its_table():
    table = _ranking()
    ax = plots.capacity_ranking(table, order=["c", "b", "a"])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["c", "b", "a"]
    with pytest.raises(ValueError, match="setting"):
        plots.capacity_ranking(table.assign(setting="tuned"))
    with pytest.raises(ValueError, match="low"):
        plots.capacity_ranking(table.drop(columns="low"))


@pytest.mark.parametrize("case", ["trials", "one per x", "unlabelled", "labelled axes"])
def test_mean_and_band_draws_what_seaborn_draws(case):
    """The curves of capacity and learning figures skip seaborn's machinery; the pixels
    must be seaborn's."""
    import seaborn as sns

    gen = np.random.default_rng(0)
    frame = pd.DataFrame({"n_items": np.repeat([4, 8, 16, 32], 6), "accuracy": gen.random(24)})
    if case == "one per x":
        frame = frame.drop_duplicates("n_items")
    label = None if case == "unlabelled" else "curve"
    second = frame.assign(accuracy=frame["accuracy"] / 2)
    line = dict(marker="o", markersize=4)

    def ours(ax):
        if case == "labelled axes":
            ax.set_ylabel("recall")
        plots._mean_and_band(ax, frame, "n_items", "accuracy", color="C0", label=label, **line)
        plots._mean_and_band(ax, second, "n_items", "accuracy", color="C1", label="2", **line)

    def seaborns(ax):
        if case == "labelled axes":
            ax.set_ylabel("recall")
        for data, colour, name in ((frame, "C0", label), (second, "C1", "2")):
            sns.lineplot(
                data=data, x="n_items", y="accuracy", errorbar=plots.BAND, ax=ax,
                color=colour, label=name, **line,
            )  # fmt: skip

    assert np.array_equal(pixels(ours, (3, 2)), pixels(seaborns, (3, 2)))


def _sweep_frame(dtype) -> pd.DataFrame:
    """A sweep of 5 trials at 4 settings, one value missing and all of step 10 (seaborn
    leaves missing rows out, so its curve joins steps 5 and 20)."""
    gen = np.random.default_rng(1)
    frame = pd.DataFrame({"step": np.repeat([0, 5, 10, 20], 5), "loss": gen.random(20)})
    frame["loss"] = frame["loss"].astype(dtype)
    frame.loc[3, "loss"] = np.nan
    frame.loc[10:14, "loss"] = np.nan
    return frame


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_sweep_curve_without_hue_draws_what_seaborn_draws(dtype):
    import seaborn as sns

    frame = _sweep_frame(dtype)

    def ours(ax):
        ax.plot([0, 20], [0, 1])  # a curve before: the colour cycle has moved on
        plots.sweep_curve(frame, "step", "loss", hue=None, ax=ax)

    def seaborns(ax):
        ax.plot([0, 20], [0, 1])
        sns.lineplot(
            data=frame, x="step", y="loss", errorbar=plots.BAND, marker="o", markersize=4, ax=ax
        )
        ax.set_xlabel("step")
        ax.set_ylabel("loss")

    assert np.array_equal(pixels(ours, (3, 2)), pixels(seaborns, (3, 2)))


def test_a_lag_crp_curve_draws_what_seaborn_draws():
    import seaborn as sns

    from memnb.data import HUMAN_STUDIES, human_lag_crp

    crps = {f"people, {study}": human_lag_crp(study) for study in HUMAN_STUDIES}
    model = _sweep_frame("float64").rename(columns={"step": "lag", "loss": "prob"})
    crps["model"] = model.assign(lag=model["lag"].map({0: -2, 5: 1, 10: 2, 20: 3}))
    assert any(crp["prob"].isna().any() for crp in crps.values())

    def seaborns(ax):  # the curve as seaborn's lineplot draws it
        palette = sns.color_palette("colorblind")
        for (name, crp), i in zip(crps.items(), (0, 1, 2), strict=True):
            near = crp[(crp["lag"].abs() <= 5) & (crp["lag"] != 0)]
            for side in (near[near["lag"] < 0], near[near["lag"] > 0]):
                sns.lineplot(
                    data=side, x="lag", y="prob", color=palette[i], marker="o",
                    errorbar=plots.BAND, ax=ax, label=name if side["lag"].iloc[0] > 0 else None,
                )  # fmt: skip
        ax.set_xlabel("lag (serial positions from the previous recall)")
        ax.set_ylabel("conditional response probability")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(bottom=0)
        ax.legend(fontsize="small")

    ours = pixels(lambda ax: plots.lag_crp_curve(crps, ax=ax), (3, 2))
    assert np.array_equal(ours, pixels(seaborns, (3, 2)))
