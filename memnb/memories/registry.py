"""The book's memories by name: the one list that the widgets, the battery and the CLI read.

Adding a memory to the book is one line in :data:`MEMORIES` (and its own file in this
package). Each entry is the class itself, so ``MEMORIES[name](dim, trials=T)`` builds
it at its default settings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from .attention import AttentionMemory
from .deltanet import DeltaNetMemory, GatedDeltaNetMemory
from .hopfield import DenseAssociativeMemory, HopfieldMemory
from .linear_attention import LinearAttentionMemory
from .matrix import DeltaRuleMemory, MatrixAssociativeMemory
from .modern import ModernHopfieldMemory
from .neural import NeuralMemory
from .projecting import ProjectingEpisodicMemory
from .sliding import SlidingWindowMemory
from .slot import EpisodicMemory

__all__ = ["MEMORIES", "pick"]

MEMORIES: Mapping[str, Callable[..., object]] = MappingProxyType(
    {
        "EpisodicMemory": EpisodicMemory,
        "MatrixAssociativeMemory": MatrixAssociativeMemory,
        "DeltaRuleMemory": DeltaRuleMemory,
        "AttentionMemory": AttentionMemory,
        "NeuralMemory": NeuralMemory,
        "ProjectingEpisodicMemory": ProjectingEpisodicMemory,
        "DeltaNetMemory": DeltaNetMemory,
        "GatedDeltaNetMemory": GatedDeltaNetMemory,
        "LinearAttentionMemory": LinearAttentionMemory,
        "SlidingWindowMemory": SlidingWindowMemory,
        "HopfieldMemory": HopfieldMemory,
        "DenseAssociativeMemory": DenseAssociativeMemory,
        "ModernHopfieldMemory": ModernHopfieldMemory,
    }
)


def pick(*names: str) -> dict[str, Callable[..., object]]:
    """The memories ``names`` from :data:`MEMORIES`, as a new dict in the order given.

    Raises a ``ValueError`` for no names, a repeated name or a name that is not in
    :data:`MEMORIES` (the message lists the known ones), and a ``TypeError`` for a name
    that is not a string.
    """
    if not names:
        raise ValueError(f"pick needs at least one memory name, got none; known: {list(MEMORIES)}")
    for name in names:
        if not isinstance(name, str):
            raise TypeError(
                f"names must be memory names (str), got {name!r} ({type(name).__name__})"
            )
    unknown = [name for name in names if name not in MEMORIES]
    if unknown:
        raise ValueError(f"unknown memory name(s) {unknown}; known: {list(MEMORIES)}")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"names must be distinct, got {repeated} more than once")
    return {name: MEMORIES[name] for name in names}
