"""Divergence: a memory whose reads turn NaN or inf is recorded, not raised, and shown.

Every experiment that takes a memory factory runs :class:`BlowsUp`, whose first trial
reads inf once written: the experiment must finish, flag exactly that trial in its
``diverged`` column and leave the other trials alone. Every plot that draws such a frame
must say so on the figure, and must not when nothing diverged.
"""

from __future__ import annotations

import inspect

import pandas as pd
import pytest
import torch

from memnb import experiments, plots

TRIALS, DIM = 3, 8


class BlowsUp:
    """A Hebbian memory (``trials=T``) whose trial 0 reads inf after its first write."""

    def __init__(self, dim: int, trials: int = 1) -> None:
        self.matrix = torch.zeros(trials, dim, dim)
        self.written = False

    def update(self, keys: torch.Tensor, values: torch.Tensor) -> None:
        self.matrix += values.transpose(-2, -1) @ keys
        self.written = True

    def __call__(self, queries: torch.Tensor) -> torch.Tensor:
        out = queries @ self.matrix.transpose(-2, -1)
        if self.written:
            out[0] = float("inf")
        return out


class Healthy(BlowsUp):
    def __call__(self, queries: torch.Tensor) -> torch.Tensor:
        return queries @ self.matrix.transpose(-2, -1)


SMALL = dict(trials=TRIALS, dim=DIM)
TWO_TASKS = dict(steps=2, n_train=4, n_test=4, **SMALL)
RUNS = {
    "adaptation": lambda f: experiments.adaptation(f, steps=2, **SMALL),
    "capacity": lambda f: experiments.capacity(f, n_items=(2, 4), steps=1, **SMALL),
    "key_updates": lambda f: experiments.key_updates(f, rounds=(1, 2), n_keys=3, **SMALL),
    "token_dimensions": lambda f: experiments.token_dimensions(
        f, dims=(4, 8), n_items=4, steps=1, trials=TRIALS
    ),
    "forgetting": lambda f: experiments.forgetting(f, **TWO_TASKS),
    "forgetting_trace": lambda f: experiments.forgetting_trace(f, **TWO_TASKS),
    "forgetting_by_writes": lambda f: experiments.forgetting_by_writes(
        f, (1, 2), steps_a=2, n_train=4, n_test=4, **SMALL
    ),
    "task_sequence": lambda f: experiments.task_sequence(f, n_tasks=3, **TWO_TASKS),
    "span_retention": lambda f: experiments.span_retention(f, **TWO_TASKS),
    "span_retention_by_writes": lambda f: experiments.span_retention_by_writes(
        f, (1, 2), steps_a=2, n_train=4, n_test=4, **SMALL
    ),
    "key_recall": lambda f: experiments.key_recall(f, n_items=(2, 4), n_unseen=4, **SMALL),
    "probe": lambda f: experiments.probe(f, steps=1, **SMALL),
    "chain_recall": lambda f: experiments.chain_recall(f, length=4, steps=1, **SMALL),
    "free_recall": lambda f: experiments.free_recall(f, length=5, steps=1, **SMALL),
    "completion": lambda f: experiments.completion(f, n_patterns=(2, 4), noise=0.25, **SMALL),
    "attractors": lambda f: experiments.attractors(f, n_patterns=(2, 4), cues=4, **SMALL),
}


def _trial_of(frame: pd.DataFrame) -> pd.Series:
    return frame["subject"] - 1 if "subject" in frame.columns else frame["trial"]


@pytest.mark.parametrize("name", list(RUNS))
def test_experiments_record_divergence_instead_of_raising(name):
    frame = RUNS[name](BlowsUp)
    assert frame["diverged"].dtype == bool
    assert (frame["diverged"] == (_trial_of(frame) == 0)).all()  # trial 0, and only it
    assert not RUNS[name](Healthy)["diverged"].any()


