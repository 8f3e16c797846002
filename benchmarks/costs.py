"""The matrix-product FLOPs of the capacity protocol, counted from what the code does.

Per trial and per number of items N (keys and values of dimension d, S slots), the
capacity experiment runs ``writes`` calls of ``update`` with all N pairs and ``reads``
reads of all N keys, each read scored against the N stored values:

- a matrix memory (``MatrixAssociativeMemory``, ``DeltaRuleMemory``) reads ``q M^T``
  (2 N d^2) and writes an outer-product sum after a read of the keys (2 N d^2 + 2 N d^2);
- ``EpisodicMemory`` reads with ``softmax(q K^T) V`` (2 N S d + 2 N S d); a write is that
  read plus its backward pass, the gradients of the weights, of V and of K
  (3 x 2 N S d), 10 N S d in all;
- scoring a read compares it by cosine with every stored value, an N x N matrix of dot
  products in float32 (2 N^2 d; the few close calls scored again in float64 are left out).

A multiply-add counts as two FLOPs. Elementwise work (the optimizer step, softmax,
norms, drawing the data) is left out: it is O(N d + S d) per write, and it is why
the measured time grows more slowly than these counts at small sizes.
"""

from __future__ import annotations

MATRIX = ("MatrixAssociativeMemory", "DeltaRuleMemory")
SLOTS = ("EpisodicMemory",)


def write_flops(memory: str, n: int, d: int, slots: int = 100) -> float:
    """Matrix-product FLOPs of one write of N pairs, per trial."""
    if memory in MATRIX:
        return 4.0 * n * d * d
    if memory in SLOTS:
        return 10.0 * n * slots * d
    raise ValueError(f"no FLOP count for memory {memory!r}; known: {MATRIX + SLOTS}")


def read_flops(memory: str, n: int, d: int, slots: int = 100) -> float:
    """Matrix-product FLOPs of one read of N keys, per trial."""
    if memory in MATRIX:
        return 2.0 * n * d * d
    if memory in SLOTS:
        return 4.0 * n * slots * d
    raise ValueError(f"no FLOP count for memory {memory!r}; known: {MATRIX + SLOTS}")


def score_flops(n: int, d: int) -> float:
    """FLOPs of the cosine scores of N reads against N values, per trial."""
    return 2.0 * n * n * d


def capacity_flops(
    memory: str,
    n_items: list[int] | tuple[int, ...],
    d: int,
    trials: int,
    writes: int,
    reads: int = 1,
    slots: int = 100,
) -> float:
    """All matrix-product FLOPs of one ``capacity`` call: every N, every trial."""
    per_trial = sum(
        writes * write_flops(memory, n, d, slots)
        + reads * (read_flops(memory, n, d, slots) + score_flops(n, d))
        for n in n_items
    )
    return trials * per_trial
