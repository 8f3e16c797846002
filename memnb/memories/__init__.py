"""The memories: every one follows the ``update`` / ``__call__`` protocol of :class:`Memory`."""

from .base import BatchedMemory, Memory
from .looped import LoopedMemory
from .matrix import DeltaRuleMemory, MatrixAssociativeMemory
from .slot import EpisodicMemory

__all__ = [
    "BatchedMemory",
    "DeltaRuleMemory",
    "EpisodicMemory",
    "LoopedMemory",
    "MatrixAssociativeMemory",
    "Memory",
]
