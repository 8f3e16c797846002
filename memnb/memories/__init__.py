"""The memories: every one follows the ``update`` / ``__call__`` protocol of :class:`Memory`."""

from .attention import AttentionMemory
from .base import BatchedMemory, Memory
from .looped import LoopedMemory
from .matrix import DeltaRuleMemory, MatrixAssociativeMemory
from .neural import NeuralMemory
from .projecting import ProjectingEpisodicMemory
from .slot import EpisodicMemory

__all__ = [
    "AttentionMemory",
    "BatchedMemory",
    "DeltaRuleMemory",
    "EpisodicMemory",
    "LoopedMemory",
    "MatrixAssociativeMemory",
    "Memory",
    "NeuralMemory",
    "ProjectingEpisodicMemory",
]
