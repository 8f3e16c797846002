"""Interactive explorers: thin ipywidgets wrappers around memnb's experiments and plots.

Each ``*_figure`` function runs one experiment and draws it with :mod:`memnb.plots`. Each
``*_explorer`` puts that function behind controls, declared once (argument name ->
control, in the ``*_CONTROLS`` mappings); a chapter shows its explorer's
``static_figure()``, the figure at the starting setting, above the explorer.

One explorer serves two pages, the saved HTML page without a kernel and a live notebook:

- **Without a kernel** (the built book, any saved page): no Python runs when a control
  moves, so the explorer draws, when it is made, a small grid of settings declared in
  its ``*_GRID`` mapping (one or two controls, at most :data:`MAX_GRID_FIGURES`
  figures, with the same ``*_figure`` function), and embeds them as PNG images in a
  ``Stack``. The grid controls' ``index`` is linked to the stack in the page's own
  JavaScript (``jsdlink``), so moving a control shows the precomputed figure for its
  value, offline and from a ``file://`` URL. Only the grid controls are shown, so no
  control in the page is inert, and a line under the explorer says what the page offers
  and how to explore further (``make lab``, then open the chapter).
- **In a live kernel** (JupyterLab): the explorer tracks its views (ipywidgets'
  ``_view_count``). A frontend that shows it reports the view to the kernel, and the
  kernel then swaps the grid for the explorer's full controls and an output area that
  the Python observers redraw for any setting (:func:`explorer`); the controls start at
  the grid's current setting, and a setting of the grid is shown from its stored image
  at once. A page saved without a kernel never reports a view, so it keeps the grid.

Either way the explorer shows one figure, for the setting of the controls it shows; the
figure shown statically above it (``static_figure``, the default setting) stays as the
page's reference.
"""

from __future__ import annotations

import inspect
import io
import itertools
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

try:
    import ipywidgets as widgets
    import traitlets
    from IPython.display import Image, display
except ImportError as error:  # an optional dependency: the extra memnb[widgets]
    raise ImportError(
        f"memnb.widgets needs ipywidgets and IPython ({error}); install the extra: "
        "pip install 'memnb[widgets]'"
    ) from error

from . import _validate, plots, summaries
from .data import HUMAN_STUDIES, NONLINEARITIES, human_lag_crp
from .experiments import (
    adaptation,
    batch_delta_rule,
    capacity,
    completion,
    forgetting_trace,
    free_recall,
    key_recall,
    projection_trace,
    token_dimensions,
)
from .memories import pick
from .memories.projecting import DESIGNS
from .summaries import lag_crp
from .theory import stable_lr

__all__ = [
    "adaptation_explorer",
    "adaptation_figure",
    "capacity_explorer",
    "capacity_figure",
    "completion_explorer",
    "completion_figure",
    "dimensions_explorer",
    "dimensions_figure",
    "explorer",
    "forgetting_explorer",
    "forgetting_figure",
    "keys_explorer",
    "keys_figure",
    "sequences_explorer",
    "sequences_figure",
]

# The memory families the explorers offer, from the book's registry.
FAMILIES = pick("EpisodicMemory", "MatrixAssociativeMemory", "DeltaRuleMemory", "AttentionMemory")
ADAPTATION_MEMORIES = pick("EpisodicMemory", "MatrixAssociativeMemory", "DeltaRuleMemory")
# The memories that recall a pattern from a corrupted cue, and the one-read baseline.
NETWORKS = pick(
    "HopfieldMemory", "DenseAssociativeMemory", "ModernHopfieldMemory", "MatrixAssociativeMemory"
)
# The families whose constructor takes a learning rate ``lr``.
LEARNED = frozenset(
    name for name, factory in FAMILIES.items() if "lr" in inspect.signature(factory).parameters
)
# Learning rates for bulk writes of a whole task. The delta rule's default 1/dim suits one
# pair at a time; a write of N pairs is stable only while lr * (largest eigenvalue of K^T K)
# < 2, and that eigenvalue grows with N (see the forgetting chapter).
FORGETTING_LR = {"EpisodicMemory": 0.1, "DeltaRuleMemory": 0.0015}
# The grid an explorer embeds for pages without a kernel: at most this many figures, each a
# PNG of this resolution quantized to this many colours (about 10-25 kB; see _png).
MAX_GRID_FIGURES = 12
GRID_DPI = 90
GRID_COLORS = 64
# How many experiment results the drawing functions keep (see _computed): more than a grid
# draws, so that the figure a chapter draws just above its explorer is still kept when the
# grid reaches the same setting.
KEPT_RESULTS = 2 * MAX_GRID_FIGURES
_RESULTS: OrderedDict[tuple, pd.DataFrame] = OrderedDict()


