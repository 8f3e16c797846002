"""Interactive explorers: thin ipywidgets wrappers around memnb's experiments and plots."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import partial

import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython.display import display
from matplotlib.figure import Figure

from . import _validate, plots, summaries
from .data import NONLINEARITIES
from .experiments import adaptation, capacity, forgetting_trace
from .experiments.keys import key_recall, stable_lr
from .experiments.sequences import HUMAN_STUDIES, free_recall, human_lag_crp, lag_crp
from .memories import AttentionMemory, DeltaRuleMemory, EpisodicMemory, MatrixAssociativeMemory

__all__ = [
    "adaptation_explorer",
    "adaptation_figure",
    "capacity_explorer",
    "capacity_figure",
    "default_lr",
    "dimensions_explorer",
    "dimensions_figure",
    "explorer",
    "forgetting_explorer",
    "forgetting_figure",
    "keys_explorer",
    "keys_figure",
    "lr_slider",
    "sequences_explorer",
    "sequences_figure",
]

LEARNED = {"EpisodicMemory": EpisodicMemory, "DeltaRuleMemory": DeltaRuleMemory}
MEMORIES = {**LEARNED, "MatrixAssociativeMemory": MatrixAssociativeMemory}
DIMS = [8, 16, 32, 64, 128, 256]  # the dimensions offered by the adaptation explorer


def _bounded(name: str, value: object, low: float, high: float) -> float:
    """``value`` if it is a number in ``[low, high]`` (an int when both bounds are ints)."""
    whole = isinstance(low, int) and isinstance(high, int)
    number = _validate.positive_int(name, value) if whole else _validate.number(name, value)
    if not low <= number <= high:
        raise ValueError(
            f"{name} must be between {low} and {high} (the control's range), got {value}"
        )
    return number


def explorer(draw: Callable[..., object], controls: dict[str, widgets.ValueWidget]) -> widgets.VBox:
    """Controls above an output area; ``draw(**values)`` makes a figure for the values.

    The figure for the initial values is drawn at once, so the area is never empty.
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

    def redraw(**values: object) -> None:
        fig = draw(**values)
        display(fig)
        plt.close(fig)

    out = widgets.interactive_output(redraw, controls)
    row = widgets.HBox(list(controls.values()), layout=widgets.Layout(flex_flow="row wrap"))
    return widgets.VBox([row, out])


def lr_slider(
    memory: widgets.Dropdown,
    default_for: Callable[[str], float | None],
    value: float | None,
    exponents: tuple[int, int],
) -> widgets.FloatLogSlider:
    """A log-scale learning-rate slider that follows a memory dropdown.

    ``default_for(name)`` is the learning rate of memory ``name`` (None: it has none).
    The slider starts at ``value`` (None: the chosen memory's default), is disabled for
    memories without a learning rate, and is reset to the default when the memory
    changes. ``exponents`` are the powers of ten at its ends.
    """
    if not isinstance(memory, widgets.Dropdown):
        raise TypeError(f"memory must be an ipywidgets Dropdown, got {type(memory).__name__}")
    _validate.callable_("default_for", default_for, "a function of a memory name")
    if not (
        isinstance(exponents, tuple)
        and len(exponents) == 2
        and all(isinstance(e, int) and not isinstance(e, bool) for e in exponents)
        and exponents[0] < exponents[1]
    ):
        raise ValueError(f"exponents must be two increasing ints (low, high), got {exponents!r}")
    if value is not None:
        _bounded("lr", value, 10.0 ** exponents[0], 10.0 ** exponents[1])
    default = default_for(memory.value)
    slider = widgets.FloatLogSlider(
        value=value if value is not None else default or 10.0 ** exponents[0],
        base=10,
        min=exponents[0],
        max=exponents[1],
        step=0.05,
        description="lr",
        readout_format=".3g",
        disabled=default is None,
    )

    def on_memory(change: dict) -> None:
        new_default = default_for(change["new"])
        slider.disabled = new_default is None
        if new_default is not None:
            slider.value = new_default

    memory.observe(on_memory, names="value")
    return slider


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
    _validate.one_of("memory", memory, MEMORIES)
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
    _validate.one_of("memory", memory, MEMORIES)
    dim = _validate.positive_int("dim", dim)
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
    _validate.one_of("memory", memory, MEMORIES)
    _validate.one_of("dim", dim, DIMS)
    _bounded("steps", steps, 1, 50)
    memory_menu = widgets.Dropdown(options=list(MEMORIES), value=memory, description="memory")
    dim_menu = widgets.Dropdown(options=DIMS, value=dim, description="dim")
    controls = {
        "memory": memory_menu,
        "lr": lr_slider(memory_menu, lambda name: default_lr(name, dim_menu.value), lr, (-3, 1)),
        "dim": dim_menu,
        "steps": widgets.IntSlider(value=steps, min=1, max=50, description="steps"),
    }

    def draw(memory: str, lr: float, dim: int, steps: int) -> Figure:
        return adaptation_figure(memory, lr if memory in LEARNED else None, dim, steps)

    return explorer(draw, controls)


