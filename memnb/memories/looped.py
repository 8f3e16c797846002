"""Run T single memories as if they were one memory built with ``trials=T``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import ClassVar

import torch

from .. import _validate
from . import size


class LoopedMemory:
    """Wrap T separately built memories (inputs ``(N, d)``) behind the batched protocol.

    ``update`` and ``__call__`` take ``(T, N, d)`` tensors and loop over the trials in
    Python. This is how experiments run a memory class that has no ``trials``
    argument, and it is the straightforward baseline the benchmarks compare against.
    """

    # Nothing to tune: the wrapped memories carry their own settings.
    hyperparameters: ClassVar[Mapping[str, tuple]] = MappingProxyType({})

    def __init__(self, memories: Sequence[object]) -> None:
        if isinstance(memories, str | bytes) or not isinstance(memories, Sequence):
            raise TypeError(
                f"memories must be a sequence of memories, got {type(memories).__name__}"
            )
        if len(memories) == 0:
            raise ValueError("memories must hold at least one memory, got an empty sequence")
        for i, memory in enumerate(memories):
            if not (callable(memory) and callable(getattr(memory, "update", None))):
                raise TypeError(
                    f"memories[{i}] is a {type(memory).__name__} without update(keys, values) "
                    "or __call__(queries); expected a memory with both"
                )
        self.memories = list(memories)
        self.trials = len(self.memories)

    def _split(self, name: str, x: object) -> torch.Tensor:
        x = _validate.float_type(name, x)
        if x.dim() != 3 or x.shape[0] != self.trials:
            raise ValueError(f"{name} must have shape ({self.trials}, N, d), got {tuple(x.shape)}")
        return x

    def update(self, keys: torch.Tensor, values: torch.Tensor) -> torch.Tensor | None:
        keys, values = self._split("keys", keys), self._split("values", values)
        _validate.same_device(("keys", "values"), keys, values)
        _validate.finite("keys", keys)
        _validate.finite("values", values)
        losses = [m.update(k, v) for m, k, v in zip(self.memories, keys, values, strict=True)]
        if all(isinstance(loss, torch.Tensor) and loss.numel() == 1 for loss in losses):
            return torch.stack([loss.reshape(()) for loss in losses])
        return None

    def __call__(self, queries: torch.Tensor) -> torch.Tensor:
        queries = _validate.finite("queries", self._split("queries", queries))
        reads = []
        for memory, q in zip(self.memories, queries, strict=True):
            out = _validate.read_value(type(memory).__name__, memory(q), q)
            if reads and out.shape != reads[0].shape:
                raise _validate.ProtocolValueError(
                    f"{type(memory).__name__}.__call__(queries) returned shape "
                    f"{tuple(out.shape)} for trial {len(reads)} but {tuple(reads[0].shape)} "
                    f"for trial 0, with queries of shape {tuple(q.shape)}; expected one shape"
                )
            reads.append(out)
        return torch.stack(reads)

    def state_size(self) -> int:
        """Floats one trial holds: that of each wrapped memory, which must all agree."""
        sizes = [size.state_size(m) for m in self.memories]
        if len(set(sizes)) > 1:
            raise ValueError(
                f"the wrapped memories hold different numbers of floats, {sizes}; "
                "state_size is one number per trial and needs them to agree"
            )
        return sizes[0]

    def __repr__(self) -> str:
        return f"LoopedMemory({self.trials} x {type(self.memories[0]).__name__})"
