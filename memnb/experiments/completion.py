"""Pattern completion: recall a stored ±1 pattern whole from a corrupted or partial cue."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

import pandas as pd
import torch

from .. import _validate, data
from ._build import Factory, build_memory, child_seeds, label_of, place_like
from ._protocol import calling, noise_levels, read, sizes, write

KINDS = ("flip", "mask")


def completion(
    factory: Factory,
    n_patterns: int | Iterable[int] = (5, 10, 15, 20),
    dim: int = 100,
    noise: float | Iterable[float] = 0.1,
    kind: str = "flip",
    iterations: int | None = None,
    trials: int = 16,
    seed: int = 0,
    *,
    cues: int | None = None,
    correlation: float = 0.0,
    patterns: torch.Tensor | None = None,
    label: str | None = None,
) -> pd.DataFrame:
    """Store P patterns as their own values, then read each from a corrupted cue.

    For every P in ``n_patterns`` a fresh memory (``trials`` independent ones, batched
    when the factory accepts ``trials``) receives ``update(patterns, patterns)`` with P
    random ±1 patterns (:func:`memnb.data.binary_patterns` with ``correlation``), or the
    first P rows of ``patterns`` (a ±1 tensor ``(P_max, dim)``, the same for every trial;
    ``correlation`` must then stay 0). The first ``cues`` of them (all with None) are then
    read from cues in which a fraction ``noise`` of the units (``round(noise * dim)``
    units, chosen at random for each cue) is corrupted:

    - ``kind="flip"``: their signs are flipped (cue overlap ``1 - 2 noise``);
    - ``kind="mask"``: they are set to 0, unknown (cue overlap ``1 - noise``).

    The corrupted units of a cue are nested over the noise levels (a higher level
    corrupts the same units and more) and the patterns over P (the first P of one draw).
    ``iterations`` (None: the memory's default) is passed to a factory that takes an
    ``iterations`` keyword: the most sweeps of :class:`~memnb.HopfieldMemory` and
    :class:`~memnb.DenseAssociativeMemory`, the updates of
    :class:`~memnb.ModernHopfieldMemory`. A memory with a ``settle(queries)`` method
    (those three) is read with it, which also says how many steps each read took and
    whether it settled; any other is read once, ``memory(cues)``.

    Returns a tidy frame, one row per trial, P and noise level, with columns ``trial,
    n_patterns``, ``load`` (P / dim), ``noise``, ``cue_overlap`` (the overlap of the cue
    with its pattern, what a memory that returns its cue unchanged scores), ``overlap``
    (mean over the cues of the cosine between read and pattern; for a ±1 read this is the
    overlap ``m = x . xi / dim``, 1 for the pattern itself; a zero or non-finite read
    scores 0), ``exact`` (fraction of cues whose read has the sign of the pattern in every
    unit), ``steps`` (mean update steps a read took: sweeps that changed something, or
    updates that moved the state; 1 for a memory without ``settle``), ``settled``
    (fraction of reads that reached a fixed point; 1 without ``settle``), ``diverged``
    (some read was NaN or inf) and the parameters ``memory, dim, kind, correlation``,
    ``cues`` (patterns cued per trial), ``iterations`` (the memory's own bound, None for a
    memory without one) and ``seed``.
    """
    n_patterns = sizes("n_patterns", n_patterns)
    dim = _validate.positive_int("dim", dim)
    levels = noise_levels("noise", noise)
    if max(levels) > 1:
        raise ValueError(f"noise must hold fractions of the units in [0, 1], got {levels}")
    _validate.one_of("kind", kind, KINDS)
    trials = _validate.positive_int("trials", trials)
    cues = None if cues is None else _validate.positive_int("cues", cues)
    name = label_of(factory, label)
    built = _with_iterations(factory, iterations)
    data_seed, memory_seed, noise_seed = child_seeds(seed, 3)
    stored = _patterns(patterns, max(n_patterns), dim, trials, correlation, data_seed)
    shown = max(n_patterns) if cues is None else min(cues, max(n_patterns))
    draw = torch.rand(trials, shown, dim, generator=torch.Generator().manual_seed(noise_seed))
    rank = draw.argsort(dim=-1).argsort(dim=-1)  # the order in which units get corrupted
    rows = []
    for n in n_patterns:
        memory = build_memory(built, dim=dim, trials=trials, seed=memory_seed)
        bound = getattr(memory, "iterations", None)
        c = n if cues is None else min(cues, n)
        (written, corrupt_order) = place_like(memory, stored[:, :n].contiguous(), rank.float())
        write(memory, written, written, 1)
        targets = written[:, :c]
        for level in levels:
            corrupted = corrupt_order[:, :c] < round(level * dim)
            cue = torch.where(corrupted, -targets if kind == "flip" else 0.0, targets)
            reads, steps, settled = _read(memory, cue)
            scores = _score(reads, targets)
            cue_overlap = (cue * targets).sum(dim=-1).mean(dim=-1) / dim
            rows.append(
                pd.DataFrame(
                    {
                        "trial": range(trials),
                        "n_patterns": n,
                        "load": n / dim,
                        "cues": c,
                        "noise": level,
                        "cue_overlap": cue_overlap.double().cpu().numpy(),
                        **scores,
                        "steps": steps.double().mean(dim=-1).cpu().numpy(),
                        "settled": settled.double().mean(dim=-1).cpu().numpy(),
                        "iterations": bound,
                    }
                )
            )
    frame = pd.concat(rows, ignore_index=True)
    frame["diverged"] = frame.pop("diverged")
    frame = frame.assign(memory=name, dim=dim, kind=kind, correlation=float(correlation))
    last = ["cues", "iterations"]
    return frame[[*frame.columns.drop(last), *last]].assign(seed=seed)


def _with_iterations(factory: Factory, iterations: int | None) -> Factory:
    """``factory`` with ``iterations`` bound, or as it is for None."""
    if iterations is None:
        return factory
    iterations = _validate.positive_int("iterations", iterations)
    _validate.callable_("factory", factory, "a memory class or a function that builds one")
    if not _validate.accepts(factory, "iterations"):
        raise TypeError(
            f"iterations={iterations} was given, but the factory "
            f"{label_of(factory, None)} takes no 'iterations' keyword; pass iterations=None"
        )
    return partial(factory, iterations=iterations)


def _patterns(
    given: torch.Tensor | None,
    n: int,
    dim: int,
    trials: int,
    correlation: float,
    seed: int,
) -> torch.Tensor:
    """The ±1 patterns to store, ``(trials, n, dim)`` float32 on the CPU."""
    if given is None:
        return data.binary_patterns(n, dim, trials, correlation=correlation, seed=seed)
    given = _validate.float_tensor("patterns", given)
    if given.dim() != 2 or given.shape[-1] != dim:
        raise ValueError(f"patterns must have shape (P, {dim}), got {tuple(given.shape)}")
    if given.shape[0] < n:
        raise ValueError(
            f"patterns holds {given.shape[0]} patterns, fewer than the largest n_patterns {n}"
        )
    if not bool(((given == 1) | (given == -1)).all()):
        raise ValueError("patterns must hold only -1 and +1")
    if _validate.number("correlation", correlation) != 0:
        raise ValueError(
            f"correlation applies to random patterns only; got correlation={correlation} "
            "with patterns given"
        )
    return given[:n].float().cpu().expand(trials, n, dim).contiguous()


def _read(memory: object, cue: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The reads of ``cue`` ``(T, C, d)``, the steps they took and whether they settled."""
    settle = getattr(memory, "settle", None)
    if not callable(settle):
        reads = read(memory, cue, tuple(cue.shape))
        ones = torch.ones(cue.shape[:-1], device=cue.device)
        return reads, ones, ones
    with (
        torch.no_grad(),
        calling(memory, f"settle(queries) with queries of shape {tuple(cue.shape)}"),
    ):
        reads, steps, settled = settle(cue)
    if not isinstance(reads, torch.Tensor) or tuple(reads.shape) != tuple(cue.shape):
        got = type(reads).__name__ if not isinstance(reads, torch.Tensor) else tuple(reads.shape)
        raise ValueError(
            f"the memory's settle returned {got} for cues of shape {tuple(cue.shape)}; "
            f"expected reads of shape {tuple(cue.shape)}"
        )
    return reads.detach(), steps, settled


def _score(reads: torch.Tensor, targets: torch.Tensor) -> dict[str, object]:
    """Per-trial ``overlap``, ``exact`` and ``diverged`` of reads ``(T, C, d)``."""
    finite = torch.isfinite(reads).all(dim=-1, keepdim=True)
    cosine = _cosines(torch.where(finite, reads, 0.0), targets)
    exact = (torch.sign(torch.where(finite, reads, 0.0)) == targets).all(dim=-1)
    return {
        "overlap": cosine.mean(dim=-1).cpu().numpy(),
        "exact": exact.double().mean(dim=-1).cpu().numpy(),
        "diverged": (~finite).any(dim=(1, 2)).cpu().numpy(),
    }


def attractors(
    factory: Factory,
    n_patterns: int | Iterable[int] = (5, 10, 20),
    dim: int = 100,
    cues: int = 64,
    trials: int = 16,
    seed: int = 0,
    *,
    iterations: int | None = None,
    close: float = 0.95,
    label: str | None = None,
) -> pd.DataFrame:
    """Where reads end: at a stored pattern, at a mixture of three, or elsewhere.

    For every P in ``n_patterns`` a fresh memory stores P random ±1 patterns as their own
    values (``update(patterns, patterns)``, as in :func:`completion`, ``iterations``
    passed on the same way) and is read twice, ``cues`` reads per trial each time:

    - from random ±1 cues, unrelated to the patterns. A read ends *at a pattern* when its
      overlap (cosine) with a stored pattern or its reverse is at least ``close``, and
      *at a mixture* otherwise when its overlap with the symmetric mixture
      ``sign(±xi_a ± xi_b ± xi_c)`` of the three patterns it overlaps most (each with the
      sign of that overlap) is at least ``close``;
    - from such mixtures of three randomly chosen stored patterns (P >= 3), with random
      signs: the mixture is *kept* when the read's overlap with it is at least ``close``.

    Returns a tidy frame, one row per trial and P: ``trial, n_patterns, load`` (P / dim),
    the fractions of the random cues ending ``at_pattern``, ``at_mixture`` and
    ``elsewhere`` (summing to one), ``mixture_kept`` (fraction of mixtures kept; NaN for
    P < 3), ``diverged`` (some read was NaN or inf; such a read counts as ending
    elsewhere and as not keeping its mixture) and the parameters ``memory, dim, close,
    seed``.
    """
    n_patterns = sizes("n_patterns", n_patterns)
    dim = _validate.positive_int("dim", dim)
    cues = _validate.positive_int("cues", cues)
    trials = _validate.positive_int("trials", trials)
    close = _validate.number("close", close)
    if not 0 < close <= 1:
        raise ValueError(f"close must lie in (0, 1], got {close}")
    name = label_of(factory, label)
    built = _with_iterations(factory, iterations)
    data_seed, memory_seed, cue_seed = child_seeds(seed, 3)
    stored = data.binary_patterns(max(n_patterns), dim, trials, seed=data_seed)
    gen = torch.Generator().manual_seed(cue_seed)
    random_cues = data.binary_patterns(cues, dim, trials, seed=gen)
    signs = data.binary_patterns(cues, 3, trials, seed=gen)  # of each mixture's patterns
    draw = torch.rand(trials, cues, max(n_patterns), generator=gen)  # which patterns it mixes
    rows = []
    for n in n_patterns:
        memory = build_memory(built, dim=dim, trials=trials, seed=memory_seed)
        patterns, cue = place_like(memory, stored[:, :n].contiguous(), random_cues)
        write(memory, patterns, patterns, 1)
        ends = _read(memory, cue)[0]
        overlaps = _cosines(ends[:, :, None], patterns[:, None])  # (T, C, P)
        at_pattern = overlaps.abs().amax(dim=-1) >= close
        top = overlaps.abs().topk(min(3, n), dim=-1).indices
        chosen = torch.zeros_like(overlaps).scatter_(-1, top, overlaps.gather(-1, top).sign())
        nearest = _sign_of(chosen.to(patterns.dtype) @ patterns)
        at_mixture = ~at_pattern & (_cosines(ends, nearest) >= close)
        kept, broken = float("nan"), ~torch.isfinite(ends).all(dim=-1)
        if n >= 3:
            chosen = draw[..., :n].argsort(dim=-1)[..., :3]
            mix = signs.to(patterns)[..., None] * _rows(patterns, chosen)
            mixtures = _sign_of(mix.sum(dim=-2))
            mixture_reads = _read(memory, mixtures)[0]
            kept = _cosines(mixture_reads, mixtures) >= close
            broken |= ~torch.isfinite(mixture_reads).all(dim=-1)
        rows.append(
            pd.DataFrame(
                {
                    "trial": range(trials),
                    "n_patterns": n,
                    "load": n / dim,
                    "at_pattern": _fraction(at_pattern),
                    "at_mixture": _fraction(at_mixture),
                    "elsewhere": _fraction(~at_pattern & ~at_mixture),
                    "mixture_kept": kept if n < 3 else _fraction(kept),
                    "diverged": broken.any(dim=-1).cpu().numpy(),
                }
            )
        )
    frame = pd.concat(rows, ignore_index=True)
    return frame.assign(memory=name, dim=dim, close=close, seed=seed)


def _sign_of(x: torch.Tensor) -> torch.Tensor:
    """±1 of the sign of ``x`` (0 counts as +1), in the dtype of ``x``."""
    return torch.where(x >= 0, 1.0, -1.0).to(x.dtype)


def _rows(patterns: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``patterns[t, index[t, c, k]]``: the chosen patterns ``(T, C, K, d)``."""
    t, c, k = index.shape
    flat = index.reshape(t, c * k, 1).expand(-1, -1, patterns.shape[-1]).to(patterns.device)
    return patterns.gather(1, flat).view(t, c, k, -1)


def _cosines(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Cosine of ``x`` and ``y`` along the last axis (broadcast), in float64; 0 for a zero
    or non-finite ``x``."""
    x = torch.where(torch.isfinite(x), x, 0.0).double()
    y = y.double()
    norms = x.norm(dim=-1) * y.norm(dim=-1)
    return torch.where(norms > 0, (x * y).sum(dim=-1) / norms.clamp(min=1e-300), 0.0)


def _fraction(hits: torch.Tensor) -> object:
    """Per trial, the fraction of true entries of ``hits`` ``(T, C)``, as a numpy array."""
    return hits.double().mean(dim=-1).cpu().numpy()