# ---------------------------------------------------------------------------------------------
# Forgetting

FORGETTING_MEMORIES = {**MEMORIES, "AttentionMemory": AttentionMemory}
# Learning rates for bulk writes of a whole task. The delta rule's default 1/dim suits one
# pair at a time; a write of N pairs is stable only while lr * (largest eigenvalue of K^T K)
# < 2, and that eigenvalue grows with N (see the forgetting chapter).
FORGETTING_LR = {"EpisodicMemory": 0.1, "DeltaRuleMemory": 0.0015}


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

    ``memory`` names a class in :data:`FORGETTING_MEMORIES`; ``lr`` (None: the value in
    :data:`FORGETTING_LR`) is used by the memories that have one and must be None for the
    others. ``kind`` is ``"clustered"`` (``clusters`` clusters per task) or ``"random"``.
    """
    _validate.one_of("memory", memory, FORGETTING_MEMORIES)
    if lr is not None and memory not in FORGETTING_LR:
        raise ValueError(f"{memory} has no learning rate; got lr={lr!r}, expected None")
    lr = FORGETTING_LR.get(memory) if lr is None else lr
    factory = FORGETTING_MEMORIES[memory]
    factory = factory if lr is None else partial(factory, lr=lr)
    options = {"clusters": clusters} if kind == "clustered" else {}
    frame = forgetting_trace(
        factory,
        steps=(steps_a, steps_b),
        trials=trials,
        dim=dim,
        seed=seed,
        kind=kind,
        n_train=(n_train_a, n_train_b),
        label=memory,
        **options,
    )
    fig, ax = plt.subplots(figsize=(7.0, 4.0), layout="constrained")
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
    _validate.one_of("memory", memory, FORGETTING_MEMORIES)
    _validate.one_of("kind", kind, ("clustered", "random"))
    for name, value, high in (
        ("n_train_a", n_train_a, 64),
        ("n_train_b", n_train_b, 128),
        ("steps_a", steps_a, 50),
        ("steps_b", steps_b, 100),
    ):
        _bounded(name, value, 1 if name.startswith("steps") else 4, high)
    memory_menu = widgets.Dropdown(
        options=list(FORGETTING_MEMORIES), value=memory, description="memory"
    )
    controls = {
        "memory": memory_menu,
        "kind": widgets.Dropdown(options=["clustered", "random"], value=kind, description="kind"),
        "n_train_a": widgets.IntSlider(value=n_train_a, min=4, max=64, description="pairs A"),
        "n_train_b": widgets.IntSlider(value=n_train_b, min=4, max=128, description="pairs B"),
        "steps_a": widgets.IntSlider(value=steps_a, min=1, max=50, description="steps A"),
        "steps_b": widgets.IntSlider(value=steps_b, min=1, max=100, description="steps B"),
        "lr": lr_slider(memory_menu, FORGETTING_LR.get, lr, (-4, 0)),
    }

    def draw(memory: str, lr: float, **sizes: object) -> Figure:
        return forgetting_figure(memory, lr=lr if memory in FORGETTING_LR else None, **sizes)

    return explorer(draw, controls)


# ---------------------------------------------------------------------------------------------
# Capacity

CAPACITY_MEMORIES = {**MEMORIES, "AttentionMemory": AttentionMemory}


def capacity_figure(
    memory: str = "EpisodicMemory",
    max_items: int = 512,
    dim: int = 64,
    steps: int = 5,
    trials: int = 16,
    seed: int = 0,
) -> Figure:
    """Recall accuracy, MSE and cosine distance against N for one memory at its defaults.

    N runs over the powers of two from 4 to ``max_items``; every N gets a fresh memory
    (``memory`` names a class in :data:`CAPACITY_MEMORIES`) written ``steps`` times with
    all N pairs. The dotted vertical line marks the capacity (N at 95 % recall).
    """
    _validate.one_of("memory", memory, CAPACITY_MEMORIES)
    if _validate.positive_int("max_items", max_items) < 4:
        raise ValueError(f"max_items must be at least 4, got {max_items}")
    sizes = [2**i for i in range(2, max_items.bit_length()) if 2**i <= max_items]
    frame = capacity(CAPACITY_MEMORIES[memory], sizes, steps, trials, dim, seed, label=memory)
    found = summaries.capacity_at(frame).iloc[0]
    sign = ">= " if found["lower_bound"] else ""
    title = f"{memory}, dim={dim}, steps={steps}: capacity {sign}{found['capacity']:.0f}"
    fig, axes = plots.capacity_panels(frame, title=title)
    if found["capacity"] == found["capacity"]:  # not NaN
        for ax in axes:
            ax.axvline(found["capacity"], color="k", ls=":", lw=1)
    return fig


def capacity_explorer(
    memory: str = "EpisodicMemory", max_items: int = 512, dim: int = 64, steps: int = 5
) -> widgets.VBox:
    """Explore capture capacity: memory type, largest N, dimension and number of writes."""
    _validate.one_of("memory", memory, CAPACITY_MEMORIES)
    _validate.one_of("max_items", max_items, [2**i for i in range(4, 12)])
    _validate.one_of("dim", dim, [8, 16, 32, 64, 128])
    _bounded("steps", steps, 1, 100)
    controls = {
        "memory": widgets.Dropdown(
            options=list(CAPACITY_MEMORIES), value=memory, description="memory"
        ),
        "max_items": widgets.Dropdown(
            options=[2**i for i in range(4, 12)], value=max_items, description="N up to"
        ),
        "dim": widgets.Dropdown(options=[8, 16, 32, 64, 128], value=dim, description="dim"),
        "steps": widgets.IntSlider(value=steps, min=1, max=100, description="steps"),
    }
    return explorer(capacity_figure, controls)


SEQUENCE_MEMORIES = {**MEMORIES, "AttentionMemory": AttentionMemory}


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

    ``memory`` names the class (in :data:`SEQUENCE_MEMORIES`) that stores the model's
    associations; the human curves are psifr's Morton2013 and PEERS sample data.
    """
    _validate.one_of("memory", memory, SEQUENCE_MEMORIES)
    table = free_recall(SEQUENCE_MEMORIES[memory], model, length, trials, dim, rho, tau, seed=seed)
    crps = {f"{model} model ({memory})": lag_crp(table)}
    crps.update({f"people, {study}": human_lag_crp(study) for study in HUMAN_STUDIES})
    fig, ax = plt.subplots()
    plots.lag_crp_curve(crps, ax=ax, title=f"{model} model, L={length}, rho={rho}, tau={tau}")
    return fig


