"""The explorers' two forms: a precomputed grid for pages without a kernel, live controls
in a kernel (memnb.widgets, see its module docstring)."""

from __future__ import annotations

import itertools

import ipywidgets
import matplotlib.pyplot as plt
import pandas as pd
import pytest
import torch

from memnb import experiments, widgets

# Each explorer: its function, the drawing function it calls, its controls and its grid.
EXPLORERS = {
    name: (
        getattr(widgets, f"{name}_explorer"),
        f"{name}_figure",
        getattr(widgets, f"{name.upper()}_CONTROLS"),
        getattr(widgets, f"{name.upper()}_GRID"),
    )
    for name in (
        "adaptation",
        "capacity",
        "completion",
        "dimensions",
        "forgetting",
        "keys",
        "sequences",
    )
}


def _labelled(calls: list[dict]):
    """A stand-in drawing function: a tiny figure whose title names its call."""

    def draw(**values):
        calls.append(values)
        fig, ax = plt.subplots(figsize=(1.5, 1))
        ax.set_title(str(len(calls)))
        return fig

    return draw


def _grid_form(box):
    row, figures, note = box.children
    return list(row.children), figures, note


def _images(stack) -> list:
    """The stack's images, in order (nested stacks flattened)."""
    found = []
    for child in stack.children:
        found.extend(_images(child) if isinstance(child, ipywidgets.Stack) else [child])
    return found


@pytest.mark.parametrize("name", EXPLORERS)
def test_the_page_without_a_kernel_gets_a_small_grid_of_stored_figures(monkeypatch, name):
    make, figure, declared, grid = EXPLORERS[name]
    calls: list[dict] = []
    monkeypatch.setattr(widgets, figure, _labelled(calls))
    box = make()
    controls, figures, note = _grid_form(box)

    # Only the grid controls, each offering the grid's values (the start included).
    assert [c.description for c in controls] == [declared[n].label for n in grid]
    assert all("memnb-grid-control" in c._dom_classes for c in controls)
    axes = [[value for _, value in c.options] for c in controls]
    for values, wanted in zip(axes, grid.values(), strict=True):
        assert set(wanted) <= set(values)
    assert 2 <= len(calls) == len(list(itertools.product(*axes))) <= widgets.MAX_GRID_FIGURES
    # Every setting is drawn once, in grid order, by the explorer's own drawing function;
    # its image is the PNG of that figure, a small one.
    images = _images(figures)
    assert len(images) == len(calls)
    for image, point, call in zip(images, itertools.product(*axes), calls, strict=True):
        assert [call[n] for n in grid] == list(point)
        assert bytes(image.value).startswith(b"\x89PNG") and len(image.value) < 60_000
    assert len({bytes(image.value) for image in images}) == len(images)
    # The shown figure is the one for the controls' values, and each control's index
    # drives, in the page, the stacks of its level.
    shown, flat = figures, 0
    for control, values in zip(controls, axes, strict=True):
        assert shown.selected_index == control.index
        shown, flat = shown.children[shown.selected_index], flat * len(values) + control.index
    assert shown is images[flat]
    linked = {(link.source[0].model_id, link.target[0].model_id) for link in box._links}
    stacks = [figures] + [s for s in figures.children if isinstance(s, ipywidgets.Stack)]
    for level, control in enumerate(controls):
        level_stacks = [stacks[0]] if level == 0 else stacks[1:]
        for stack in level_stacks:
            assert (control.model_id, stack.model_id) in linked
    # The static figure above the explorer is the stored image of the starting setting.
    points = list(itertools.product(*axes))
    at_start = points.index(tuple(c.value for c in controls))  # the controls start there
    assert box.static_figure().data == bytes(images[at_start].value)
    assert box._view_count == 0  # its views are counted: a live frontend reports itself
    assert "make lab" in note.value and f"{len(calls)} precomputed figures" in note.value
    assert box.grid_cpu_seconds > 0


def test_a_view_in_a_live_frontend_turns_the_grid_into_the_live_explorer(monkeypatch):
    calls: list[dict] = []
    monkeypatch.setattr(widgets, "capacity_figure", _labelled(calls))
    monkeypatch.setattr(widgets, "CAPACITY_GRID", {"memory": list(widgets.FAMILIES), "steps": [1]})
    shown = []
    monkeypatch.setattr(widgets, "display", lambda *objs, **kw: shown.extend(objs), raising=False)
    box = widgets.capacity_explorer(max_items=16, dim=8)
    controls, figures, _ = _grid_form(box)
    controls[1].value = 1  # the reader moved the steps before the kernel heard of a view
    grid = len(calls)
    box._view_count = 1  # what JupyterLab's widget manager sends when it shows the box
    live, note = box.children
    row, out = live.children
    assert {c.description for c in row.children} == {"memory", "N up to", "dim", "steps"}
    assert isinstance(out, ipywidgets.Output) and "any setting" in note.value
    values = {c.description: c.value for c in row.children}
    assert values["steps"] == 1 and values["N up to"] == 16 and values["dim"] == 8
    # That setting is on the grid: its stored image is shown at once, nothing is drawn.
    assert len(calls) == grid and len(shown) == 1
    stored = _images(figures)[controls[0].index * 2 + controls[1].index].value
    assert shown[0].data == bytes(stored)
    # The grid's widgets are closed; any other setting is drawn by the kernel.
    assert figures.comm is None and all(c.comm is None for c in controls)
    steps = {c.description: c for c in row.children}["steps"]
    steps.value = 7
    assert len(calls) == grid + 1 and calls[-1]["steps"] == 7
    assert shown[-1].data.startswith(b"\x89PNG")
    box._view_count = 2  # a second view changes nothing
    assert box.children == (live, note)


