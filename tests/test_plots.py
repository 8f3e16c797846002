"""The book's figures without seaborn: the theme and colours equal seaborn's, the curves
draw seaborn's pixels, and bars, heatmaps and points draw the means and BAND intervals."""

import subprocess
import sys

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from figures import pixels
from matplotlib.colors import to_rgb
from matplotlib.container import ErrorbarContainer

from memnb import plots


def _rc() -> dict:
    return {k: v for k, v in matplotlib.rcParams.items() if k != "backend"}


@pytest.mark.parametrize("start", ["default", "ggplot"])
def test_the_theme_sets_the_rcparams_seaborns_theme_sets(start):
    """Caught here: a seaborn whose whitegrid, notebook context or colour-blind palette
    changed. seaborn's "rocket" image colormap is the one setting left out (it exists
    only where seaborn is imported)."""
    import seaborn as sns

    def styled(theme) -> dict:
        matplotlib.rcdefaults()
        if start == "ggplot":  # a style that sets many of the same keys otherwise
            plt.style.use("ggplot")
        theme()
        return _rc()

    try:
        ours = styled(plots.set_theme)
        rc = {"figure.figsize": (6.4, 4.0), "figure.constrained_layout.use": True}
        seaborns = styled(lambda: sns.set_theme(style="whitegrid", palette="colorblind", rc=rc))
    finally:  # seaborn's theme also renames matplotlib's colour codes ("k": 0.1 grey)
        sns.reset_orig()
        sns.set_color_codes("reset")
        matplotlib.rcdefaults()
    differ = sorted(k for k in ours if ours[k] != seaborns[k])
    assert differ == ["image.cmap"] and seaborns["image.cmap"] == "rocket"
    assert set(plots.THEME) <= set(ours)


def test_the_colours_are_seaborns():
    import seaborn as sns

    for n in (1, 3, 6, 10, 13):
        assert plots._palette("colorblind", n) == list(sns.color_palette("colorblind", n))
        assert plots._palette("viridis", n) == list(sns.color_palette("viridis", n))
        assert plots._dark_palette(n) == list(sns.color_palette("dark:k", n))
    assert plots._capacity_palette(12) == list(sns.color_palette("viridis", 12))
    colours = sns.color_palette("colorblind")
    assert [plots.MEMORY_COLOURS[m] for m in ("EpisodicMemory", "AttentionMemory")] == [
        colours[0],
        colours[4],
    ]
    for colour in colours:
        assert np.allclose(plots._desaturate(colour, 0.75), sns.desaturate(colour, 0.75))