def test_every_experiment_that_takes_a_memory_is_run():
    takes_memory = {
        name
        for name in experiments.__all__
        if "factory" in inspect.signature(getattr(experiments, name)).parameters
    }
    assert takes_memory - {"build_memory"} <= set(RUNS), takes_memory - set(RUNS)


def test_projection_trace_has_a_diverged_column():
    trace = experiments.projection_trace(8, 4, ["frozen"], steps=(0, 1), n_items=4, trials=2)
    assert trace["diverged"].dtype == bool and not trace["diverged"].any()


# ---------------------------------------------------------------------------------------------
# Plots


def _texts(fig) -> list[str]:
    """Every piece of text on a figure: annotations, legends and labels of lines."""
    found = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        found += [t.get_text() for t in ax.texts]
        found += [str(line.get_label()) for line in ax.lines]
        legend = ax.get_legend()
        if legend is not None:
            found += [t.get_text() for t in legend.get_texts()]
    for legend in fig.legends:
        found += [t.get_text() for t in legend.get_texts()]
    return found


def _profile_frame(factory) -> pd.DataFrame:
    parts = {
        "adaptation": RUNS["adaptation"](factory),
        "capacity": RUNS["capacity"](factory),
        "forgetting": RUNS["forgetting"](factory),
        "dimensions": RUNS["token_dimensions"](factory),
        "contiguity": RUNS["probe"](factory),
        "cue_noise": RUNS["capacity"](factory),
    }
    frames = [f.assign(protocol=p, memory="mine") for p, f in parts.items()]
    return pd.concat(frames, ignore_index=True)


def _with_trial_zero_diverged(frame: pd.DataFrame, diverged: bool) -> pd.DataFrame:
    return frame.assign(diverged=(frame["trial"] == 0) & diverged)


def _projection(diverged: bool) -> pd.DataFrame:
    trace = experiments.projection_trace(8, 4, ["frozen"], steps=(0, 1), n_items=4, trials=2)
    return _with_trial_zero_diverged(trace, diverged)


def _heatmap_frame(factory) -> pd.DataFrame:
    return RUNS["capacity"](factory).assign(memory_dim=4)


PLOTS = {
    "learning_curve": lambda f: plots.learning_curve(RUNS["adaptation"](f)).figure,
    "learning_curve cosine": lambda f: (
        plots.learning_curve(RUNS["adaptation"](f), y="cosine", logy=False).figure
    ),
    "capacity_curve": lambda f: plots.capacity_curve(RUNS["capacity"](f)).figure,
    "capacity_panels": lambda f: plots.capacity_panels(RUNS["capacity"](f))[0],
    "key_panels": lambda f: plots.key_panels(RUNS["key_recall"](f))[0],
    "task_accuracies": lambda f: plots.task_accuracies(RUNS["forgetting"](f)).figure,
    "sweep_curve": lambda f: (
        plots.sweep_curve(RUNS["token_dimensions"](f), "dim", "accuracy").figure
    ),
    "forgetting_trace": lambda f: plots.forgetting_trace(RUNS["forgetting_trace"](f)).figure,
    "probe_strip": lambda f: (
        plots.probe_strip(RUNS["probe"](f).query("cue == 'B'"), hue="memory").figure
    ),
    "chain_curve": lambda f: plots.chain_curve(RUNS["chain_recall"](f)).figure,
    "projection_panels": lambda f: plots.projection_panels(_projection(f is BlowsUp))[0],
    "dimension_heatmap": lambda f: plots.dimension_heatmap(_heatmap_frame(f), y="dim").figure,
    "profile_panels": lambda f: plots.profile_panels(
        _profile_frame(f),
        ("adaptation", "capacity", "forgetting", "dimensions", "contiguity", "cue_noise"),
    ),
}


@pytest.mark.parametrize("name", list(PLOTS))
def test_plots_mark_diverged_runs(name):
    marked = [t for t in _texts(PLOTS[name](BlowsUp)) if "diverged" in t]
    assert marked, f"{name} drew a diverged run without saying so"
    assert not [t for t in _texts(PLOTS[name](Healthy)) if "diverged" in t]
