"""Memories as a reader would write them: only ``update`` and ``__call__``, no memnb base.

Shared by the tests that check every experiment runs such classes unchanged. ``built``
counts constructions, so a test can tell a batched build from one build per trial.
"""

from __future__ import annotations

import torch


class HebbianNoTrials:
    """A Hebbian memory with no trials argument: one ``(d, d)`` matrix."""

    built = 0

    def __init__(self, dim: int) -> None:
        type(self).built += 1
        self.matrix = torch.zeros(dim, dim)

    def update(self, keys: torch.Tensor, values: torch.Tensor) -> None:
        self.matrix += values.T @ keys

    def __call__(self, queries: torch.Tensor) -> torch.Tensor:
        return queries @ self.matrix.T


class HebbianWithTrials:
    """The same memory with a trials argument: a ``(T, d, d)`` stack of matrices."""

    built = 0

    def __init__(self, dim: int, trials: int | None = None) -> None:
        type(self).built += 1
        self.matrix = torch.zeros((dim, dim) if trials is None else (trials, dim, dim))

    def update(self, keys: torch.Tensor, values: torch.Tensor) -> None:
        self.matrix += values.transpose(-2, -1) @ keys

    def __call__(self, queries: torch.Tensor) -> torch.Tensor:
        return queries @ self.matrix.transpose(-2, -1)
