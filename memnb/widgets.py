"""Interactive explorers: thin ipywidgets wrappers around memnb's experiments and plots."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import partial

import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython.display import display
from matplotlib.figure import Figure

from . import plots
from .experiments import adaptation
from .memories import DeltaRuleMemory, EpisodicMemory, MatrixAssociativeMemory

LEARNED = {"EpisodicMemory": EpisodicMemory, "DeltaRuleMemory": DeltaRuleMemory}
MEMORIES = {**LEARNED, "MatrixAssociativeMemory": MatrixAssociativeMemory}


def explorer(draw: Callable[..., object], controls: dict[str, widgets.ValueWidget]) -> widgets.VBox:
    """Controls above an output area; ``draw(**values)`` makes a figure for the values.

    The figure for the initial values is drawn at once, so the area is never empty.
    """

    def redraw(**values: object) -> None:
        fig = draw(**values)
        display(fig)
        plt.close(fig)

    out = widgets.interactive_output(redraw, controls)
    row = widgets.HBox(list(controls.values()), layout=widgets.Layout(flex_flow="row wrap"))
    return widgets.VBox([row, out])


def adaptation_figure(
    memory: str = "EpisodicMemory",
    lr: float | None = None,
    dim: int = 32,
    steps: int = 20,
    trials: int = 16,
    seed: int = 0,
) -> Figure:
    """The adaptation learning curve of one memory (the explorer's drawing function).

    ``memory`` names a class in :data:`MEMORIES`; ``lr`` (None: the class default) is
    used by the memories that have one and must be None for the Hebbian memory.
    """
    if memory not in MEMORIES:
        raise ValueError(f"memory must be one of {list(MEMORIES)}, got {memory!r}")
    if lr is not None and memory not in LEARNED:
        raise ValueError(f"{memory} has no learning rate; got lr={lr!r}, expected None")
    factory = MEMORIES[memory] if lr is None else partial(MEMORIES[memory], lr=lr)
    frame = adaptation(factory, steps=steps, trials=trials, dim=dim, seed=seed, label=memory)
    fig, ax = plt.subplots()
    rate = "" if lr is None else f", lr={lr:.3g}"
    plots.learning_curve(frame, ax=ax, title=f"{memory}, dim={dim}{rate}")
    return fig


def default_lr(memory: str, dim: int) -> float | None:
    """The learning rate a memory class uses by default (None if it has none)."""
    if memory == "DeltaRuleMemory":
        return 1.0 / dim
    if memory == "EpisodicMemory":
        return inspect.signature(EpisodicMemory).parameters["lr"].default
    return None


def adaptation_explorer(
    memory: str = "EpisodicMemory", lr: float | None = None, dim: int = 32, steps: int = 20
) -> widgets.VBox:
    """Explore adaptation speed: memory type, learning rate, dimension and steps.

    Choosing another memory resets the learning rate to that memory's default; the
    slider is disabled for the Hebbian memory, which has none.
    """
    lr = default_lr(memory, dim) if lr is None else lr
    slider = widgets.FloatLogSlider(
        value=lr or 0.1,
        base=10,
        min=-3,
        max=1,
        step=0.05,
        description="lr",
        readout_format=".3g",
        disabled=memory not in LEARNED,
    )
    controls = {
        "memory": widgets.Dropdown(options=list(MEMORIES), value=memory, description="memory"),
        "lr": slider,
        "dim": widgets.Dropdown(options=[8, 16, 32, 64, 128, 256], value=dim, description="dim"),
        "steps": widgets.IntSlider(value=steps, min=1, max=50, description="steps"),
    }

    def on_memory(change: dict) -> None:
        slider.disabled = change["new"] not in LEARNED
        if not slider.disabled:
            slider.value = default_lr(change["new"], controls["dim"].value)

    controls["memory"].observe(on_memory, names="value")

    def draw(memory: str, lr: float, dim: int, steps: int) -> Figure:
        return adaptation_figure(memory, lr if memory in LEARNED else None, dim, steps)

    return explorer(draw, controls)
