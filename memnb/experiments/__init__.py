"""Experiment protocols. Each runs all trials as one batched memory and returns a tidy frame."""

from ._build import build_memory
from .adaptation import adaptation
from .capacity import attention_weights, capacity
from .forgetting import (
    accuracy_matrix,
    continual_scores,
    forgetting,
    forgetting_trace,
    span_retention,
    task_sequence,
)
from .sweep import sweep

__all__ = [
    "accuracy_matrix",
    "adaptation",
    "attention_weights",
    "build_memory",
    "capacity",
    "continual_scores",
    "forgetting",
    "forgetting_trace",
    "span_retention",
    "sweep",
    "task_sequence",
]