def _computed(key: tuple, compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """``compute()``, or a copy of its result for the same ``key`` when it is still kept.

    ``key`` names the experiment and every argument its result depends on, normalised
    (defaults filled in, seed included): the experiments are deterministic functions of
    their arguments (their seeds are explicit and torch's global random state is left as
    it was), so a kept result is the one ``compute()`` would return. The last
    :data:`KEPT_RESULTS` results are kept; each call returns its own copy, so a caller
    that changes its frame changes no other's. A chapter draws its explorer's default
    figure and then the explorer's grid, which draws that setting again; the grid's
    settings also share experiments (the dimensions explorer's sweep over token
    dimensions does not depend on the design the grid varies).
    """
    try:
        kept = _RESULTS.get(key)
    except TypeError:  # an argument that cannot be a key: compute it every time
        return compute()
    if kept is None:
        kept = compute()
        _RESULTS[key] = kept
        while len(_RESULTS) > KEPT_RESULTS:
            _RESULTS.popitem(last=False)
    else:
        _RESULTS.move_to_end(key)
    return kept.copy()


# ---------------------------------------------------------------------------------------------
# Controls: what an explorer declares, and the plumbing that turns a declaration into widgets


@dataclass(frozen=True)
class _Control:
    """One control of an explorer, shown with the description ``label``.

    ``check(name, value)`` raises a ``ValueError`` naming ``name`` when the control cannot
    show ``value``; ``widget(value, start)`` builds it at ``value`` (``start``: the
    starting values of all controls); ``connect(widget, built)`` makes it follow the
    other widgets (most controls follow none). For a page without a kernel,
    ``grid_widget(values, value)`` builds a control that offers only ``values`` (its
    ``index`` picks a precomputed figure), and ``follow(name, values, start)`` is the
    value the control takes, off the grid, when the grid controls are at ``values``.
    """

    label: str

    def connect(self, widget: widgets.ValueWidget, built: Mapping[str, widgets.ValueWidget]):
        pass

    def grid_widget(self, values: Sequence[object], value: object) -> widgets.ValueWidget:
        options = [(_shown(v), v) for v in values]
        return widgets.Dropdown(options=options, value=value, description=self.label)

    def follow(self, name: str, values: Mapping[str, object], start: Mapping[str, object]):
        return start[name]

    def order(self, values: Sequence[object]) -> list[object]:
        """``values`` in the order the control offers them."""
        return sorted(values)


@dataclass(frozen=True)
class _Menu(_Control):
    """A dropdown that offers ``options``."""

    options: Sequence[object]

    def check(self, name: str, value: object) -> None:
        _validate.one_of(name, value, self.options)

    def widget(self, value: object, start: Mapping[str, object]) -> widgets.ValueWidget:
        return widgets.Dropdown(options=list(self.options), value=value, description=self.label)

    def order(self, values: Sequence[object]) -> list[object]:
        return [option for option in self.options if option in values]


@dataclass(frozen=True)
class _Slider(_Control):
    """A slider from ``low`` to ``high`` in steps of ``step`` (int ends: an int slider)."""

    low: float
    high: float
    step: float = 1

    def check(self, name: str, value: object) -> None:
        _bounded(name, value, self.low, self.high)

    def widget(self, value: object, start: Mapping[str, object]) -> widgets.ValueWidget:
        kind = widgets.IntSlider if isinstance(self.low, int) else widgets.FloatSlider
        return kind(
            value=value, min=self.low, max=self.high, step=self.step, description=self.label
        )

    def grid_widget(self, values: Sequence[object], value: object) -> widgets.ValueWidget:
        options = [(_shown(v), v) for v in values]
        return widgets.SelectionSlider(options=options, value=value, description=self.label)


@dataclass(frozen=True)
class _LogSlider(_Slider):
    """A slider on a log scale from ``10**low`` to ``10**high`` (``step`` in powers of ten)."""

    step: float = 0.1

    def check(self, name: str, value: object) -> None:
        _bounded(name, value, 10.0**self.low, 10.0**self.high)

    def widget(self, value: object, start: Mapping[str, object]) -> widgets.ValueWidget:
        return widgets.FloatLogSlider(
            value=value,
            base=10,
            min=self.low,
            max=self.high,
            step=self.step,
            description=self.label,
        )


@dataclass(frozen=True)
class _LearningRate(_LogSlider):
    """A log-scale learning-rate slider that follows the ``memory`` control.

    ``default(values)`` is the learning rate for the controls' ``values`` (None: the memory
    has none). The slider starts at the explorer's value (None: that default), is disabled
    (so the explorer passes None) while the memory has no learning rate, and is reset to
    the default whenever another memory is chosen.
    """

    label: str = "lr"
    low: int = -3
    high: int = 1
    step: float = 0.05
    default: Callable[[Mapping[str, object]], float | None] = field(kw_only=True)

    def check(self, name: str, value: object) -> None:
        if value is not None:
            super().check(name, value)

    def widget(self, value: object, start: Mapping[str, object]) -> widgets.ValueWidget:
        default = self.default(start)
        slider = super().widget(value if value is not None else default or 10.0**self.low, start)
        slider.disabled = default is None
        return slider

    def connect(self, widget: widgets.ValueWidget, built: Mapping[str, widgets.ValueWidget]):
        def on_memory(change: dict) -> None:
            default = self.default({name: control.value for name, control in built.items()})
            widget.disabled = default is None
            if default is not None:
                widget.value = default

        built["memory"].observe(on_memory, names="value")

    def follow(self, name: str, values: Mapping[str, object], start: Mapping[str, object]):
        """As the live slider: the memory's default (None: it has none), or the starting
        value while the memory is the starting one."""
        default = self.default(values)
        if default is None:
            return None
        kept = values["memory"] == start["memory"] and start[name] is not None
        return start[name] if kept else default


def _bounded(name: str, value: object, low: float, high: float) -> float:
    """``value`` if it is a number in ``[low, high]`` (an int when both bounds are ints)."""
    whole = isinstance(low, int) and isinstance(high, int)
    number = _validate.positive_int(name, value) if whole else _validate.number(name, value)
    if not low <= number <= high:
        raise ValueError(
            f"{name} must be between {low} and {high} (the control's range), got {value}"
        )
    return number


def _shown(value: object) -> str:
    """How a grid control labels ``value``: numbers in short form (0.05, 1e-03, 64)."""
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _png(fig: Figure) -> bytes:
    """``fig`` as a small PNG (:data:`GRID_DPI`, :data:`GRID_COLORS` colours); closes it."""
    from PIL import Image as PILImage

    raw = io.BytesIO()
    # Labels outside the canvas are kept, as in the notebook's own figures; a figure with a
    # layout engine has none there, and is not laid out twice.
    tight = {"bbox_inches": "tight"} if fig.get_layout_engine() is None else {}
    fig.savefig(raw, format="png", dpi=GRID_DPI, **tight)
    plt.close(fig)
    raw.seek(0)
    with PILImage.open(raw) as image:
        small = image.convert("RGB").quantize(GRID_COLORS, method=PILImage.Quantize.MEDIANCUT)
    out = io.BytesIO()
    small.save(out, format="png", optimize=True)
    return out.getvalue()


def explorer(draw: Callable[..., object], controls: dict[str, widgets.ValueWidget]) -> widgets.VBox:
    """Controls above an output area; ``draw(**values)`` makes a figure for the values.

    A disabled control passes None. The figure for the initial values is drawn at once,
    so the area is never empty, and again whenever a control's value changes. This is
    the live form of every explorer of the book; it needs a kernel.
    """
    _validate.callable_("draw", draw, "a function that returns a figure")
    if not isinstance(controls, dict) or not controls:
        raise ValueError(
            f"controls must be a non-empty dict of name -> widget, got {controls!r:.60}"
        )
    for name, control in controls.items():
        if not isinstance(control, widgets.ValueWidget):
            raise TypeError(
                f"controls[{name!r}] must be an ipywidgets value widget, "
                f"got {type(control).__name__}"
            )

    def show(**shown: object) -> None:
        fig = draw(**shown)
        display(fig)
        plt.close(fig)

    return _live(show, controls)


def _live(show: Callable[..., None], controls: dict[str, widgets.ValueWidget]) -> widgets.VBox:
    """Controls above an output area in which ``show(**values)`` displays the figure for
    the controls' values (a disabled control passes None), now and on every change."""

    def redraw(**values: object) -> None:
        show(**{name: None if controls[name].disabled else v for name, v in values.items()})

    out = widgets.interactive_output(redraw, controls)
    row = widgets.HBox(list(controls.values()), layout=widgets.Layout(flex_flow="row wrap"))
    return widgets.VBox([row, out])


class _Explorer(widgets.VBox):
    """An explorer for pages with and without a kernel (see the module's docstring).

    ``draw(**values)`` makes the figure for the values of the ``declared`` controls, which
    start at ``start``; ``grid`` names the one or two controls the page without a kernel
    offers and their values (the starting value is added where it is missing), at most
    :data:`MAX_GRID_FIGURES` figures in all. Made without a view, it shows the grid
    controls, the figure of their setting and a line on what the page offers; once a
    frontend with a kernel shows it (or :meth:`live` is called), the full controls and a
    live output. ``grid_cpu_seconds`` (kept in the page's widget state, so that a book
    build can report it) is the CPU time the kernel spent drawing the grid.
    """

    grid_cpu_seconds = traitlets.Float(0.0).tag(sync=True)

    def __init__(
        self,
        draw: Callable[..., Figure],
        declared: Mapping[str, _Control],
        start: Mapping[str, object],
        grid: Mapping[str, Sequence[object]],
    ) -> None:
        if not 1 <= len(grid) <= 2 or not set(grid) <= set(declared):
            raise ValueError(
                f"grid must name one or two of the controls {list(declared)}, got {list(grid)}"
            )
        for name, control in declared.items():
            control.check(name, start[name])
        axes = {}
        for name, values in grid.items():
            for value in values:
                declared[name].check(f"grid[{name!r}]", value)
            axes[name] = declared[name].order({*values, start[name]})
        count = len(list(itertools.product(*axes.values())))
        if count > MAX_GRID_FIGURES:
            raise ValueError(
                f"grid {axes} has {count} settings; an explorer embeds at most "
                f"{MAX_GRID_FIGURES} figures"
            )
        self._draw, self._declared, self._start, self._axes = draw, declared, start, axes
        clock = time.process_time()
        self._pngs = {}
        for point in itertools.product(*axes.values()):
            values = self._values(dict(zip(axes, point, strict=True)))
            self._pngs[self._key(values)] = _png(draw(**values))
        self._controls = {
            name: declared[name].grid_widget(values, start[name]) for name, values in axes.items()
        }
        for control in self._controls.values():
            control.add_class("memnb-grid-control")
        self._links: list[widgets.Widget] = []
        self._figures = self._stack(list(axes), {})
        self._note = widgets.HTML(self._static_note(), layout=widgets.Layout(margin="0 0 1em 0"))
        self._note.add_class("memnb-explorer-note")
        row = widgets.HBox(list(self._controls.values()))
        row.layout.flex_flow = "row wrap"
        super().__init__([row, self._figures, self._note], _view_count=0)
        self.grid_cpu_seconds = time.process_time() - clock
        self.add_class("memnb-explorer")
        self.observe(self._on_view, names="_view_count")

    def _values(self, chosen: Mapping[str, object]) -> dict[str, object]:
        """Every control's value (as drawn) at the grid setting ``chosen``."""
        values = {**self._start, **chosen}
        for name, control in self._declared.items():
            if name not in chosen:
                values[name] = control.follow(name, values, self._start)
        return values

    def _key(self, values: Mapping[str, object]) -> tuple:
        return tuple(values[name] for name in self._declared)

    def _stack(self, names: list[str], chosen: dict[str, object]) -> widgets.Stack:
        """The figures of the grid below ``chosen``, one stack per control in ``names``,
        its ``selected_index`` linked in the page to the control's ``index``."""
        name, rest = names[0], names[1:]
        children = []
        for value in self._axes[name]:
            here = {**chosen, name: value}
            if rest:
                children.append(self._stack(rest, here))
            else:
                png = self._pngs[self._key(self._values(here))]
                layout = widgets.Layout(max_width="100%", height="auto", margin="0")
                children.append(widgets.Image(value=png, format="png", layout=layout))
        stack = widgets.Stack(children, selected_index=self._controls[name].index)
        link = widgets.jsdlink((self._controls[name], "index"), (stack, "selected_index"))
        self._links.append(link)
        return stack

    def _static_note(self) -> str:
        axes = [
            f"{self._declared[name].label} ({len(values)} choices)"
            if isinstance(self._declared[name], _Menu)
            else f"{self._declared[name].label} ({', '.join(_shown(v) for v in values)})"
            for name, values in self._axes.items()
        ]
        fixed = [
            f"{control.label} {_shown(self._start[name])}"
            for name, control in self._declared.items()
            if name not in self._axes
            and not isinstance(control, _LearningRate)
            and self._start[name] is not None
        ]
        rates = [c.label for c in self._declared.values() if isinstance(c, _LearningRate)]
        if rates:
            fixed.append(f"each memory's {rates[0]}")
        return (
            f"<small>Without a kernel, this page offers {len(self._pngs)} precomputed "
            f"figures: {' × '.join(axes)}, at {', '.join(fixed) or 'the starting values'}. "
            "To explore any setting, run <code>make lab</code> and open this chapter."
            "</small>"
        )

    def static_figure(self) -> Image:
        """The figure of the starting setting as the grid stores it (a PNG), to show above
        the explorer: an output image is in every copy of the page, also where widgets do
        not render, and showing the stored one costs no second drawing."""
        start = {name: self._start[name] for name in self._axes}
        return Image(self._pngs[self._key(self._values(start))])

    def _on_view(self, change: dict) -> None:
        if change["new"]:
            self.live()

    def live(self) -> None:
        """Swap the grid for the full controls and a live output (once; a frontend with a
        kernel calls it when it shows the explorer), starting at the grid's setting."""
        if self._figures is None:
            return
        values = self._values({name: c.value for name, c in self._controls.items()})
        built = {name: c.widget(values[name], values) for name, c in self._declared.items()}
        for name, control in self._declared.items():
            control.connect(built[name], built)

        def show(**shown: object) -> None:
            png = self._pngs.get(self._key(shown))
            display(Image(png if png is not None else _png(self._draw(**shown))))

        box = _live(show, built)
        self._note.value = (
            "<small>The kernel draws the figure for any setting (the HTML book offers "
            f"{len(self._pngs)}, precomputed).</small>"
        )
        static, self._figures = [self._links, self._controls, self._figures], None
        self.children = [box, self._note]
        for widget in _descendants(static):
            widget.close()


def _descendants(roots: list) -> list[widgets.Widget]:
    """The widgets in ``roots`` (widgets, lists or dicts of them) and all their children."""
    found, todo = [], list(roots)
    while todo:
        item = todo.pop()
        if isinstance(item, dict):
            todo.extend(item.values())
        elif isinstance(item, list | tuple):
            todo.extend(item)
        elif isinstance(item, widgets.Widget) and item not in found:
            found.append(item)
            todo.extend(getattr(item, "children", ()))
    return found


def _explore(
    draw: Callable[..., Figure],
    declared: Mapping[str, _Control],
    start: dict[str, object],
    grid: Mapping[str, Sequence[object]],
) -> widgets.VBox:
    """The explorer of ``draw`` with the ``declared`` controls, starting at ``start`` (an
    explorer's arguments: its ``locals()`` before it binds any other name), and the
    ``grid`` of settings it embeds for pages without a kernel (:class:`_Explorer`).

    Each starting value must be one the control offers (a ``ValueError`` names it).
    """
    return _Explorer(draw, declared, start, grid)


MEMORY_MENU = _Menu("memory", list(FAMILIES))  # the menu of memories most explorers offer


# ---------------------------------------------------------------------------------------------
# Adaptation


def _default_lr(memory: str, dim: int) -> float | None:
    """The learning rate ``memory`` uses by default at dimension ``dim`` (None: it has none):
    that of one built on the meta device (no storage), leaving torch's random state as it
    was."""
    if memory not in LEARNED:
        return None
    with torch.random.fork_rng(devices=[]):
        return float(FAMILIES[memory](dim, device="meta").lr)


ADAPTATION_CONTROLS = {
    "memory": _Menu("memory", list(ADAPTATION_MEMORIES)),
    "lr": _LearningRate(default=lambda values: _default_lr(values["memory"], values["dim"])),
    "dim": _Menu("dim", [8, 16, 32, 64, 128, 256]),
    "steps": _Slider("steps", 1, 50),
}

# The page without a kernel: each memory at its own learning rate.
ADAPTATION_GRID = {"memory": list(ADAPTATION_MEMORIES)}


def adaptation_figure(
    memory: str = "EpisodicMemory",
    lr: float | None = None,
    dim: int = 32,
    steps: int = 20,
    trials: int = 16,
    seed: int = 0,
) -> Figure:
    """The adaptation learning curve of one memory (the explorer's drawing function).

    ``memory`` names a class in :data:`ADAPTATION_MEMORIES`; ``lr`` (None: the class
    default) is used by the memories that have one and must be None for the others.
    """
    _validate.one_of("memory", memory, ADAPTATION_MEMORIES)
    if lr is not None and memory not in LEARNED:
        raise ValueError(f"{memory} has no learning rate; got lr={lr!r}, expected None")
    factory = ADAPTATION_MEMORIES[memory]
    factory = factory if lr is None else partial(factory, lr=lr)
    frame = _computed(
        ("adaptation", memory, lr, dim, steps, trials, seed),
        lambda: adaptation(factory, steps=steps, trials=trials, dim=dim, seed=seed, label=memory),
    )
    rate = "" if lr is None else f", lr={lr:.3g}"
    return plots.learning_curve(frame, title=f"{memory}, dim={dim}{rate}").figure


def adaptation_explorer(
    memory: str = "EpisodicMemory", lr: float | None = None, dim: int = 32, steps: int = 20
) -> widgets.VBox:
    """Explore adaptation speed: memory type, learning rate, dimension and steps.

    Choosing another memory resets the learning rate to that memory's default; the
    slider is disabled for the Hebbian memory, which has none.
    """
    return _explore(adaptation_figure, ADAPTATION_CONTROLS, locals(), ADAPTATION_GRID)


# ---------------------------------------------------------------------------------------------
# Forgetting

FORGETTING_CONTROLS = {
    "memory": MEMORY_MENU,
    "kind": _Menu("kind", ["clustered", "random"]),
    "n_train_a": _Slider("pairs A", 4, 64),
    "n_train_b": _Slider("pairs B", 4, 128),
    "steps_a": _Slider("steps A", 1, 50),
    "steps_b": _Slider("steps B", 1, 100),
    "lr": _LearningRate(low=-4, high=0, default=lambda values: FORGETTING_LR.get(values["memory"])),
}

# The page without a kernel: each memory at the starting setting (the chapter's sweeps show
# more pairs and more writes of task B for every memory).
FORGETTING_GRID = {"memory": list(FAMILIES)}


def forgetting_figure(
    memory: str = "EpisodicMemory",
    kind: str = "clustered",
    n_train_a: int = 16,
    n_train_b: int = 16,
    steps_a: int = 20,
    steps_b: int = 20,
    lr: float | None = None,
    dim: int = 32,
    trials: int = 16,
    seed: int = 0,
    clusters: int = 4,
) -> Figure:
    """Accuracy on tasks A and B while a memory learns A and then B (the explorer's figure).

    ``memory`` names a class in :data:`FAMILIES`; ``lr`` (None: the value in
    :data:`FORGETTING_LR`) is used by the memories that have one and must be None for the
    others. ``kind`` is ``"clustered"`` (``clusters`` clusters per task) or ``"random"``.
    """
    _validate.one_of("memory", memory, FAMILIES)
    if lr is not None and memory not in FORGETTING_LR:
        raise ValueError(f"{memory} has no learning rate; got lr={lr!r}, expected None")
    lr = FORGETTING_LR.get(memory) if lr is None else lr
    factory = FAMILIES[memory] if lr is None else partial(FAMILIES[memory], lr=lr)
    options = {"clusters": clusters} if kind == "clustered" else {}
    key = ("forgetting", memory, kind, n_train_a, n_train_b, steps_a, steps_b, lr, dim)
    frame = _computed(
        (*key, trials, seed, tuple(options.items())),
        lambda: forgetting_trace(
            factory,
            steps=(steps_a, steps_b),
            trials=trials,
            dim=dim,
            seed=seed,
            kind=kind,
            n_train=(n_train_a, n_train_b),
            label=memory,
            **options,
        ),
    )
    fig, ax = plots.subplots(1, width=7.0, height=4.0)
    rate = "" if lr is None else f", lr={lr:.3g}"
    plots.forgetting_trace(frame, ax=ax, title=f"{memory}, {kind} tasks{rate}")
    return fig


def forgetting_explorer(
    memory: str = "EpisodicMemory",
    kind: str = "clustered",
    n_train_a: int = 16,
    n_train_b: int = 16,
    steps_a: int = 20,
    steps_b: int = 20,
    lr: float | None = None,
) -> widgets.VBox:
    """Explore forgetting: memory, task kind, task sizes, steps per task and learning rate.

    Choosing another memory resets the learning rate to that memory's value in
    :data:`FORGETTING_LR`; the slider is disabled for the memories without one.
    """
    return _explore(forgetting_figure, FORGETTING_CONTROLS, locals(), FORGETTING_GRID)


# ---------------------------------------------------------------------------------------------
# Capacity

CAPACITY_CONTROLS = {
    "memory": MEMORY_MENU,
    "max_items": _Menu("N up to", [2**i for i in range(4, 12)]),
    "dim": _Menu("dim", [8, 16, 32, 64, 128]),
    "steps": _Slider("steps", 1, 100),
}

# The page without a kernel: each memory at the starting number of writes (the chapter's
# later sections vary the writes; for the Hebbian and the attention memory more writes of
# the same pairs change nothing that is scored).
CAPACITY_GRID = {"memory": list(FAMILIES)}


def capacity_figure(
    memory: str = "EpisodicMemory",
    max_items: int = 256,
    dim: int = 64,
    steps: int = 5,
    trials: int = 8,
    seed: int = 0,
) -> Figure:
    """Recall accuracy and cosine distance against N for one memory at its defaults.

    N runs over the powers of two from 4 to ``max_items``; every N gets a fresh memory
    (``memory`` names a class in :data:`FAMILIES`) written ``steps`` times with all N
    pairs, ``trials`` times over. The left panel is recall by the nearest of the N values
    (chance dotted grey, 95 % dotted black), the right one how far the reads are from
    their values (``1 - cosine``); the dotted vertical line marks the capacity (N at 95 %
    recall).
    """
    _validate.one_of("memory", memory, FAMILIES)
    if _validate.positive_int("max_items", max_items) < 4:
        raise ValueError(f"max_items must be at least 4, got {max_items}")
    sizes = [2**i for i in range(2, max_items.bit_length()) if 2**i <= max_items]
    frame = _computed(
        ("capacity", memory, tuple(sizes), steps, trials, dim, seed),
        lambda: capacity(FAMILIES[memory], sizes, steps, trials, dim, seed, label=memory),
    )
    found = summaries.capacity_at(frame).iloc[0]
    sign = ">= " if found["lower_bound"] else ""
    title = f"{memory}, dim={dim}, steps={steps}: capacity {sign}{found['capacity']:.0f}"
    # Two panels: a figure is redrawn whenever a control moves, and its text (tick labels,
    # a log axis's powers of ten) is most of the cost of drawing it.
    fig, axes = plots.subplots(2)
    plots.capacity_curve(frame, hue=None, ax=axes[0], threshold=0.95)
    plots.capacity_curve(frame, "cosine_distance", hue=None, ax=axes[1])
    if not np.isnan(found["capacity"]):
        for ax in axes:
            ax.axvline(found["capacity"], color="k", ls=":", lw=1)
    fig.suptitle(title)
    return fig


def capacity_explorer(
    memory: str = "EpisodicMemory", max_items: int = 256, dim: int = 64, steps: int = 5
) -> widgets.VBox:
    """Explore capture capacity: memory type, largest N, dimension and number of writes."""
    return _explore(capacity_figure, CAPACITY_CONTROLS, locals(), CAPACITY_GRID)


# ---------------------------------------------------------------------------------------------
# Pattern completion

COMPLETION_CONTROLS = {
    "memory": _Menu("memory", list(NETWORKS)),
    "load": _Slider("load P/d", 0.02, 0.4, 0.02),
    "kind": _Menu("cue", ["flip", "mask"]),
    "dim": _Menu("dim", [50, 100, 200]),
}

# The page without a kernel: the classical and the modern network, below and above the
# classical capacity.
COMPLETION_GRID = {"memory": ["HopfieldMemory", "ModernHopfieldMemory"], "load": [0.1, 0.2]}


def completion_figure(
    memory: str = "HopfieldMemory",
    load: float = 0.1,
    kind: str = "flip",
    dim: int = 100,
    trials: int = 8,
    seed: int = 0,
) -> Figure:
    """Recall of ``round(load * dim)`` stored ±1 patterns from cues with a growing
    fraction of units flipped or masked (``kind``): overlap and exact recall against the
    cue noise (the explorer's drawing function; 8 cues per trial).

    ``memory`` names a class in :data:`NETWORKS`, at its defaults (the dense memory:
    ``n = 3``; the modern network: ``beta = 1``, one update).
    """
    _validate.one_of("memory", memory, NETWORKS)
    _validate.one_of("kind", kind, ["flip", "mask"])
    load = _bounded("load", load, 0.0, 1.0)
    n = max(1, round(load * _validate.positive_int("dim", dim)))
    top = 0.5 if kind == "flip" else 0.9
    noise = [round(x, 2) for x in np.arange(0.0, top + 1e-9, 0.1)]
    frame = _computed(
        ("completion", memory, n, dim, tuple(noise), kind, trials, seed),
        lambda: completion(NETWORKS[memory], n, dim, noise, kind, trials=trials, seed=seed, cues=8),
    )
    title = f"{memory}: {n} patterns in {dim} units (load {n / dim:.2f})"
    return plots.completion_panels(frame, title=title)[0]


def completion_explorer(
    memory: str = "HopfieldMemory", load: float = 0.1, kind: str = "flip", dim: int = 100
) -> widgets.VBox:
    """Explore pattern completion: memory type, load, kind of corruption, dimension."""
    return _explore(completion_figure, COMPLETION_CONTROLS, locals(), COMPLETION_GRID)


# ---------------------------------------------------------------------------------------------
# Sequences

SEQUENCES_CONTROLS = {
    "model": _Menu("model", ["chain", "context"]),
    "memory": MEMORY_MENU,
    "rho": _Slider("rho", 0.0, 0.95, step=0.05),
    "tau": _LogSlider("tau", -2, 0),
    "length": _Slider("list length", 4, 32),
}

# The page without a kernel: both models, on the starting memory.
SEQUENCES_GRID = {"model": ["chain", "context"]}


def sequences_figure(
    model: str = "context",
    memory: str = "MatrixAssociativeMemory",
    rho: float = 0.6,
    tau: float = 0.05,
    length: int = 16,
    dim: int = 128,
    trials: int = 64,
    seed: int = 0,
) -> Figure:
    """Lag-CRP of a simulated free recall (chain or context model) next to two human data sets.

    ``memory`` names the class (in :data:`FAMILIES`) that stores the model's associations;
    the human curves are psifr's Morton2013 and PEERS sample data.
    """
    _validate.one_of("memory", memory, FAMILIES)
    crp = _computed(  # the simulation and its lag-CRP, which costs about as much again
        ("sequences", memory, model, length, trials, dim, rho, tau, seed),
        lambda: lag_crp(
            free_recall(FAMILIES[memory], model, length, trials, dim, rho, tau, seed=seed)
        ),
    )
    crps = {f"{model} model ({memory})": crp}
    crps.update({f"people, {study}": human_lag_crp(study) for study in HUMAN_STUDIES})
    title = f"{model} model, L={length}, rho={rho}, tau={tau}"
    return plots.lag_crp_curve(crps, title=title).figure


def sequences_explorer(
    model: str = "context",
    memory: str = "MatrixAssociativeMemory",
    rho: float = 0.6,
    tau: float = 0.05,
    length: int = 16,
) -> widgets.VBox:
    """Explore the lag-CRP of the models: model, memory, context drift rho, choice
    temperature tau and list length."""
    return _explore(sequences_figure, SEQUENCES_CONTROLS, locals(), SEQUENCES_GRID)


# ---------------------------------------------------------------------------------------------
# Keys

KEYS_CONTROLS = {
    "memory": MEMORY_MENU,
    "context_dim": _Menu("dim of x", [16, 32, 64, 128, 256]),
    "key_rank": _Menu("rank W_K", [4, 8, 16, 32, 64]),
    "nonlinearity": _Menu("f", list(NONLINEARITIES)),
    "steps": _Slider("writes", 1, 50),
}

# The page without a kernel: a value linear in the context, and one with no linear part (the
# chapter draws every nonlinearity for the delta rule).
KEYS_GRID = {"nonlinearity": ["linear", "square"]}


def keys_figure(
    memory: str = "DeltaRuleMemory",
    context_dim: int = 64,
    key_rank: int = 64,
    nonlinearity: str = "linear",
    steps: int = 20,
    dim: int = 64,
    trials: int = 8,
    seed: int = 0,
) -> Figure:
    """Recall of stored pairs and of unseen contexts against N, for functional pairs
    ``k = W_K x``, ``v = W_V f(x)`` (the explorer's drawing function).

    ``memory`` names a class in :data:`FAMILIES` (the delta rule runs at
    :func:`memnb.theory.stable_lr` for the largest N); ``key_rank`` caps the rank of
    ``W_K`` (values >= min(dim, context_dim) mean full rank); N runs over 4, 8, ..., 256.
    """
    _validate.one_of("memory", memory, FAMILIES)
    sizes = [4, 8, 16, 32, 64, 128, 256]
    rank = _validate.positive_int("key_rank", key_rank)
    rank = None if rank >= min(dim, context_dim) else rank
    factory = FAMILIES[memory]
    if memory == "DeltaRuleMemory":
        lr = stable_lr(max(sizes), dim, context_dim=context_dim, key_rank=rank)
        factory = partial(factory, lr=lr)
    frame = _computed(
        ("keys", memory, tuple(sizes), steps, trials, dim, seed, context_dim, rank, nonlinearity),
        lambda: key_recall(
            factory,
            "auto",
            sizes,
            steps,
            trials,
            dim,
            seed,
            context_dim=context_dim,
            key_rank=rank,
            nonlinearity=nonlinearity,
            label=memory,
        ),
    )
    shape = f"W_K {dim}x{context_dim}, rank {rank or min(dim, context_dim)}, f={nonlinearity}"
    return plots.key_recall_panels(frame, title=f"{memory}, {steps} writes; {shape}")[0]


def keys_explorer(
    memory: str = "DeltaRuleMemory",
    context_dim: int = 64,
    key_rank: int = 64,
    nonlinearity: str = "linear",
    steps: int = 20,
) -> widgets.VBox:
    """Explore key recall: memory, context dimension, rank of W_K, nonlinearity, writes."""
    return _explore(keys_figure, KEYS_CONTROLS, locals(), KEYS_GRID)


# ---------------------------------------------------------------------------------------------
# Embedding dimensions

DIMENSIONS_CONTROLS = {
    "memory": MEMORY_MENU,
    "design": _Menu("design", list(DESIGNS)),
    "token_dim": _Menu("token dim", [16, 32, 64, 128, 256]),
    "memory_dim": _Menu("memory dim", [16, 32, 64, 128, 256]),
}

# The page without a kernel: the naive design and the readout design of the value projection.
DIMENSIONS_GRID = {"design": ["learned", "readout"]}


def dimensions_figure(
    memory: str = "EpisodicMemory",
    design: str = "learned",
    token_dim: int = 128,
    memory_dim: int = 16,
    n_items: int = 50,
    trials: int = 8,
    seed: int = 0,
) -> Figure:
    """Left: recall of ``memory`` against the token dimension (N = ``n_items``, five writes;
    the delta rule at :func:`memnb.experiments.batch_delta_rule`'s step for N pairs).

    Right: a :class:`~memnb.ProjectingEpisodicMemory` of the chosen ``design``,
    ``token_dim`` and ``memory_dim`` written 0-100 times: its own loss and token recall
    (dotted: recall by chance, 1 / ``n_items``).
    Bands are over ``trials`` trials: 8 by default, so that a redraw stays quick.
    """
    _validate.one_of("memory", memory, FAMILIES)
    factory = batch_delta_rule(n_items) if memory == "DeltaRuleMemory" else FAMILIES[memory]
    sweep = _computed(
        ("token_dimensions", memory, n_items, trials, seed),
        lambda: token_dimensions(factory, n_items=n_items, trials=trials, seed=seed, label=memory),
    )
    trace = _computed(
        ("projection_trace", token_dim, memory_dim, design, n_items, trials, seed),
        lambda: projection_trace(
            token_dim, memory_dim, [design], n_items=n_items, trials=trials, seed=seed
        ),
    )
    title = f"left: {memory}; middle, right: {design} design, {token_dim} -> {memory_dim}"
    fig = plots.dimension_panels(sweep, trace, title=title)[0]
    fig.axes[2].axhline(1 / n_items, **plots.CHANCE_STYLE)  # recall by chance
    return fig


def dimensions_explorer(
    memory: str = "EpisodicMemory",
    design: str = "learned",
    token_dim: int = 128,
    memory_dim: int = 16,
) -> widgets.VBox:
    """Explore embedding dimensions: memory type, value-projection design, both dimensions."""
    return _explore(dimensions_figure, DIMENSIONS_CONTROLS, locals(), DIMENSIONS_GRID)