def test_plots_and_widgets_import_and_draw_without_seaborn_or_scipy():
    code = (
        "import sys\n"
        "import matplotlib\n"
        "matplotlib.use('agg')\n"
        "import numpy as np, pandas as pd\n"
        "from memnb import plots, widgets\n"
        "plots.set_theme()\n"
        "f = pd.DataFrame({'step': np.repeat([0, 1, 2], 4), 'mse': np.arange(12.0) + 1,\n"
        "                  'memory': ['a', 'b'] * 6, 'chance': 0.5, 'target': 'A',\n"
        "                  'cosine': np.linspace(0, 1, 12)})\n"
        "plots.sweep_curve(f, 'step', 'mse')\n"
        "plots.learning_curve(f)\n"
        "plots.probe_strip(f)\n"
        "plots.accuracy_heatmap(np.ones((2, 3, 3)))\n"
        "f = f.assign(acc_A1=1.0, acc_A2=0.5, acc_B=0.9)\n"
        "plots.task_accuracies(f).figure.canvas.draw()\n"
        "print(*[m for m in ('seaborn', 'scipy') if m in sys.modules])\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == ""


def _sweep() -> pd.DataFrame:
    """Three memories at four settings, five trials each; one value missing, one memory
    missing at the last setting."""
    gen = np.random.default_rng(2)
    frame = pd.DataFrame(
        [
            {"memory": m, "setting": s, "trial": t, "part": p, "y": gen.random() + i}
            for i, m in enumerate(("EpisodicMemory", "DeltaRuleMemory", "AttentionMemory"))
            for s in (1, 2, 4, 8)
            for t in range(5)
            for p in ("in", "out")
            if not (m == "AttentionMemory" and s == 8)
        ]
    )
    frame.loc[7, "y"] = np.nan
    return frame


CASES = {
    "hue": (dict(hue="memory"), dict(hue="memory")),
    "palette": (
        dict(hue="memory", palette=plots.MEMORY_COLOURS),
        dict(hue="memory", palette=plots.MEMORY_COLOURS),
    ),
    "order": (
        dict(hue="memory", order=["DeltaRuleMemory", "EpisodicMemory", "AttentionMemory"]),
        dict(hue="memory", hue_order=["DeltaRuleMemory", "EpisodicMemory", "AttentionMemory"]),
    ),
    "markers": (
        dict(hue="memory", style="memory", markers=True),
        dict(hue="memory", style="memory", markers=True, dashes=False),
    ),
    "hue and style": (dict(hue="memory", style="part"), dict(hue="memory", style="part")),
    "style alone": (dict(hue=None, style="part"), dict(style="part")),
    "no legend": (dict(hue="memory", legend=False), dict(hue="memory", legend=False)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_hue_lines_draw_what_seaborns_lineplot_draws(case):
    import seaborn as sns

    frame = _sweep()
    ours_kw, seaborn_kw = CASES[case]
    line = dict(marker="o", markersize=4)

    def ours(ax):
        plots._hue_lines(ax, frame, "setting", "y", **ours_kw, **line)
        ax.plot([1, 8], [0, 3])  # the colour cycle has moved on as seaborn's does

    def seaborns(ax):
        sns.lineplot(data=frame, x="setting", y="y", errorbar=plots.BAND, ax=ax,
                     **seaborn_kw, **line)  # fmt: skip
        ax.plot([1, 8], [0, 3])

    assert np.array_equal(pixels(ours), pixels(seaborns))


def test_a_sweep_curve_by_memory_draws_what_seaborn_draws():
    import seaborn as sns

    frame = _sweep()

    def seaborns(ax):
        sns.lineplot(data=frame, x="setting", y="y", hue="memory", palette=plots.MEMORY_COLOURS,
                     errorbar=plots.BAND, marker="o", markersize=4, ax=ax)  # fmt: skip
        ax.set_xlabel("setting")
        ax.set_ylabel("y")

    ours = pixels(lambda ax: plots.sweep_curve(frame, "setting", "y", ax=ax))
    assert np.array_equal(ours, pixels(seaborns))


def test_a_profile_curve_draws_the_means_and_bands_in_the_memorys_colour():
    frame = _sweep()
    fig, ax = plt.subplots()
    names = ["EpisodicMemory", "DeltaRuleMemory", "AttentionMemory"]
    palette = dict(zip(names, ["C3", "C4", "C5"], strict=True))
    plots._hue_lines(ax, frame, "setting", "y", "memory", palette=palette, legend=False)
    assert ax.get_legend() is None and len(ax.collections) == 3  # one band per memory
    for line, (name, part) in zip(ax.lines, frame.groupby("memory", sort=False), strict=True):
        means = part.groupby("setting")["y"].mean()
        np.testing.assert_allclose(line.get_ydata(), means.to_numpy())
        assert line.get_color() == palette[name]
    edge = ax.collections[0].get_paths()[0].vertices[:, 1]
    first = frame[frame["memory"] == "EpisodicMemory"].groupby("setting")["y"]
    for low, high in (plots.BAND(np.sort(values)) for _, values in first):  # as drawn
        assert np.isclose(edge, low).any() and np.isclose(edge, high).any()
    plt.close(fig)


def test_task_accuracies_draw_the_mean_bars_and_their_bands():
    gen = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "memory": np.repeat(["a", "b"], 6),
            "acc_A1": gen.random(12),
            "acc_A2": gen.random(12),
            "acc_B": gen.random(12),
            "chance": 0.1,
        }
    )
    ax = plots.task_accuracies(frame)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        *plots.TWO_TASKS.values(),
        "chance",
    ]
    cycle = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (container, column) in enumerate(zip(ax.containers, plots.TWO_TASKS, strict=True)):
        means = frame.groupby("memory")[column].mean().to_numpy()
        np.testing.assert_allclose([bar.get_width() for bar in container], means)
        assert np.allclose(container[0].get_facecolor()[:3], plots._desaturate(cycle[i], 0.75))
        bars = ax.collections[i].get_segments()  # one LineCollection per column
        bands = [plots.BAND(part) for _, part in frame.groupby("memory")[column]]
        np.testing.assert_allclose([[s[0][0], s[1][0]] for s in bars], bands)
    assert len(ax.patches) == 6  # two rows of three bars; no legend patches
    plt.close(ax.figure)


