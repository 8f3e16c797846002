"""Experiment protocols. Each runs all trials as one batched memory and returns a tidy frame."""

from ._build import build_memory
from .adaptation import adaptation
from .capacity import attention_weights, capacity
from .dimensions import (
    batch_delta_rule,
    internal_dimensions,
    projection_trace,
    token_dimensions,
)
from .forgetting import (
    accuracy_matrix,
    continual_scores,
    forgetting,
    forgetting_trace,
    span_retention,
    task_sequence,
)
from .keys import key_recall, stable_lr
from .sequences import (
    chain_recall,
    context_vectors,
    crp_at,
    free_recall,
    human_lag_crp,
    lag_crp,
    probe,
)
from .sweep import sweep

__all__ = [
    "accuracy_matrix",
    "adaptation",
    "attention_weights",
    "batch_delta_rule",
    "build_memory",
    "chain_recall",
    "context_vectors",
    "crp_at",
    "free_recall",
    "human_lag_crp",
    "key_recall",
    "lag_crp",
    "probe",
    "capacity",
    "continual_scores",
    "forgetting",
    "forgetting_trace",
    "internal_dimensions",
    "projection_trace",
    "span_retention",
    "stable_lr",
    "sweep",
    "task_sequence",
    "token_dimensions",
]