def sequences_explorer(
    model: str = "context",
    memory: str = "MatrixAssociativeMemory",
    rho: float = 0.6,
    tau: float = 0.05,
    length: int = 16,
) -> widgets.VBox:
    """Explore the lag-CRP of the models: model, memory, context drift rho, choice
    temperature tau and list length."""
    _validate.one_of("model", model, ["chain", "context"])
    _validate.one_of("memory", memory, SEQUENCE_MEMORIES)
    _bounded("rho", rho, 0.0, 0.95)
    _bounded("tau", tau, 0.01, 1.0)
    _bounded("length", length, 4, 32)
    controls = {
        "model": widgets.Dropdown(options=["chain", "context"], value=model, description="model"),
        "memory": widgets.Dropdown(
            options=list(SEQUENCE_MEMORIES), value=memory, description="memory"
        ),
        "rho": widgets.FloatSlider(value=rho, min=0.0, max=0.95, step=0.05, description="rho"),
        "tau": widgets.FloatLogSlider(value=tau, base=10, min=-2, max=0, description="tau"),
        "length": widgets.IntSlider(value=length, min=4, max=32, description="list length"),
    }
    return explorer(sequences_figure, controls)


# ---------------------------------------------------------------------------------------------
# Keys

KEY_MEMORIES = CAPACITY_MEMORIES


