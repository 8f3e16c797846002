"""The registry of the book's memories: its order, that it is read-only, and pick."""

from __future__ import annotations

import inspect

import pytest
import torch

import memnb
from memnb.memories import MEMORIES, pick

BOOK_ORDER = [
    "EpisodicMemory",
    "MatrixAssociativeMemory",
    "DeltaRuleMemory",
    "AttentionMemory",
    "NeuralMemory",
    "ProjectingEpisodicMemory",
    "DeltaNetMemory",
    "GatedDeltaNetMemory",
    "LinearAttentionMemory",
    "SlidingWindowMemory",
]
# Constructor arguments before ``trials`` where a memory needs more than its dimension.
ARGS = {"ProjectingEpisodicMemory": (16, 8)}
# Memories that store each pattern as its own value: written with values equal to keys.
AUTOASSOCIATIVE = {"HopfieldMemory", "DenseAssociativeMemory"}


def test_the_book_memories_come_first_in_the_agreed_order():
    assert list(MEMORIES)[: len(BOOK_ORDER)] == BOOK_ORDER


def test_every_entry_is_the_memory_class_of_that_name():
    for name, factory in MEMORIES.items():
        assert inspect.isclass(factory) and factory.__name__ == name
        assert getattr(memnb.memories, name) is factory


def test_the_registry_is_read_only():
    with pytest.raises(TypeError):
        MEMORIES["Mine"] = memnb.DeltaRuleMemory  # type: ignore[index]
    with pytest.raises(TypeError):
        del MEMORIES["EpisodicMemory"]  # type: ignore[attr-defined]
    assert "Mine" not in MEMORIES


def test_pick_returns_a_new_dict_in_the_order_given():
    picked = pick("AttentionMemory", "EpisodicMemory")
    assert list(picked) == ["AttentionMemory", "EpisodicMemory"]
    assert picked["EpisodicMemory"] is MEMORIES["EpisodicMemory"]
    picked["Mine"] = memnb.DeltaRuleMemory  # the caller's own dict
    assert "Mine" not in MEMORIES and "Mine" not in pick("AttentionMemory", "EpisodicMemory")


@pytest.mark.parametrize(
    ("names", "error", "message"),
    [
        (("EpisodicMemory", "Hopfield"), ValueError, r"unknown.*\['Hopfield'\].*known.*Episodic"),
        ((), ValueError, r"at least one memory name.*known.*DeltaRuleMemory"),
        (("DeltaRuleMemory", "DeltaRuleMemory"), ValueError, r"distinct.*\['DeltaRuleMemory'\]"),
        ((memnb.EpisodicMemory,), TypeError, r"names.*str.*EpisodicMemory.*type"),
    ],
)
def test_pick_rejects_names_it_does_not_know(names, error, message):
    with pytest.raises(error, match=message):
        pick(*names)


@pytest.mark.parametrize("name", list(MEMORIES))
def test_every_entry_builds_with_trials_and_reads_what_it_wrote(name):
    trials, n, dim = 3, 5, 16
    generator = torch.Generator().manual_seed(0)
    keys = torch.randn(trials, n, dim, generator=generator)
    values = torch.randn(trials, n, dim, generator=generator)
    queries = keys
    if name in AUTOASSOCIATIVE:  # ±1 patterns, read from cues with three units flipped
        keys = values = torch.sign(keys)
        queries = torch.cat([-keys[..., :3], keys[..., 3:]], dim=-1)
    memory = MEMORIES[name](*ARGS.get(name, (dim,)), trials=trials)
    before = memory(queries)
    memory.update(keys, values)
    after = memory(queries)
    assert after.shape == (trials, n, dim)
    assert torch.isfinite(after).all()
    # the write reached every one of the memories it holds
    assert all(not torch.equal(before[t], after[t]) for t in range(trials))
