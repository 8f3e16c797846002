"""Hopfield networks: ±1 patterns recalled whole from a corrupted or partial cue.

:class:`HopfieldMemory` is the classical network (Hebbian weights, pairwise energy);
:class:`DenseAssociativeMemory` replaces the pairwise energy by a sum of ``F(overlap)``
over the stored patterns. Both are *autoassociative*: ``update(patterns, patterns)``
stores each pattern as its own value, and a read starts from the cue and updates one
unit at a time until nothing changes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar

import torch

from .. import _validate
from .base import BatchedMemory


def _signs(x: torch.Tensor) -> torch.Tensor:
    """``x`` as ±1 patterns (a zero entry counts as +1), in the dtype of ``x``."""
    return torch.where(x >= 0, 1.0, -1.0).to(x.dtype)


def _order_generator(seed: int | torch.Generator | None) -> torch.Generator:
    """The generator of the update orders: from ``seed``, or seeded from torch's global one."""
    if isinstance(seed, torch.Generator):
        return seed
    if seed is None:
        seed = int(torch.randint(0, 2**62, ()))
    return torch.Generator().manual_seed(_validate.seed(seed))


class _SignNetwork(BatchedMemory):
    """Stores ±1 patterns; a read runs asynchronous sign updates from the cue.

    Subclasses store patterns (``_store``), give the local fields of every unit
    (``_begin(states)``: what the fields follow from; ``_fields(held, states, trial)``;
    ``_flip(held, rows, trial, units, change)``: keep ``held`` up to date after a change)
    and the energy ``_energy(states)`` that every update lowers or keeps.
    """

    def __init__(
        self,
        dim: int,
        iterations: int,
        trials: int | None,
        seed: int | torch.Generator | None,
        device: torch.device | str | None,
        dtype: torch.dtype,
    ) -> None:
        super().__init__(dim, None, trials)
        self.iterations = _validate.positive_int("iterations", iterations)
        _validate.float_dtype("dtype", dtype)
        _validate.torch_device("device", device)
        if seed is not None and not isinstance(seed, torch.Generator):
            _validate.seed(seed)
        self._orders = _order_generator(seed)

    # --- the protocol ---------------------------------------------------------------------

    def update(self, keys: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        """Store the patterns ``values`` (their signs), which must equal ``keys``.

        Returns, per trial, the fraction of the new patterns' units whose sign disagreed
        with their local field just before the write (0: every new pattern was already a
        fixed point).
        """
        return super().update(keys, values)

    def _write(self, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        if not torch.equal(k, v):
            raise ValueError(
                f"{type(self).__name__} is autoassociative: it stores each pattern as its own "
                "value, so values must equal keys (update(patterns, patterns)); got keys and "
                "values that differ"
            )
        patterns = _signs(v)
        with torch.no_grad():
            wrong = (self._all_fields(patterns) * patterns < 0).to(patterns.dtype)
            self._store(patterns)
        return wrong.mean(dim=(-2, -1))

    def _read(self, q: torch.Tensor) -> torch.Tensor:
        return self._settle(q, record=False)[0]

    # --- public reads with more than the settled state -------------------------------------

    def settle(self, queries: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Read ``queries`` and say how: ``(states, steps, settled)``.

        ``states`` is what a read returns, ``(N, dim)`` or ``(T, N, dim)``; ``steps`` (int64)
        and ``settled`` (bool), ``(N,)`` or ``(T, N)``, are the number of sweeps that
        changed at least one unit, and whether the state reached is a fixed point (False
        when ``iterations`` sweeps were not enough).
        """
        q = self._batch("queries", queries, self.key_dim)
        with torch.no_grad():
            states, steps, settled, _ = self._settle(q, record=False)
        return self._unbatch(states), self._unbatch(steps), self._unbatch(settled)

    def descent(self, queries: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Read ``queries`` and return ``(states, energies)``: the energy after every change.

        ``energies`` (float64) is ``(N, K + 1)`` or ``(T, N, K + 1)``: the energy of the
        cue's signs, then of the state after each update that changed a unit (updates that
        change nothing leave it as it is), computed from the state by :meth:`energy`; a
        read that settles after fewer changes than the longest is padded with its last
        energy. The reads are the same as those of ``memory(queries)`` would be with the
        same update orders.
        """
        q = self._batch("queries", queries, self.key_dim)
        with torch.no_grad():
            states, _, _, energies = self._settle(q, record=True)
        return self._unbatch(states), self._unbatch(energies)

    def energy(self, states: torch.Tensor) -> torch.Tensor:
        """The energy of ``states`` ``(N, dim)`` or ``(T, N, dim)``: ``(N,)`` or ``(T, N)``,
        float64 (the states are used as given; a read's states hold -1, 0 or +1)."""
        s = self._batch("states", states, self.key_dim)
        with torch.no_grad():
            return self._unbatch(self._energy(s))

    # --- the dynamics ----------------------------------------------------------------------
    #
    # A read is a set of B = T x N rows (one per query), each with the index of its trial.
    # Rows that have settled are dropped from the working set as the read goes on.

    def _store(self, patterns: torch.Tensor) -> None:
        raise NotImplementedError

    def _begin(self, states: torch.Tensor) -> torch.Tensor:
        """What the fields follow from, for states ``(T, N, d)``: ``(T, N, X)``."""
        raise NotImplementedError

    def _fields(
        self, held: torch.Tensor, states: torch.Tensor, trial: torch.Tensor
    ) -> torch.Tensor:
        """The local fields ``(B, d)`` of rows ``(B, d)`` of trials ``trial`` ``(B,)``."""
        raise NotImplementedError

    def _flip(
        self,
        held: torch.Tensor,
        rows: torch.Tensor,
        trial: torch.Tensor,
        units: torch.Tensor,
        change: torch.Tensor,
    ) -> None:
        """Update ``held`` in place after unit ``units[k]`` of row ``rows[k]`` changed by
        ``change[k]``."""
        raise NotImplementedError

    def _energy(self, states: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _random_keys(self, rows: int, device: torch.device) -> torch.Tensor:
        """A fresh update order for ``rows`` reads: one uniform key per unit, the units
        visited in increasing order of their keys, ``(rows, d)`` float64 (two keys of a
        row tie with probability about ``d^2 / 2^54``)."""
        keys = torch.rand(rows, self.key_dim, generator=self._orders, dtype=torch.float64)
        return keys.to(device)

    def _settle(
        self, q: torch.Tensor, record: bool
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Asynchronous updates from the signs of ``q`` ``(T, N, d)`` until a fixed point.

        Each sweep visits the units of each read one at a time in a fresh random order
        and sets a unit to the sign of its local field (a zero field keeps the unit, or
        sets +1 where the unit is 0). A unit's field changes only when another unit
        changes, so the units a sweep visits between two changes keep their state:
        instead of visiting them one by one, each step jumps, for every read at once, to
        the next unit in its order that disagrees with its field, and updates it. This is
        the same sequence of states as visiting every unit in turn. Returns the states,
        the sweeps that changed something, whether each state is a fixed point, and with
        ``record`` the energy after every change (``(T, N, K + 1)``).
        """
        t, n, d = q.shape
        device = q.device
        states = torch.sign(q).reshape(t * n, d)
        held = self._begin(states.view(t, n, d)).reshape(t * n, -1)
        trial = torch.arange(t, device=device).repeat_interleave(n)
        row = torch.arange(t * n, device=device)  # where each working row goes in the output
        keys = self._random_keys(t * n, device)
        done_up_to = torch.full((t * n,), -1.0, dtype=torch.float64, device=device)
        changed = torch.zeros(t * n, dtype=torch.bool, device=device)
        steps = torch.zeros(t * n, dtype=torch.int64, device=device)
        alive = torch.ones(t * n, dtype=torch.bool, device=device)
        out_states, out_steps = states.clone(), steps.clone()
        energies = [self._energy(states.view(t, n, d))] if record else None
        s = states
        # Units at 0 (masked) always change when visited; after a row's first sweep it has
        # none. Counting them spares the test for zeros once there are none left.
        zeros, n_alive = int((s == 0).sum()), t * n
        while n_alive > 0:
            fields = self._fields(held, s, trial)
            wrong = fields * s < 0
            if zeros > 0:
                wrong |= s == 0
            # The next unit in each row's order that disagrees with its field (a row that
            # has stopped finds one too, but is no hit).
            following, unit = torch.where(wrong & (keys > done_up_to[:, None]), keys, 2.0).min(-1)
            hit = (following < 2) & alive
            flips = hit.nonzero().squeeze(-1)
            if len(flips) > 0:
                units = unit[flips]
                old = s[flips, units]
                if zeros > 0:
                    zeros -= int((old == 0).sum())
                    new = torch.where(fields[flips, units] >= 0, 1.0, -1.0).to(s.dtype)
                else:  # a unit of ±1 that disagrees with its field takes the other sign
                    new = -old
                s[flips, units] = new
                self._flip(held, flips, trial[flips], units, new - old)
                changed |= hit
                if record:
                    energies.append(self._energy(s.view(t, n, d)))
            # A row that changed a unit goes on after it; a row whose sweep found nothing
            # more to change starts a new sweep from the first unit, or stops.
            done_up_to = torch.where(hit, following, -1.0)
            ended = alive ^ hit  # hit rows are alive
            if bool(ended.any()):
                steps += ended & changed
                stop = ended & (~changed | (steps >= self.iterations))
                again = ended ^ stop  # stop rows have ended
                renewed = int(again.sum())
                if renewed > 0:
                    keys[again] = self._random_keys(renewed, device)
                    changed ^= again  # rows that go on have changed something
                stopped = int(stop.sum())
                if stopped > 0:
                    out_states[row[stop]] = s[stop]
                    out_steps[row[stop]] = steps[stop]
                    alive &= ~stop
                    n_alive -= stopped
                    if not record and n_alive < 0.75 * len(alive):
                        # drop the rows that stopped (a record keeps every row)
                        s, held, trial, row = s[alive], held[alive], trial[alive], row[alive]
                        keys, done_up_to = keys[alive], done_up_to[alive]
                        changed, steps = changed[alive], steps[alive]
                        alive = alive[alive]
        final = out_states.view(t, n, d)
        unstable = (self._all_fields(final) * final < 0) | (final == 0)
        trace = torch.stack(energies, dim=-1) if record else None
        return final, out_steps.view(t, n), ~unstable.any(dim=-1), trace

    def _all_fields(self, states: torch.Tensor) -> torch.Tensor:
        """The local fields of every unit of ``states`` ``(T, N, d)``: ``(T, N, d)``."""
        t, n, d = states.shape
        trial = torch.arange(t, device=states.device).repeat_interleave(n)
        held = self._begin(states).reshape(t * n, -1)
        return self._fields(held, states.reshape(t * n, d), trial).view(t, n, d)

    def extra_repr(self) -> str:
        return f"dim={self.key_dim}, trials={self.trials}, iterations={self.iterations}"


class HopfieldMemory(_SignNetwork):
    """The classical Hopfield network: Hebbian weights and asynchronous sign updates.

    Write: ``update(patterns, patterns)`` adds ``xi xi^T / d`` for each pattern ``xi``
    (its signs, ±1) to the weights ``W`` and keeps the diagonal at zero
    (Hopfield 1982). Values must equal keys: the memory stores a pattern as its own value.

    Read: the state starts at the signs of the cue (a zero entry, a masked unit, starts
    at 0) and each sweep updates every unit once, in a fresh random order drawn from the
    memory's seeded generator: ``s_i <- sign(sum_j W_ij s_j)``, the unit left as it is
    when its field is zero (a unit at 0 becomes +1). Reads stop at a fixed point (a sweep
    that changes nothing) or after ``iterations`` sweeps that changed something. The
    read returns the state reached, ±1.

    Every update that changes a unit lowers the energy ``E(s) = -s^T W s / 2``
    (:meth:`energy`), by ``|h_i|`` per unit changed from ±1 (a unit changed from 0 lowers
    it by half that), so a read always ends at a local minimum of ``E`` within the sweeps
    allowed. With P random patterns the stored ones are such minima while P/d stays below
    about 0.138 (Amit, Gutfreund and Sompolinsky 1985); beyond it recall collapses.
    Before any write ``W = 0``, every field is zero and a read returns the cue's signs.

    Args:
        dim: number of units d.
        iterations: the most sweeps that change something a read runs.
        trials: None for inputs ``(N, d)``, or T independent networks, ``(T, N, d)``.
        seed: int or ``torch.Generator`` of the update orders (None: seeded from torch's
            global generator when built). Each read draws new orders.
        device, dtype: where the weights live and their floating-point type.
    """

    # Nothing to tune: the Hebbian weights and the sign update have no setting.
    hyperparameters: ClassVar[Mapping[str, tuple]] = MappingProxyType({})

    def __init__(
        self,
        dim: int,
        iterations: int = 100,
        trials: int | None = None,
        *,
        seed: int | torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__(dim, iterations, trials, seed, device, dtype)
        shape = (self.n_trials, self.key_dim, self.key_dim)
        # d W = sum of xi xi^T: whole numbers, so that every field is exact (a field that is
        # zero is zero, not a rounding error of either sign).
        self.register_buffer("couplings", torch.zeros(shape, dtype=dtype, device=device))

    @property
    def weights(self) -> torch.Tensor:
        """The weights ``W = sum_mu xi_mu xi_mu^T / d`` (zero diagonal): ``(dim, dim)`` or
        ``(T, dim, dim)``."""
        return self._unbatch(self.couplings / self.key_dim)

    def _state(self) -> torch.Tensor:
        return self.couplings

    def state_size(self) -> int:
        """Floats one trial holds: the ``dim x dim`` weights."""
        return self.key_dim * self.key_dim

    def _store(self, patterns: torch.Tensor) -> None:
        self.couplings += patterns.transpose(-2, -1) @ patterns
        self.couplings.diagonal(dim1=-2, dim2=-1).zero_()

    def _begin(self, states: torch.Tensor) -> torch.Tensor:
        # d times the fields (the same signs), kept up to date by _flip (W is symmetric)
        return states @ self.couplings

    def _fields(
        self, held: torch.Tensor, states: torch.Tensor, trial: torch.Tensor
    ) -> torch.Tensor:
        return held

    def _flip(
        self,
        held: torch.Tensor,
        rows: torch.Tensor,
        trial: torch.Tensor,
        units: torch.Tensor,
        change: torch.Tensor,
    ) -> None:
        held.index_add_(0, rows, change[:, None] * self.couplings[trial, units])

    def _energy(self, states: torch.Tensor) -> torch.Tensor:
        s = states.double()
        return -0.5 * ((s @ self.couplings.double()) * s).sum(dim=-1) / self.key_dim


class DenseAssociativeMemory(_SignNetwork):
    """A dense associative memory: the energy ``-sum_mu F(xi_mu . s)`` with ``F(x) = x^n``.

    Krotov and Hopfield (2016) replace the pairwise energy of :class:`HopfieldMemory` by
    a sum over the stored patterns of a steeper function of each overlap. With
    ``F(x) = x^n`` (or its rectified form ``max(x, 0)^n``, ``rectified=True``) a
    network of d units holds a number of patterns that grows like ``d^(n-1)``; ``n = 2``
    is the classical network (the same updates as :class:`HopfieldMemory`).

    Write: ``update(patterns, patterns)`` appends the patterns' signs to the store (values
    must equal keys).

    Read: as in :class:`HopfieldMemory`, asynchronous updates from the signs of the cue in
    a fresh random order per sweep, until a fixed point or ``iterations`` sweeps that
    changed something; a unit takes the sign that gives the lower energy,

        s_i <- sign(sum_mu xi_mu,i [F(b_mu + 1) - F(b_mu - 1)]),  b_mu = sum_{j != i} xi_mu,j s_j,

    and is left as it is on a tie (a unit at 0 becomes +1). Every such update lowers the
    energy or keeps it (:meth:`energy`; from a unit at 0 only where ``F`` is convex: even
    ``n`` or ``rectified``). Before any write every field is zero and a read returns the
    cue's signs.

    Args:
        dim: number of units d.
        n: the power of ``F`` (an int >= 2).
        rectified: use ``F(x) = max(x, 0)^n`` instead of ``x^n``.
        iterations: the most sweeps that change something a read runs.
        trials: None for inputs ``(N, d)``, or T independent networks, ``(T, N, d)``.
        seed: int or ``torch.Generator`` of the update orders (None: seeded from torch's
            global generator when built). Each read draws new orders.
        device, dtype: where the patterns live and their floating-point type.
    """

    # The power of the energy: 2 is the classical network, each step up multiplies the
    # capacity by about d.
    hyperparameters: ClassVar[Mapping[str, tuple]] = MappingProxyType({"n": (2, 3, 4, 5)})

    def __init__(
        self,
        dim: int,
        n: int = 3,
        rectified: bool = False,
        iterations: int = 100,
        trials: int | None = None,
        *,
        seed: int | torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__(dim, iterations, trials, seed, device, dtype)
        self.n = _validate.positive_int("n", n)
        if self.n < 2:
            raise ValueError(f"n must be an int >= 2 (2: the classical network), got {n}")
        if not isinstance(rectified, bool):
            raise TypeError(f"rectified must be a bool, got {rectified!r}")
        self.rectified = rectified
        self.register_buffer(
            "patterns", torch.zeros(self.n_trials, 0, self.key_dim, dtype=dtype, device=device)
        )

    @property
    def n_stored(self) -> int:
        """How many patterns each trial holds."""
        return self.patterns.shape[-2]

    def _state(self) -> torch.Tensor:
        return self.patterns

    def state_size(self) -> int:
        """Floats one trial holds now: ``patterns stored x dim`` (grows with every write)."""
        return self.n_stored * self.key_dim

    def _store(self, patterns: torch.Tensor) -> None:
        self.patterns = torch.cat([self.patterns, patterns], dim=-2)

    def _gain(self, b: torch.Tensor) -> torch.Tensor:
        """``F(b + 1) - F(b - 1)`` for whole-number overlaps ``b`` (float64).

        For ``F(x) = x^n`` that is ``2 sum_{k odd} C(n, k) b^(n-k)``: a sum of whole
        numbers of one sign, exact in float64 while below 2^53, so that a tie is a tie.
        """
        n = self.n
        gain = sum(2 * math.comb(n, k) * b ** (n - k) for k in range(1, n + 1, 2))
        if not self.rectified:
            return gain
        return torch.where(b >= 1, gain, (b + 1).clamp(min=0) ** n)  # b <= 0: F(b - 1) = 0

    def _begin(self, states: torch.Tensor) -> torch.Tensor:
        # the overlaps (T, N, P), in float64 like everything the fields are made of
        self._exact = self.patterns.double()  # the patterns of this read, in float64
        return states.double() @ self._exact.transpose(-2, -1)

    def _fields(
        self, held: torch.Tensor, states: torch.Tensor, trial: torch.Tensor
    ) -> torch.Tensor:
        # Unit i sees b_mu = a_mu - xi_mu,i s_i. For s_i = ±1 that is a_mu - 1 where
        # xi_mu,i = s_i and a_mu + 1 elsewhere, so the field is (A xi)_i + s_i sum(B) with
        # A, B the half sum and half difference of the gains at a - 1 and a + 1.
        if self.n_stored == 0:
            return torch.zeros_like(states, dtype=torch.float64)
        low, high = self._gain(held - 1), self._gain(held + 1)
        fields = self._through_patterns((low + high) / 2, trial)
        fields += states * ((low - high) / 2).sum(dim=-1, keepdim=True)
        zero = states == 0
        if bool(zero.any()):
            fields = torch.where(zero, self._through_patterns(self._gain(held), trial), fields)
        return fields

    def _through_patterns(self, x: torch.Tensor, trial: torch.Tensor) -> torch.Tensor:
        """``x[b] @ patterns[trial[b]]`` for rows ``x`` ``(B, P)`` sorted by trial: ``(B, d)``."""
        patterns = self._exact
        counts = torch.bincount(trial, minlength=self.n_trials)
        if bool((counts == counts[0]).all()):
            per = int(counts[0])
            return (x.view(self.n_trials, per, -1) @ patterns).view(len(x), -1)
        parts = torch.split(x, counts.tolist())
        return torch.cat([p @ patterns[i] for i, p in enumerate(parts) if len(p) > 0])

    def _flip(
        self,
        held: torch.Tensor,
        rows: torch.Tensor,
        trial: torch.Tensor,
        units: torch.Tensor,
        change: torch.Tensor,
    ) -> None:
        if self.n_stored > 0:
            held.index_add_(0, rows, change[:, None].double() * self._exact[trial, :, units])

    def _energy(self, states: torch.Tensor) -> torch.Tensor:
        overlaps = states.double() @ self.patterns.double().transpose(-2, -1)
        if self.rectified:
            overlaps = overlaps.clamp(min=0)
        return -(overlaps**self.n).sum(dim=-1)

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, n={self.n}, rectified={self.rectified}, "
            f"n_stored={self.n_stored}"
        )
