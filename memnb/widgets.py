"""Interactive explorers: thin ipywidgets wrappers around memnb's experiments and plots."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython.display import display

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
    return widgets.VBox([widgets.HBox(list(controls.values())), out])


def adaptation_figure(memory: str, lr: float, dim: int, steps: int, trials: int = 16, seed: int = 0):
    """The adaptation learning curve of one memory (the explorer's drawing function)."""
    cls = MEMORIES[memory]
    factory = partial(cls, lr=lr) if memory in LEARNED else cls
    frame = adaptation(factory, steps=steps, trials=trials, dim=dim, seed=seed, label=memory)
    fig, ax = plt.subplots()
    plots.learning_curve(frame, ax=ax, title=f"{memory}, dim={dim}" + (f", lr={lr:g}" if memory in LEARNED else ""))
    return fig


def adaptation_explorer(
    memory: str = "EpisodicMemory", lr: float = 0.1, dim: int = 32, steps: int = 20
) -> widgets.VBox:
    """Explore adaptation speed: memory type, learning rate, dimension and steps."""
    controls = {
        "memory": widgets.Dropdown(options=list(MEMORIES), value=memory, description="memory"),
        "lr": widgets.FloatLogSlider(value=lr, base=10, min=-3, max=1, step=0.25, description="lr"),
        "dim": widgets.Dropdown(options=[8, 16, 32, 64, 128, 256], value=dim, description="dim"),
        "steps": widgets.IntSlider(value=steps, min=1, max=50, description="steps"),
    }
    return explorer(adaptation_figure, controls)
