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


# The five broken memories of the battery's and the command line's tests, as a reader
# would write them: each breaks the protocol in one way.


class Overflow:
    """Its ``update`` multiplies its matrix by 1e30: finite after one write, inf after two."""

    def __init__(self, dim: int) -> None:
        self.matrix = torch.zeros(dim, dim)

    def update(self, keys: torch.Tensor, values: torch.Tensor) -> None:
        self.matrix = (self.matrix + values.T @ keys) * 1e30

    def __call__(self, queries: torch.Tensor) -> torch.Tensor:
        return queries @ self.matrix.T


class LateNaN:
    """A delta-rule matrix that learns well, with a NaN in its state from its fourth write."""

    def __init__(self, dim: int) -> None:
        self.matrix = torch.zeros(dim, dim)
        self.writes = 0

    def update(self, keys: torch.Tensor, values: torch.Tensor) -> None:
        self.writes += 1
        error = values - keys @ self.matrix.T
        self.matrix = self.matrix + 0.5 * error.T @ (keys / keys.pow(2).sum(-1, keepdim=True))
        if self.writes >= 4:
            self.matrix[0, 0] = float("nan")

    def __call__(self, queries: torch.Tensor) -> torch.Tensor:
        return queries @ self.matrix.T


class NumpyRead(HebbianNoTrials):
    """Reads a NumPy array instead of a tensor."""

    def __call__(self, queries: torch.Tensor):
        return super().__call__(queries).numpy()


class HalfPrecision:
    """A delta-rule matrix held, written and read in float16."""

    def __init__(self, dim: int) -> None:
        self.matrix = torch.zeros(dim, dim, dtype=torch.float16)

    def update(self, keys: torch.Tensor, values: torch.Tensor) -> None:
        k, v = keys.half(), values.half()
        error = v - k @ self.matrix.T
        self.matrix = self.matrix + 0.5 * error.T @ (k / k.pow(2).sum(-1, keepdim=True))

    def __call__(self, queries: torch.Tensor) -> torch.Tensor:
        return queries.half() @ self.matrix.T


class RaisesInUpdate(HebbianNoTrials):
    """Its ``update`` raises."""

    def update(self, keys: torch.Tensor, values: torch.Tensor) -> None:
        raise RuntimeError("my update is broken")