def test_heatmaps_draw_the_means_in_cells_with_their_values():
    matrix = np.random.default_rng(4).random((3, 2, 2))
    ax = plots.accuracy_heatmap(matrix, title="t")
    mean = matrix.mean(axis=0)
    (mesh,) = ax.collections
    np.testing.assert_allclose(mesh.get_array().reshape(2, 2), mean)
    assert mesh.get_cmap().name == "viridis" and mesh.norm.vmin == 0 and mesh.norm.vmax == 1
    assert [t.get_text() for t in ax.texts] == [f"{v:.2f}" for v in mean.ravel()]
    assert [t.get_position() for t in ax.texts] == [(0.5, 0.5), (1.5, 0.5), (0.5, 1.5), (1.5, 1.5)]
    assert ax.get_ylim() == (2, 0) and ax.figure.axes[-1].get_ylabel() == "mean accuracy"
    plt.close(ax.figure)

    frame = pd.DataFrame({"memory_dim": [4, 4, 8, 8], "token_dim": 16, "accuracy": [0, 1, 1, 1.0]})
    ax = plots.dimension_heatmap(frame)
    assert [t.get_text() for t in ax.texts] == ["0.50", "1.00"]
    assert [t.get_color() for t in ax.texts] == ["w", ".15"]  # dark cell, light cell
    assert [t.get_text() for t in ax.get_xticklabels()] == ["4", "8"]
    plt.close(ax.figure)


def test_a_probe_strip_draws_each_trial_and_the_means_with_their_bands():
    gen = np.random.default_rng(5)
    frame = pd.DataFrame(
        [
            {"memory": m, "target": t, "trial": k, "cosine": gen.random()}
            for m in ("a", "b")
            for t in ("A", "C", "B")
            for k in range(6)
        ]
    )
    ax = plots.probe_strip(frame, title="t")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["A", "C", "B"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    dots = [c for c in ax.collections if c.get_label() in ("a", "b")]
    assert [len(c.get_offsets()) for c in dots] == [18, 18]
    points = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    for (line, _, (bars,)), (name, part) in zip(points, frame.groupby("memory"), strict=True):
        by = part.groupby("target", sort=False)["cosine"]
        assert line.get_marker() == "D"
        np.testing.assert_allclose(line.get_ydata(), by.mean().to_numpy())
        np.testing.assert_allclose(line.get_xdata(), np.arange(3) + (0.2 if name == "b" else -0.2))
        bands = [plots.BAND(values) for _, values in by]
        np.testing.assert_allclose([s[:, 1] for s in bars.get_segments()], bands)
    assert [to_rgb(c[0].get_color()) for c in points] == plots._dark_palette(2)
    plt.close(ax.figure)


def test_axis_labels_follow_the_tick_labels_as_formatting_them_would():
    fig = plt.figure()
    grid = fig.subplots(2, 2, sharex=True, sharey=True)  # inner tick labels hidden
    single = fig.add_subplot(3, 3, 5)
    single.plot(["a", "b"], [1, 40])  # categorical x
    single.set_yscale("log", base=2)
    bare = fig.add_subplot(3, 3, 9)
    bare.plot([1, 2], [3, 4])
    bare.xaxis.set_major_locator(matplotlib.ticker.NullLocator())  # no ticks at all
    bare.tick_params(labelleft=False, labelright=True)  # labels on the other side
    moved = fig.add_subplot(3, 3, 1)
    moved.plot([1, 2], [3, 4])
    moved.tick_params(labelbottom=False, labelleft=False)
    for ax in grid.flat:
        ax.plot([1, 2, 40], [3, 5, 1])
    cases = {
        grid[0, 0]: (False, True),
        grid[1, 1]: (True, False),
        single: (True, True),
        bare: (False, True),
        moved: (False, False),
    }
    for ax, expected in cases.items():
        seen = (plots._labels_shown(ax.xaxis), plots._labels_shown(ax.yaxis))
        formatted = tuple(
            any(t.get_visible() for t in a.get_ticklabels()) for a in (ax.xaxis, ax.yaxis)
        )
        assert seen == formatted == expected
    plt.close(fig)
