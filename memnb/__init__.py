"""memnb: episodic (key-value) memories, data, experiments, plots and widgets.

Every memory follows one protocol: ``update(keys, values)`` writes once and
``memory(queries)`` reads. Shapes are ``(N, d)``, or ``(T, N, d)`` for ``trials=T``.
The memories load with the package (torch alone); every other module loads on first use
(``memnb.experiments`` with pandas, ``memnb.plots`` and ``memnb.widgets`` with matplotlib
and ipywidgets), so a script that only runs a memory pays for none of them.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._validate import LowPrecisionRead, ProtocolError
from .memories import (
    AttentionMemory,
    DeltaNetMemory,
    DeltaRuleMemory,
    DenseAssociativeMemory,
    EpisodicMemory,
    GatedDeltaNetMemory,
    HopfieldMemory,
    LinearAttentionMemory,
    LoopedMemory,
    MatrixAssociativeMemory,
    Memory,
    ModernHopfieldMemory,
    NeuralMemory,
    ProjectingEpisodicMemory,
    SlidingWindowMemory,
    state_size,
)

# The version of the package: pyproject.toml reads it from here, `memnb --version` prints it.
__version__ = "0.1.0"

__all__ = [
    "AttentionMemory",
    "DeltaNetMemory",
    "DeltaRuleMemory",
    "DenseAssociativeMemory",
    "EpisodicMemory",
    "GatedDeltaNetMemory",
    "HopfieldMemory",
    "LinearAttentionMemory",
    "LoopedMemory",
    "LowPrecisionRead",
    "MatrixAssociativeMemory",
    "Memory",
    "ModernHopfieldMemory",
    "NeuralMemory",
    "ProjectingEpisodicMemory",
    "ProtocolError",
    "SlidingWindowMemory",
    "battery",
    "claims",
    "data",
    "experiments",
    "metrics",
    "plots",
    "state_size",
    "summaries",
    "theory",
    "tuning",
    "widgets",
]


def __getattr__(name: str) -> Any:
    lazy = ("battery", "claims", "data", "experiments", "metrics", "plots", "summaries")
    if name in (*lazy, "theory", "tuning", "widgets"):
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'memnb' has no attribute {name!r}")
