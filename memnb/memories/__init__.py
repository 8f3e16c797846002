"""The memories: every one follows the ``update`` / ``__call__`` protocol of :class:`Memory`.

:data:`MEMORIES` names the book's memories (read-only); :func:`pick` selects some of them.
"""

from .attention import AttentionMemory
from .base import BatchedMemory, Memory
from .deltanet import DeltaNetMemory, GatedDeltaNetMemory
from .hopfield import DenseAssociativeMemory, HopfieldMemory
from .linear_attention import LinearAttentionMemory
from .looped import LoopedMemory
from .matrix import DeltaRuleMemory, MatrixAssociativeMemory
from .modern import ModernHopfieldMemory
from .neural import NeuralMemory
from .projecting import ProjectingEpisodicMemory
from .registry import MEMORIES, pick
from .size import state_size
from .sliding import SlidingWindowMemory
from .slot import EpisodicMemory

__all__ = [
    "AttentionMemory",
    "BatchedMemory",
    "DeltaNetMemory",
    "DeltaRuleMemory",
    "DenseAssociativeMemory",
    "EpisodicMemory",
    "GatedDeltaNetMemory",
    "HopfieldMemory",
    "LinearAttentionMemory",
    "LoopedMemory",
    "MEMORIES",
    "MatrixAssociativeMemory",
    "Memory",
    "ModernHopfieldMemory",
    "NeuralMemory",
    "ProjectingEpisodicMemory",
    "SlidingWindowMemory",
    "pick",
    "state_size",
]
