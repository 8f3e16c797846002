"""Experiment protocols. Each runs all trials as one batched memory and returns a tidy frame."""

from ._build import build_memory
from .adaptation import adaptation
from .sweep import sweep

__all__ = ["adaptation", "build_memory", "sweep"]