def keys_figure(
    memory: str = "DeltaRuleMemory",
    context_dim: int = 64,
    key_rank: int = 64,
    nonlinearity: str = "linear",
    steps: int = 20,
    dim: int = 64,
    trials: int = 16,
    seed: int = 0,
) -> Figure:
    """Recall of stored pairs and of unseen contexts against N, for autoassociative pairs
    ``k = W_K x``, ``v = W_V f(x)`` (the explorer's drawing function).

    ``memory`` names a class in :data:`KEY_MEMORIES` (the delta rule runs at
    :func:`memnb.experiments.stable_lr` for the largest N); ``key_rank`` caps the rank of
    ``W_K`` (values >= min(dim, context_dim) mean full rank); N runs over 4, 8, ..., 256.
    """
    _validate.one_of("memory", memory, KEY_MEMORIES)
    sizes = [4, 8, 16, 32, 64, 128, 256]
    rank = _validate.positive_int("key_rank", key_rank)
    rank = None if rank >= min(dim, context_dim) else rank
    factory = KEY_MEMORIES[memory]
    if memory == "DeltaRuleMemory":
        lr = stable_lr(max(sizes), dim, context_dim=context_dim, key_rank=rank)
        factory = partial(factory, lr=lr)
    frame = key_recall(
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
    )
    frame = frame.assign(measure=frame["tested"].map(plots.TESTED))
    fig, axes = plots.subplots(2, width=4.6, height=3.6)
    for ax, y in zip(axes, ("accuracy", "cosine"), strict=True):
        plots.capacity_curve(frame, y, hue="measure", ax=ax)
    axes[0].set_ylim(-0.02, 1.02)
    axes[1].get_legend().remove()
    shape = f"W_K {dim}x{context_dim}, rank {rank or min(dim, context_dim)}, f={nonlinearity}"
    fig.suptitle(f"{memory}, {steps} writes; {shape}")
    return fig


def keys_explorer(
    memory: str = "DeltaRuleMemory",
    context_dim: int = 64,
    key_rank: int = 64,
    nonlinearity: str = "linear",
    steps: int = 20,
) -> widgets.VBox:
    """Explore key recall: memory, context dimension, rank of W_K, nonlinearity, writes."""
    _validate.one_of("memory", memory, KEY_MEMORIES)
    _validate.one_of("context_dim", context_dim, [16, 32, 64, 128, 256])
    _validate.one_of("key_rank", key_rank, [4, 8, 16, 32, 64])
    _validate.one_of("nonlinearity", nonlinearity, NONLINEARITIES)
    _bounded("steps", steps, 1, 50)
    controls = {
        "memory": widgets.Dropdown(options=list(KEY_MEMORIES), value=memory, description="memory"),
        "context_dim": widgets.Dropdown(
            options=[16, 32, 64, 128, 256], value=context_dim, description="dim of x"
        ),
        "key_rank": widgets.Dropdown(
            options=[4, 8, 16, 32, 64], value=key_rank, description="rank W_K"
        ),
        "nonlinearity": widgets.Dropdown(
            options=list(NONLINEARITIES), value=nonlinearity, description="f"
        ),
        "steps": widgets.IntSlider(value=steps, min=1, max=50, description="writes"),
    }
    return explorer(keys_figure, controls)