def test_the_grid_follows_the_learning_rate_as_the_live_slider_does(monkeypatch):
    calls: list[dict] = []
    monkeypatch.setattr(widgets, "adaptation_figure", _labelled(calls))
    widgets.adaptation_explorer("EpisodicMemory", lr=0.3, dim=8, steps=2)
    rates = {call["memory"]: call["lr"] for call in calls}
    assert rates == {
        "EpisodicMemory": 0.3,
        "MatrixAssociativeMemory": None,
        "DeltaRuleMemory": pytest.approx(1 / 8),
    }


def test_a_real_figure_fits_the_page(monkeypatch):
    png = widgets._png(widgets.capacity_figure(max_items=16, dim=8, steps=1, trials=2))
    assert png.startswith(b"\x89PNG") and 2_000 < len(png) < 60_000


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ({}, r"grid must name one or two of the controls \['memory'.*got \[\]"),
        ({"colour": [1]}, r"grid must name one or two.*got \['colour'\]"),
        ({"memory": ["EpisodicMemory"], "dim": [8], "steps": [1]}, r"one or two.*got \["),
        ({"steps": [5, 101]}, r"grid\['steps'\] must be between 1 and 100.*101"),
        ({"memory": ["Nope"]}, r"grid\['memory'\] must be one of .*'Nope'"),
        ({"max_items": [16, 32, 64, 128], "steps": [1, 2, 3]}, r"20 settings; .* at most 12"),
    ],
)
def test_a_grid_the_explorer_cannot_show_is_refused(monkeypatch, grid, message):
    monkeypatch.setattr(widgets, "capacity_figure", lambda **v: pytest.fail("drawn"))
    monkeypatch.setattr(widgets, "CAPACITY_GRID", grid)  # the start adds max_items 256, steps 5
    with pytest.raises(ValueError, match=message):
        widgets.capacity_explorer()


# Small settings of three drawing functions over different experiments.
SMALL = {
    "capacity_figure": dict(max_items=16, dim=8, steps=1, trials=2),
    "dimensions_figure": dict(token_dim=16, memory_dim=16, n_items=8, trials=2),
    "sequences_figure": dict(memory="EpisodicMemory", length=4, dim=16, trials=2),
}


@pytest.mark.parametrize("name", SMALL)
def test_a_kept_result_draws_the_figure_a_fresh_computation_draws(name):
    draw = getattr(widgets, name)
    widgets._RESULTS.clear()
    state = torch.random.get_rng_state()
    fresh = widgets._png(draw(**SMALL[name]))
    assert torch.equal(torch.random.get_rng_state(), state)  # the global state is left alone
    frames = {key: frame.copy() for key, frame in widgets._RESULTS.items()}
    assert frames
    torch.manual_seed(1234)  # another global random state changes nothing
    assert widgets._png(draw(**SMALL[name])) == fresh
    assert list(widgets._RESULTS) == list(frames)
    widgets._RESULTS.clear()
    assert widgets._png(draw(**SMALL[name])) == fresh
    for key, frame in widgets._RESULTS.items():
        pd.testing.assert_frame_equal(frame, frames[key])


def test_the_grid_reuses_the_default_figure_s_experiment_and_draws_the_same_image(monkeypatch):
    widgets._RESULTS.clear()
    runs: list[tuple] = []

    def counted(*args, **kwargs):
        runs.append((args[0], args[2]))  # the memory and the number of writes
        return experiments.capacity(*args, **kwargs)

    monkeypatch.setattr(widgets, "capacity", counted)
    monkeypatch.setattr(widgets, "CAPACITY_GRID", {"memory": list(widgets.FAMILIES), "steps": [5]})
    setting = dict(memory="MatrixAssociativeMemory", max_items=16, dim=8, steps=1)
    default = widgets._png(widgets.capacity_figure(**setting))
    box = widgets.capacity_explorer(**setting)
    images = [bytes(image.value) for image in _images(_grid_form(box)[1])]
    # Each setting's experiment runs once, the default's for the figure above the grid.
    assert len(images) == len(widgets.FAMILIES) * 2 == len(runs) == len(set(runs))
    assert default in images
    widgets._RESULTS.clear()
    monkeypatch.setattr(widgets, "capacity", experiments.capacity)
    assert widgets._png(widgets.capacity_figure(**setting)) == default


def test_kept_results_are_bounded_and_each_caller_gets_its_own_copy():
    widgets._RESULTS.clear()
    runs: list[int] = []

    def compute(i):
        runs.append(i)
        return pd.DataFrame({"x": [i]})

    first = widgets._computed(("test", 0), lambda: compute(0))
    first.loc[0, "x"] = 99  # a caller changes its frame
    assert widgets._computed(("test", 0), lambda: compute(0))["x"].tolist() == [0]
    assert runs == [0]
    for i in range(1, widgets.KEPT_RESULTS + 1):
        widgets._computed(("test", i), lambda i=i: compute(i))
    assert len(widgets._RESULTS) == widgets.KEPT_RESULTS and ("test", 0) not in widgets._RESULTS
    widgets._computed(("test", 0), lambda: compute(0))
    assert runs.count(0) == 2
    unhashable = widgets._computed(("test", [1]), lambda: compute(-1))
    assert unhashable["x"].tolist() == [-1] and ("test", [1]) not in list(widgets._RESULTS)
    widgets._RESULTS.clear()
