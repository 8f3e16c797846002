"""ProjectingEpisodicMemory, the dimension experiments and first_reaching."""

import pandas as pd
import pytest
import torch

import memnb
from memnb import summaries
from memnb.experiments import (
    batch_delta_rule,
    internal_dimensions,
    projection_trace,
    token_dimensions,
)

DESIGNS = ("learned", "frozen", "readout")


def pairs(n=10, dim=24, trials=None, seed=1):
    return memnb.data.random_pairs(n, dim, trials, seed=seed)


@pytest.mark.parametrize("design", DESIGNS)
def test_shapes_in_token_space(design):
    memory = memnb.ProjectingEpisodicMemory(24, 8, trials=3, value_projection=design, seed=0)
    keys, values = pairs(trials=3)
    assert memory.update(keys, values).shape == (3,)
    assert memory(keys).shape == (3, 10, 24)
    single = memnb.ProjectingEpisodicMemory(24, 8, value_projection=design, seed=0)
    assert single.update(*pairs()).shape == ()
    assert single(pairs()[0]).shape == (10, 24)
    assert memory.key_proj.shape == (3, 8, 24)


@pytest.mark.parametrize("design", DESIGNS)
def test_trials_equal_separate_memories(design):
    batched = memnb.ProjectingEpisodicMemory(24, 8, trials=2, value_projection=design, seed=0)
    keys, values = pairs(trials=2)
    singles = []
    for t in range(2):
        one = memnb.ProjectingEpisodicMemory(24, 8, value_projection=design, seed=5)
        with torch.no_grad():  # copy trial t's state into a single memory
            for name, tensor in [*one.named_parameters(), *one.named_buffers()]:
                tensor.copy_(getattr(batched, name)[t])
        singles.append(one)
    for _ in range(3):
        batched.update(keys, values)
        for t, one in enumerate(singles):
            one.update(keys[t], values[t])
    for t, one in enumerate(singles):
        torch.testing.assert_close(batched(keys)[t], one(keys[t]), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    ("design", "extra"), [("learned", "value_proj"), ("frozen", None), ("readout", "readout")]
)
def test_learned_parameters_are_in_the_optimizer(design, extra):
    memory = memnb.ProjectingEpisodicMemory(24, 8, value_projection=design, seed=0)
    in_optimizer = {id(p) for group in memory.optimizer.param_groups for p in group["params"]}
    assert id(memory.slot_keys) in in_optimizer and id(memory.slot_values) in in_optimizer
    assert {id(p) for p in memory.parameters()} == in_optimizer
    if extra is not None:
        assert id(getattr(memory, extra)) in in_optimizer
    else:
        assert len(memory.optimizer.param_groups) == 1
    assert id(memory.key_proj) not in in_optimizer


def test_naive_value_projection_shrinks_the_stored_values():
    memory = memnb.ProjectingEpisodicMemory(64, 8, trials=4, value_projection="learned", seed=0)
    keys, values = pairs(20, 64, trials=4)
    before = memory.project_values(values).pow(2).mean()
    for _ in range(50):
        memory.update(keys, values)
    assert memory.project_values(values).pow(2).mean() < before / 10
    assert memory.loss(keys, values).max() < 0.01


def test_frozen_projection_does_not_move():
    memory = memnb.ProjectingEpisodicMemory(24, 8, value_projection="frozen", seed=0)
    start = memory.value_proj.clone()
    memory.update(*pairs())
    torch.testing.assert_close(memory.value_proj, start)
    assert memory.project_values(pairs()[1]).shape == (10, 8)
    readout = memnb.ProjectingEpisodicMemory(24, 8, value_projection="readout", seed=0)
    assert readout.project_values(pairs()[1]) is None


def test_token_dim_mismatch_names_the_argument_and_shapes():
    memory = memnb.ProjectingEpisodicMemory(24, 8, seed=0)
    keys, values = pairs(dim=8)
    with pytest.raises(ValueError, match=r"keys must have last dimension token_dim=24.*\(10, 8\)"):
        memory.update(keys, values)
    with pytest.raises(ValueError, match="queries must have last dimension token_dim=24"):
        memory(keys)
    with pytest.raises(ValueError, match="values"):
        memory.update(pairs()[0], values)


def test_bad_arguments():
    with pytest.raises(ValueError, match="value_projection"):
        memnb.ProjectingEpisodicMemory(24, 8, value_projection="trained")
    with pytest.raises(ValueError, match="memory_dim"):
        memnb.ProjectingEpisodicMemory(24, 0)
    with pytest.raises(TypeError, match="token_dim"):
        memnb.ProjectingEpisodicMemory(24.5, 8)


def test_token_dimensions_frame_and_determinism():
    run = dict(dims=(8, 16), n_items=10, steps=2, trials=3, seed=0)
    frame = token_dimensions(memnb.MatrixAssociativeMemory, **run)
    assert len(frame) == 6 and set(frame["dim"]) == {8, 16}
    assert {"trial", "n_items", "accuracy", "memory", "dim", "steps"} <= set(frame.columns)
    pd.testing.assert_frame_equal(frame, token_dimensions(memnb.MatrixAssociativeMemory, **run))
    with pytest.raises(ValueError, match="dims"):
        token_dimensions(memnb.MatrixAssociativeMemory, dims=())


def test_batch_delta_rule_is_stable_for_a_batch():
    factory = batch_delta_rule(50)
    frame = token_dimensions(factory, dims=(8,), n_items=50, steps=20, trials=2)
    assert frame["memory"].eq("DeltaRuleMemory").all() and not frame["diverged"].any()
    assert factory(8).lr < 1 / 8


def test_internal_dimensions_and_trace_frames():
    grid = internal_dimensions((16,), (4, 8), ("frozen", "readout"), 5, 2, 2, 0)
    assert len(grid) == 8 and {"token_dim", "memory_dim", "design"} <= set(grid.columns)
    pd.testing.assert_frame_equal(
        grid, internal_dimensions((16,), (4, 8), ("frozen", "readout"), 5, 2, 2, 0)
    )
    with pytest.raises(ValueError, match="designs"):
        internal_dimensions(designs=("naive",))
    trace = projection_trace(16, 4, steps=(0, 1, 3), n_items=5, trials=2)
    assert list(trace.columns[:3]) == ["design", "trial", "step"]
    assert len(trace) == 3 * 3 * 2
    assert trace[trace["design"] == "readout"]["value_power"].isna().all()


def test_first_reaching():
    frame = pd.DataFrame(
        {"memory": ["a"] * 3 + ["b"] * 3 + ["c"] * 3, "dim": [8, 16, 32] * 3,
         "accuracy": [0.5, 0.9, 1.0, 0.96, 1, 1, 0.1, 0.2, 0.3]}
    )  # fmt: skip
    out = summaries.first_reaching(frame)
    assert (
        out.loc["a", "crossing"] == pytest.approx(2 ** (4 + 0.5)) and not out.loc["a", "at_first"]
    )
    assert out.loc["b", "crossing"] == 8 and out.loc["b", "at_first"]
    assert pd.isna(out.loc["c", "crossing"])
    with pytest.raises(ValueError, match="threshold"):
        summaries.first_reaching(frame, threshold=1.5)
    with pytest.raises(ValueError, match="lacks column"):
        summaries.first_reaching(frame, x="token_dim")