# ---------------------------------------------------------------------------------------------
# Embedding dimensions

DIMENSION_MEMORIES = {
    "EpisodicMemory": EpisodicMemory,
    "MatrixAssociativeMemory": MatrixAssociativeMemory,
    "DeltaRuleMemory": None,  # built per batch size by batch_delta_rule
    "AttentionMemory": AttentionMemory,
}


def dimensions_figure(
    memory: str = "EpisodicMemory",
    design: str = "learned",
    token_dim: int = 128,
    memory_dim: int = 16,
    n_items: int = 50,
    trials: int = 16,
    seed: int = 0,
) -> Figure:
    """Left: recall of ``memory`` against the token dimension (N = ``n_items``, five writes).

    Right: a :class:`~memnb.ProjectingEpisodicMemory` of the chosen ``design``,
    ``token_dim`` and ``memory_dim`` written 0-100 times: its own loss and token recall.
    """
    from .experiments import batch_delta_rule, projection_trace, token_dimensions

    _validate.one_of("memory", memory, DIMENSION_MEMORIES)
    factory = DIMENSION_MEMORIES[memory] or batch_delta_rule(n_items)
    sweep = token_dimensions(factory, n_items=n_items, trials=trials, seed=seed, label=memory)
    trace = projection_trace(token_dim, memory_dim, [design], n_items=n_items, trials=trials)
    fig, (left, mid, right) = plots.subplots(3, width=4.4, height=3.6)
    plots.sweep_curve(sweep, "dim", "accuracy", ax=left, logx=True, xlabel="token dimension d")
    left.axhline(0.95, color="k", ls=":", lw=1)
    left.set_ylabel(plots.TRACE_LABELS["accuracy"])
    for ax, y in ((mid, "loss"), (right, "accuracy")):
        plots.sweep_curve(trace, "step", y, hue=None, ax=ax, xlabel="writes of all N pairs")
        ax.set_ylabel(plots.TRACE_LABELS[y])
    mid.set_yscale("log")
    right.set_ylim(-0.02, 1.02)
    fig.suptitle(f"left: {memory}; middle, right: {design} design, {token_dim} -> {memory_dim}")
    return fig


def dimensions_explorer(
    memory: str = "EpisodicMemory",
    design: str = "learned",
    token_dim: int = 128,
    memory_dim: int = 16,
) -> widgets.VBox:
    """Explore embedding dimensions: memory type, value-projection design, both dimensions."""
    from .memories.projecting import DESIGNS

    sizes = [16, 32, 64, 128, 256]
    _validate.one_of("memory", memory, DIMENSION_MEMORIES)
    _validate.one_of("design", design, DESIGNS)
    _validate.one_of("token_dim", token_dim, sizes)
    _validate.one_of("memory_dim", memory_dim, sizes)
    controls = {
        "memory": widgets.Dropdown(
            options=list(DIMENSION_MEMORIES), value=memory, description="memory"
        ),
        "design": widgets.Dropdown(options=list(DESIGNS), value=design, description="design"),
        "token_dim": widgets.Dropdown(options=sizes, value=token_dim, description="token dim"),
        "memory_dim": widgets.Dropdown(options=sizes, value=memory_dim, description="memory dim"),
    }
    return explorer(dimensions_figure, controls)
