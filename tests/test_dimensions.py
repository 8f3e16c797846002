"""ProjectingEpisodicMemory, the dimension experiments and first_reaching."""

import copy
from functools import partial

import numpy as np
import pandas as pd
import pytest
import torch

import memnb
from memnb import summaries
from memnb.experiments import (
    batch_delta_rule,
    capacity,
    internal_dimensions,
    projection_trace,
    token_dimensions,
)
from memnb.experiments._build import build_memory, child_seeds
from memnb.experiments.dimensions import bottleneck_recall, reduced_rank_recall

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


def test_internal_dimensions_sigma_min_is_that_of_the_memory_that_was_written():
    grid = internal_dimensions((16,), (8, 16), ("frozen", "learned", "readout"), 6, 3, 2, 4)
    assert grid[grid["design"] == "readout"]["sigma_min"].isna().all()
    for m in (8, 16):
        for design in ("frozen", "learned"):
            factory = partial(memnb.ProjectingEpisodicMemory, memory_dim=m, value_projection=design)
            memory = build_memory(factory, dim=16, trials=2, seed=child_seeds(4, 2)[1])
            keys, values = memnb.data.random_pairs(6, 16, 2, seed=child_seeds(4, 2)[0])
            for _ in range(3):
                memory.update(keys, values)
            expected = torch.linalg.svdvals(memory.value_proj.detach().double()).amin(-1)
            rows = grid[(grid["memory_dim"] == m) & (grid["design"] == design)]
            np.testing.assert_allclose(rows["sigma_min"], expected.numpy(), rtol=1e-6)
    # the rest of each row is the capacity protocol's, unchanged
    factory = partial(memnb.ProjectingEpisodicMemory, memory_dim=8, value_projection="frozen")
    frame = capacity(factory, [6], 3, 2, 16, 4, label="ProjectingEpisodicMemory")
    rows = grid[(grid["memory_dim"] == 8) & (grid["design"] == "frozen")].reset_index(drop=True)
    for column in ("accuracy", "mse", "cosine"):
        np.testing.assert_array_equal(rows[column], frame[column])


def test_a_square_random_projection_is_the_worst_conditioned():
    grid = internal_dimensions((32,), (16, 32, 64), ["frozen"], 5, 1, 8, 0)
    sigma = grid.groupby("memory_dim")["sigma_min"].mean()
    assert sigma[32] < 0.2 * min(sigma[16], sigma[64])


def test_bottleneck_recall_frame():
    frame = bottleneck_recall(16, (4, 8), ("frozen", "readout"), 6, 5, 2, 3, 1, rank=2)
    assert len(frame) == 2 * 2 * 2 * 3
    assert set(frame["tested"]) == {"stored", "heldout"}
    assert (frame["n_items"] == 6).all()
    chance = frame.groupby("tested")["chance"].first()
    assert chance["stored"] == pytest.approx(1 / 6) and chance["heldout"] == pytest.approx(1 / 11)
    assert {"design", "memory_dim", "token_dim", "rank", "noise", "steps", "seed"} <= set(
        frame.columns
    )
    pd.testing.assert_frame_equal(
        frame, bottleneck_recall(16, (4, 8), ("frozen", "readout"), 6, 5, 2, 3, 1, rank=2)
    )


def test_heldout_reads_compete_with_the_held_out_and_the_stored_values():
    frame = bottleneck_recall(16, (8,), ["readout"], 6, 5, 4, 3, 7, rank=2, beta=0.5)
    data_seed, memory_seed = child_seeds(7, 2)
    keys, values = memnb.data.low_rank_pairs(11, 16, 2, 0.5, 3, seed=data_seed)
    factory = partial(memnb.ProjectingEpisodicMemory, memory_dim=8, beta=0.5)
    memory = build_memory(partial(factory, value_projection="readout"), dim=16, trials=3,
                          seed=memory_seed)  # fmt: skip
    for _ in range(4):
        memory.update(keys[:, 5:], values[:, 5:])
    hits = memnb.metrics.nearest_neighbor_recall(memory(keys[:, :5]), values)
    held = frame[frame["tested"] == "heldout"]
    np.testing.assert_allclose(held["accuracy"], hits.double().mean(-1).numpy())
    stored = memnb.metrics.nearest_neighbor_recall(memory(keys[:, 5:]), values[:, 5:])
    np.testing.assert_allclose(
        frame[frame["tested"] == "stored"]["accuracy"], stored.double().mean(-1).numpy()
    )


def test_reduced_rank_recall_is_exact_without_noise_and_fails_below_the_rank():
    frame = reduced_rank_recall(16, (2, 4, 16), 12, 6, 2, 0, rank=4, noise=0.0)
    held = frame[frame["tested"] == "heldout"].groupby("memory_dim")
    np.testing.assert_allclose(held["cosine"].mean()[[4, 16]], 1.0, atol=1e-5)
    assert (held["accuracy"].mean()[[4, 16]] == 1.0).all()
    assert held["cosine"].mean()[2] < 0.95
    assert (frame["design"] == "least squares").all() and (frame["steps"] == 0).all()


def test_reduced_rank_recall_uses_the_pairs_of_bottleneck_recall():
    # the rank-r least-squares fit of the 8 stored pairs recalls them all (r >= 8: exact)
    frame = reduced_rank_recall(16, (16,), 8, 4, 2, 5, rank=3, noise=0.5)
    stored = frame[frame["tested"] == "stored"]
    np.testing.assert_allclose(stored["cosine"], 1.0, atol=1e-5)
    same = bottleneck_recall(16, (4,), ["frozen"], 8, 4, 1, 2, 5, rank=3, noise=0.5)
    assert same["chance"].tolist()[:2] == stored["chance"].tolist()[:2]


@pytest.mark.parametrize(("token_dim", "memory_dim"), [(24, 8), (16, 16), (8, 24)])
def test_the_inverse_of_p_v_is_torch_s_pseudo_inverse(token_dim, memory_dim):
    memory = memnb.ProjectingEpisodicMemory(token_dim, memory_dim, trials=3, seed=0)
    matrix = memory.value_proj.double()
    pinv, singular = memory._inverse()
    torch.testing.assert_close(pinv, torch.linalg.pinv(matrix), rtol=1e-8, atol=1e-10)
    torch.testing.assert_close(singular, torch.linalg.svdvals(matrix).flip(-1))
    assert memory.singular_values().shape == (3, min(token_dim, memory_dim))
    readout = memnb.ProjectingEpisodicMemory(8, 4, value_projection="readout")
    assert readout.singular_values() is None


@pytest.mark.parametrize("design", DESIGNS)
def test_kept_projections_follow_in_place_changes(design):
    memory = memnb.ProjectingEpisodicMemory(24, 8, trials=2, value_projection=design, seed=0)
    keys, values = pairs(trials=2)
    memory.update(keys, values)
    memory(keys)  # keeps the projected keys (and a frozen P_V's products and inverse)
    reference = copy.deepcopy(memory)
    with torch.no_grad():  # change the keys, the values and the projections in place
        keys.mul_(-0.5)
        values.add_(1.0)
        for one in (memory, reference):
            one.key_proj.mul_(2.0)
            if design != "readout":
                one.value_proj.mul_(0.5)
    memory.update(keys, values)
    reference.update(keys.clone(), values.clone())  # new tensors: nothing kept applies
    torch.testing.assert_close(memory(keys), reference(keys.clone()), rtol=0, atol=0)
    if design != "readout":
        torch.testing.assert_close(memory.singular_values(), reference.singular_values())
