"""Experiment protocols. Each runs all trials as one batched memory and returns a tidy frame."""

from ._build import build_memory
from .adaptation import adaptation
from .capacity import attention_weights, capacity, key_updates
from .completion import attractors, completion
from .dimensions import (
    batch_delta_rule,
    bottleneck_recall,
    internal_dimensions,
    projection_trace,
    reduced_rank_recall,
    token_dimensions,
)
from .forgetting import (
    forgetting,
    forgetting_by_writes,
    forgetting_trace,
    span_retention,
    span_retention_by_writes,
    task_sequence,
)
from .keys import key_recall
from .sequences import chain_recall, context_vectors, free_recall, probe
from .sweep import sweep

__all__ = [
    "adaptation",
    "attention_weights",
    "attractors",
    "batch_delta_rule",
    "bottleneck_recall",
    "build_memory",
    "capacity",
    "chain_recall",
    "completion",
    "context_vectors",
    "forgetting",
    "forgetting_by_writes",
    "forgetting_trace",
    "free_recall",
    "internal_dimensions",
    "key_recall",
    "key_updates",
    "probe",
    "projection_trace",
    "reduced_rank_recall",
    "span_retention",
    "span_retention_by_writes",
    "sweep",
    "task_sequence",
    "token_dimensions",
]
