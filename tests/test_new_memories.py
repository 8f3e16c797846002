"""DeltaNet, Gated DeltaNet, linear attention and sliding-window attention, each checked
against a plain step-by-step reference; and the state size of every memory."""

from __future__ import annotations

import itertools
import math
from functools import partial

import pytest
import torch

from memnb import metrics
from memnb.experiments import capacity
from memnb.memories import (
    AttentionMemory,
    DeltaRuleMemory,
    EpisodicMemory,
    LoopedMemory,
    MatrixAssociativeMemory,
    NeuralMemory,
    ProjectingEpisodicMemory,
)
from memnb.memories.deltanet import DeltaNetMemory, GatedDeltaNetMemory
from memnb.memories.linear_attention import LinearAttentionMemory
from memnb.memories.size import state_size
from memnb.memories.sliding import SlidingWindowMemory

F32, F64 = torch.float32, torch.float64
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def randn(*shape, seed=0, dtype=F32, device="cpu"):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=gen, dtype=dtype).to(device)


# --- plain references: loops over trials and pairs, explicit vectors, float64 -------------


def ref_deltanet(writes, queries, beta):
    """DeltaNet as written in the paper: per pair ``M += beta (v - M k^) k^T``."""
    reads = []
    for t in range(queries.shape[0]):
        matrix = torch.zeros(writes[0][1].shape[-1], queries.shape[-1], dtype=F64)
        for keys, values in writes:
            for k, v in zip(keys[t].double(), values[t].double(), strict=True):
                k = k / k.norm()
                matrix = matrix + beta * torch.outer(v - matrix @ k, k)
        reads.append(torch.stack([matrix @ (q / q.norm()) for q in queries[t].double()]))
    return torch.stack(reads)


def ref_gated(writes, queries, beta, alpha):
    """Gated DeltaNet as written in the paper: ``M <- alpha M (I - beta k k^T) + beta v k^T``."""
    eye = torch.eye(queries.shape[-1], dtype=F64)
    reads = []
    for t in range(queries.shape[0]):
        matrix = torch.zeros(writes[0][1].shape[-1], queries.shape[-1], dtype=F64)
        for keys, values in writes:
            for k, v in zip(keys[t].double(), values[t].double(), strict=True):
                k = k / k.norm()
                matrix = alpha * matrix @ (eye - beta * torch.outer(k, k)) + beta * torch.outer(
                    v, k
                )
        reads.append(torch.stack([matrix @ (q / q.norm()) for q in queries[t].double()]))
    return torch.stack(reads)


def ref_phi(x, feature_map, nu):
    """The feature map of one vector, from its definition, element by element."""
    x = [float(a) for a in x]
    if feature_map == "identity":
        feats = x
    elif feature_map == "elu+1":  # elu(a) + 1 = a + 1 for a > 0, exp(a) otherwise
        feats = [a + 1.0 if a > 0 else math.exp(a) for a in x]
    else:  # DPFP-nu: r = relu([x, -x]); phi = [r_j r_{(j - i) mod 2d}] for i = 1..nu
        r = [max(a, 0.0) for a in x] + [max(-a, 0.0) for a in x]
        feats = [r[j] * r[(j - i) % len(r)] for i in range(1, nu + 1) for j in range(len(r))]
    return torch.tensor(feats, dtype=F64)


def ref_linear(writes, queries, feature_map, nu):
    reads = []
    for t in range(queries.shape[0]):
        matrix = 0.0
        for keys, values in writes:
            for k, v in zip(keys[t].double(), values[t].double(), strict=True):
                matrix = matrix + torch.outer(v, ref_phi(k, feature_map, nu))
        reads.append(torch.stack([matrix @ ref_phi(q, feature_map, nu) for q in queries[t]]))
    return torch.stack(reads)


def ref_sliding(writes, queries, window, beta):
    """Keep a list of the last ``window`` pairs; read a softmax over raw dot products."""
    reads = []
    for t in range(queries.shape[0]):
        pairs = []
        for keys, values in writes:
            pairs += list(zip(keys[t].double(), values[t].double(), strict=True))
            pairs = pairs[-window:]
        trial = []
        for q in queries[t].double():
            scores = torch.stack([beta * (q @ k) for k, _ in pairs])
            weights = torch.exp(scores - scores.max())
            weights = weights / weights.sum()
            trial.append(sum(w * v for w, (_, v) in zip(weights, pairs, strict=True)))
        reads.append(torch.stack(trial))
    return torch.stack(reads)


# Each case: (builder (dim, trials, **kw) -> memory, reference (writes, queries) -> reads).
CASES = {
    "deltanet-beta1": (
        partial(DeltaNetMemory, beta=1.0),
        partial(ref_deltanet, beta=1.0),
    ),
    "deltanet-beta0.3": (
        partial(DeltaNetMemory, beta=0.3),
        partial(ref_deltanet, beta=0.3),
    ),
    "gated-0.5-0.9": (
        partial(GatedDeltaNetMemory, beta=0.5, alpha=0.9),
        partial(ref_gated, beta=0.5, alpha=0.9),
    ),
    "gated-1-0.99": (
        partial(GatedDeltaNetMemory, beta=1.0, alpha=0.99),
        partial(ref_gated, beta=1.0, alpha=0.99),
    ),
    "linear-identity": (
        partial(LinearAttentionMemory, feature_map="identity"),
        partial(ref_linear, feature_map="identity", nu=1),
    ),
    "linear-elu+1": (
        partial(LinearAttentionMemory, feature_map="elu+1"),
        partial(ref_linear, feature_map="elu+1", nu=1),
    ),
    "linear-dpfp-3": (
        partial(LinearAttentionMemory, feature_map="dpfp", nu=3),
        partial(ref_linear, feature_map="dpfp", nu=3),
    ),
    "sliding-7": (
        partial(SlidingWindowMemory, window=7, beta=0.5),
        partial(ref_sliding, window=7, beta=0.5),
    ),
    "sliding-100": (
        partial(SlidingWindowMemory, window=100, beta=1.0),
        partial(ref_sliding, window=100, beta=1.0),
    ),
}
DIM, VALUE_DIM = 6, 4
# The second write crosses DeltaNet's chunk of 64 pairs and ends inside the next one.
SIZES = (5, 70)


def writes_for(trials, dtype=F32, device="cpu"):
    t = 1 if trials is None else trials
    return [
        (
            randn(t, n, DIM, seed=2 * i, dtype=dtype, device=device),
            randn(t, n, VALUE_DIM, seed=2 * i + 1, dtype=dtype, device=device),
        )
        for i, n in enumerate(SIZES)
    ]


@pytest.mark.parametrize("dtype, tol", [(F32, 2e-5), (F64, 1e-11)])
@pytest.mark.parametrize("trials", [None, 3])
@pytest.mark.parametrize("case", CASES)
def test_memory_matches_its_step_by_step_reference(case, trials, dtype, tol):
    build, reference = CASES[case]
    memory = build(DIM, trials=trials, value_dim=VALUE_DIM, dtype=dtype)
    writes = writes_for(trials, dtype)
    queries = randn(1 if trials is None else trials, 9, DIM, seed=99, dtype=dtype)
    for keys, values in writes:
        strip = (lambda x: x[0]) if trials is None else (lambda x: x)
        loss = memory.update(strip(keys), strip(values))
        assert loss.shape == (() if trials is None else (trials,))
    reads = memory(queries[0] if trials is None else queries)
    expected = reference(writes, queries)
    if trials is None:
        assert reads.shape == (9, VALUE_DIM)
        expected = expected[0]
    else:
        assert reads.shape == (trials, 9, VALUE_DIM)
    assert reads.dtype == dtype
    scale = expected.abs().max()
    assert (reads.double() - expected).abs().max() <= tol * scale


@pytest.mark.parametrize("case", CASES)
def test_trials_are_independent(case):
    build = CASES[case][0]
    writes = writes_for(3)
    changed = [(k.clone(), v.clone()) for k, v in writes]
    for k, v in changed:
        k[1] = -2 * k[1] + 1
        v[1] = v[1] + 5
    queries = randn(3, 9, DIM, seed=99)
    reads = []
    for pairs in (writes, changed):
        memory = build(DIM, trials=3, value_dim=VALUE_DIM)
        for keys, values in pairs:
            memory.update(keys, values)
        reads.append(memory(queries))
    assert torch.equal(reads[0][[0, 2]], reads[1][[0, 2]])
    assert not torch.allclose(reads[0][1], reads[1][1])
    # Trial t of the batched memory is the memory built alone on trial t's pairs.
    for t in range(3):
        single = build(DIM, value_dim=VALUE_DIM)
        for keys, values in writes:
            single.update(keys[t], values[t])
        torch.testing.assert_close(single(queries[t]), reads[0][t])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", CASES)
def test_state_and_reads_follow_device_and_dtype(case, device):
    build = CASES[case][0]
    memory = build(DIM, trials=2, value_dim=VALUE_DIM, dtype=F64, device=device)
    assert memory.dtype == F64 and memory.device.type == device
    for keys, values in writes_for(2, F64, device):
        memory.update(keys, values)
    reads = memory(randn(2, 3, DIM, dtype=F64, device=device))
    assert reads.dtype == F64 and reads.device.type == device
    with pytest.raises(TypeError, match=r"keys has dtype torch.float32.*torch.float64"):
        memory.update(randn(2, 3, DIM, device=device), randn(2, 3, VALUE_DIM, device=device))
    with pytest.raises(ValueError, match=r"queries is on meta.*expected a tensor on"):
        memory(torch.zeros(2, 3, DIM, dtype=F64, device="meta"))


@pytest.mark.parametrize("case", CASES)
def test_wrong_shapes_are_rejected(case):
    memory = CASES[case][0](DIM, trials=2, value_dim=VALUE_DIM)
    with pytest.raises(ValueError, match=r"keys must have last dimension 6.*\(2, 3, 5\)"):
        memory.update(randn(2, 3, 5), randn(2, 3, VALUE_DIM))
    with pytest.raises(ValueError, match=r"values must have last dimension 4.*\(2, 3, 6\)"):
        memory.update(randn(2, 3, DIM), randn(2, 3, DIM))
    with pytest.raises(ValueError, match=r"queries must have shape \(2, N, 6\).*\(3, 6\)"):
        memory(randn(3, DIM))
    with pytest.raises(ValueError, match=r"keys has 3 trials.*trials=2"):
        memory.update(randn(3, 1, DIM), randn(3, 1, VALUE_DIM))


# --- DeltaNet: the properties the write rule promises -------------------------------------


@pytest.mark.parametrize("alpha", [1.0, 0.9])
def test_deltanet_passes_over_the_same_keys_are_bit_identical_to_fresh_ones(alpha):
    """What a pass keeps of its keys between writes changes no number, and a change of
    the keys in place (or other keys) is seen."""
    gen = torch.Generator().manual_seed(3)
    keys, values = torch.randn(2, 150, 8, generator=gen), torch.randn(2, 150, 8, generator=gen)
    kept = GatedDeltaNetMemory(8, beta=0.5, alpha=alpha, trials=2)
    fresh = GatedDeltaNetMemory(8, beta=0.5, alpha=alpha, trials=2)
    for step in range(6):
        if step == 3:
            keys.mul_(-0.5)  # in place: the kept unit keys and systems are stale
        if step == 5:
            keys = torch.randn(2, 150, 8, generator=gen)
        got = kept.update(keys, values)
        want = fresh.update(keys.clone(), values)  # a new tensor every time: nothing kept
        assert torch.equal(got, want)
        assert torch.equal(kept.matrix, fresh.matrix)


def test_gated_deltanet_with_alpha_one_is_deltanet_exactly():
    keys, values = randn(4, 150, 16, seed=1), randn(4, 150, 16, seed=2)
    plain = DeltaNetMemory(16, beta=0.6, trials=4)
    gated = GatedDeltaNetMemory(16, beta=0.6, alpha=1.0, trials=4)
    for memory in (plain, gated):
        memory.update(keys[:, :100], values[:, :100])
        memory.update(keys[:, 100:], values[:, 100:])
    assert torch.equal(plain.matrix, gated.matrix)
    queries = randn(4, 5, 16, seed=3)
    assert torch.equal(plain(queries), gated(queries))
    different = GatedDeltaNetMemory(16, beta=0.6, alpha=0.99, trials=4)
    different.update(keys, values)
    assert not torch.allclose(different.matrix, plain.matrix)


@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e3])
def test_one_pair_is_stored_exactly_with_beta_one(scale):
    key, value = randn(1, 32, seed=4) * scale, randn(1, 32, seed=5)
    memory = DeltaNetMemory(32)
    memory.update(key, value)
    torch.testing.assert_close(memory(key), value)
    torch.testing.assert_close(memory(7 * key), value)  # the query is normalised too


def test_a_zero_key_writes_nothing_and_a_zero_query_reads_zero():
    memory = DeltaNetMemory(8)
    memory.update(randn(3, 8), randn(3, 8, seed=1))
    before = memory.matrix.clone()
    memory.update(torch.zeros(1, 8), randn(1, 8, seed=2))
    assert torch.equal(memory.matrix, before)
    assert torch.equal(memory(torch.zeros(2, 8)), torch.zeros(2, 8))


@pytest.mark.parametrize("beta", [0.25, 0.5, 1.0])
def test_rewriting_a_pair_shrinks_its_error_by_one_minus_beta(beta):
    keys, values = randn(20, 16, seed=6, dtype=F64), randn(20, 16, seed=7, dtype=F64)
    memory = DeltaNetMemory(16, beta=beta, dtype=F64)
    memory.update(keys, values)
    error = (memory(keys[:1]) - values[:1]).norm()
    assert error > 0.1  # the later pairs disturbed the first one
    for _ in range(4):
        memory.update(keys[:1], values[:1])
        new = (memory(keys[:1]) - values[:1]).norm()
        assert new <= (1 - beta) * error + 1e-12
        assert new >= (1 - beta) * error - 1e-12
        error = new


def test_rewriting_a_stored_pair_with_beta_one_changes_no_read():
    keys, values = randn(30, 16, seed=8), randn(30, 16, seed=9)
    memory = DeltaNetMemory(16)
    memory.update(keys, values)
    memory.update(keys[:1], values[:1])  # now stored exactly
    reads = memory(keys)
    for _ in range(5):
        memory.update(keys[:1], values[:1])
        assert (memory(keys) - reads).abs().max() <= 1e-5
    assert (reads[1:] - values[1:]).abs().max() > 0.1  # the others are not exact: not trivial


@pytest.mark.parametrize(
    "memory_class, kwargs",
    [
        (DeltaNetMemory, {"beta": 1.0}),
        (DeltaNetMemory, {"beta": 0.3}),
        (GatedDeltaNetMemory, {"beta": 0.7, "alpha": 0.9}),
    ],
)
def test_no_step_moves_two_states_apart(memory_class, kwargs):
    """The step is ``M -> alpha M (I - beta k k^T) + c``: the distance of two states shrinks
    by at least ``alpha`` (and grows by nothing) at every pair written."""
    first, second = (memory_class(16, **kwargs, dtype=F64) for _ in range(2))
    first.matrix.copy_(randn(1, 16, 16, seed=10))
    second.matrix.copy_(randn(1, 16, 16, seed=11))
    keys, values = randn(200, 16, seed=12, dtype=F64), randn(200, 16, seed=13, dtype=F64)
    keys[100:150] = keys[:50]  # repeated keys too
    distance = (first.matrix - second.matrix).norm()
    for k, v in zip(keys, values, strict=True):
        first.update(k[None], v[None])
        second.update(k[None], v[None])
        new = (first.matrix - second.matrix).norm()
        assert new <= first.alpha * distance * (1 + 1e-12) + 1e-14
        distance = new
    assert distance > 0  # two different states stay apart: not trivially zero


def test_deltanet_recalls_the_latest_value_when_keys_repeat():
    """Schlag et al. (2021): the delta rule overwrites the value of a repeated key, the
    Hebbian sum (linear attention) only adds to it."""
    trials, n, dim, repeats = 8, 16, 64, 3
    keys = randn(trials, n, dim, seed=14)
    values = randn(trials, repeats, n, dim, seed=15)  # a fresh value at every repeat
    delta = DeltaNetMemory(dim, trials=trials)
    hebbian = LinearAttentionMemory(dim, trials=trials)
    unit = keys / keys.norm(dim=-1, keepdim=True)
    for r in range(repeats):
        delta.update(keys, values[:, r])
        hebbian.update(unit, values[:, r])
    # Candidates: the latest values first (the targets), then every earlier value.
    candidates = torch.cat([values[:, -1], *values[:, :-1].unbind(1)], dim=1)
    scores = {
        name: metrics.nearest_neighbor_recall(memory(keys), candidates).double().mean().item()
        for name, memory in (("delta", delta), ("hebbian", hebbian))
    }
    assert scores["delta"] > scores["hebbian"] + 0.3, scores


# --- linear attention ---------------------------------------------------------------------


@pytest.mark.parametrize("dim, nu", [(2, 1), (5, 2), (16, 3), (64, 3)])
def test_dpfp_has_2_nu_d_features(dim, nu):
    memory = LinearAttentionMemory(dim, feature_map="dpfp", nu=nu, trials=2)
    assert memory.feature_dim == 2 * nu * dim
    features = memory.features(randn(2, 7, dim))
    assert features.shape == (2, 7, 2 * nu * dim)
    assert (features >= 0).all()
    assert memory.matrix.shape == (2, dim, 2 * nu * dim)


@pytest.mark.parametrize("feature_map", ["identity", "elu+1", "dpfp"])
def test_features_follow_their_definition(feature_map):
    memory = LinearAttentionMemory(12, feature_map=feature_map, nu=3)
    assert memory.feature_dim == (2 * 3 * 12 if feature_map == "dpfp" else 12)
    x = randn(4, 12)
    expected = torch.stack([ref_phi(row, feature_map, 3) for row in x]).float()
    torch.testing.assert_close(memory.features(x), expected)


def test_linear_attention_writes_pairs_in_any_grouping():
    keys, values = randn(2, 10, 8, seed=16), randn(2, 10, 8, seed=17)
    whole, parts = (LinearAttentionMemory(8, "dpfp", 2, trials=2) for _ in range(2))
    whole.update(keys, values)
    for i in range(10):
        parts.update(keys[:, i : i + 1], values[:, i : i + 1])
    torch.testing.assert_close(whole.matrix, parts.matrix)


# --- sliding window -----------------------------------------------------------------------


def test_sliding_window_bounds_the_store_and_reads_like_attention_inside_it():
    keys, values = randn(2, 30, 8, seed=18), randn(2, 30, 8, seed=19)
    window = SlidingWindowMemory(8, window=12, trials=2)
    store = AttentionMemory(8, trials=2)
    for start in range(0, 30, 7):
        window.update(keys[:, start : start + 7], values[:, start : start + 7])
        assert window.n_stored == min(start + 7, 30, 12)
    store.update(keys[:, -12:], values[:, -12:])
    queries = randn(2, 5, 8, seed=20)
    assert torch.equal(window(queries), store(queries))
    assert torch.equal(window.stored_keys, keys[:, -12:])
    window.update(keys, values)  # more than four windows at once: the dropped pairs are freed
    assert window._blocks["stored_keys"].shape[-2] == 12
    assert torch.equal(window.stored_values, values[:, -12:])


# --- the protocol ---------------------------------------------------------------------------


FAMILIES = {
    "DeltaNetMemory": DeltaNetMemory,
    "GatedDeltaNetMemory": partial(GatedDeltaNetMemory, alpha=0.95),
    "LinearAttentionMemory-dpfp": partial(LinearAttentionMemory, feature_map="dpfp", nu=2),
    "SlidingWindowMemory": partial(SlidingWindowMemory, window=32),
}


@pytest.mark.parametrize("name", FAMILIES)
def test_each_memory_runs_through_the_capacity_protocol(name):
    frame = capacity(FAMILIES[name], [16, 64], steps=1, trials=4, dim=32, seed=0)
    assert len(frame) == 2 * 4
    assert not frame["diverged"].any()
    assert frame["accuracy"].between(0, 1).all()


@pytest.mark.parametrize(
    "new, old",
    [
        (partial(SlidingWindowMemory, window=64), AttentionMemory),
        (partial(LinearAttentionMemory, feature_map="identity"), MatrixAssociativeMemory),
    ],
)
def test_special_cases_score_as_the_memory_they_reduce_to(new, old):
    """A window that holds every pair is an attention store; the identity map is Hebbian."""
    frames = [capacity(f, [16, 64], steps=1, trials=4, dim=32, seed=1) for f in (new, old)]
    columns = ["accuracy", "mse", "cosine"]
    assert frames[0][columns].equals(frames[1][columns])


def test_deltanet_batched_and_looped_score_the_same():
    batched = capacity(DeltaNetMemory, [16, 64], steps=1, trials=4, dim=32, seed=2)

    def single(dim):  # no trials argument: the protocol loops over trials
        return DeltaNetMemory(dim)

    looped = capacity(single, [16, 64], steps=1, trials=4, dim=32, seed=2)
    assert batched["accuracy"].equals(looped["accuracy"])
    assert (batched["mse"] - looped["mse"]).abs().max() < 1e-5


# --- bad settings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: DeltaNetMemory(8, beta=0), ValueError, r"beta.*> 0.*\b0\.0"),
        (lambda: DeltaNetMemory(8, beta=1.5), ValueError, r"beta.*\(0, 1\].*1\.5"),
        (lambda: DeltaNetMemory(8, beta=float("nan")), ValueError, r"beta.*nan"),
        (lambda: DeltaNetMemory(8, beta="1"), TypeError, r"beta.*number.*'1'.*str"),
        (lambda: DeltaNetMemory(0), ValueError, r"dim.*positive int.*\b0\b"),
        (lambda: GatedDeltaNetMemory(8, alpha=0.0), ValueError, r"alpha.*> 0.*0\.0"),
        (lambda: GatedDeltaNetMemory(8, alpha=1.01), ValueError, r"alpha.*\(0, 1\].*1\.01"),
        (lambda: GatedDeltaNetMemory(8, beta=-1), ValueError, r"beta.*-1"),
        (lambda: GatedDeltaNetMemory(8, trials=0), ValueError, r"trials.*\b0\b"),
        (
            lambda: LinearAttentionMemory(8, feature_map="relu"),
            ValueError,
            r"feature_map.*one of.*'identity', 'elu\+1', 'dpfp'.*'relu'",
        ),
        (lambda: LinearAttentionMemory(8, nu=0), ValueError, r"nu.*positive int.*\b0\b"),
        (lambda: LinearAttentionMemory(8, nu=1.5), TypeError, r"nu.*int.*1\.5"),
        (
            lambda: LinearAttentionMemory(4, feature_map="dpfp", nu=4),
            ValueError,
            r"nu.*below dim=4.*dpfp.*nu=4",
        ),
        (
            lambda: LinearAttentionMemory(1, feature_map="dpfp"),
            ValueError,
            r"nu.*below dim=1",
        ),
        (lambda: LinearAttentionMemory(8, dtype=torch.int32), TypeError, r"dtype.*int32"),
        (lambda: SlidingWindowMemory(8, window=0), ValueError, r"window.*positive int.*\b0\b"),
        (lambda: SlidingWindowMemory(8, window=2.5), TypeError, r"window.*int.*2\.5"),
        (lambda: SlidingWindowMemory(8, 4, beta=-1), ValueError, r"beta.*>= 0.*-1"),
        (lambda: SlidingWindowMemory(8, 4, device="gpu0"), ValueError, r"device.*'gpu0'"),
    ],
)
def test_bad_settings_are_rejected(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --- hyperparameter grids -----------------------------------------------------------------


@pytest.mark.parametrize(
    "memory_class, grid",
    [
        (DeltaNetMemory, {"beta": (0.1, 0.25, 0.5, 1.0)}),
        (GatedDeltaNetMemory, {"beta": (0.25, 0.5, 1.0), "alpha": (0.9, 0.95, 0.99, 1.0)}),
        (LinearAttentionMemory, {"feature_map": ("identity", "elu+1", "dpfp"), "nu": (1, 2, 3)}),
        (SlidingWindowMemory, {"beta": (0.25, 0.5, 1.0, 2.0, 4.0)}),
    ],
)
def test_every_setting_of_the_grid_builds(memory_class, grid):
    assert dict(memory_class.hyperparameters) == grid
    with pytest.raises(TypeError):
        memory_class.hyperparameters["beta"] = (1.0,)  # read-only
    extra = {"window": 8} if memory_class is SlidingWindowMemory else {}
    for setting in itertools.product(*grid.values()):
        memory = memory_class(32, trials=2, **extra, **dict(zip(grid, setting, strict=True)))
        memory.update(randn(2, 3, 32), randn(2, 3, 32, seed=1))


# --- state size -----------------------------------------------------------------------------


def _write(memory, n, trials=2, dim=8, value_dim=3, seed=0):
    memory.update(randn(trials, n, dim, seed=seed), randn(trials, n, value_dim, seed=seed + 1))


SIZED = {
    # name: (builder at dim 8, value_dim 3, trials 2; size before; size after 5 then 4 pairs)
    "EpisodicMemory": (
        lambda: EpisodicMemory(8, memory_size=5, trials=2, value_dim=3, seed=0),
        5 * (8 + 3),
        5 * (8 + 3),
    ),
    "MatrixAssociativeMemory": (
        lambda: MatrixAssociativeMemory(8, trials=2, value_dim=3),
        8 * 3,
        8 * 3,
    ),
    "DeltaRuleMemory": (lambda: DeltaRuleMemory(8, trials=2, value_dim=3), 8 * 3, 8 * 3),
    "DeltaNetMemory": (lambda: DeltaNetMemory(8, trials=2, value_dim=3), 8 * 3, 8 * 3),
    "GatedDeltaNetMemory": (
        lambda: GatedDeltaNetMemory(8, alpha=0.9, trials=2, value_dim=3),
        8 * 3,
        8 * 3,
    ),
    "LinearAttentionMemory": (
        lambda: LinearAttentionMemory(8, trials=2, value_dim=3),
        3 * 8,
        3 * 8,
    ),
    "LinearAttentionMemory-dpfp": (
        lambda: LinearAttentionMemory(8, "dpfp", nu=2, trials=2, value_dim=3),
        3 * (2 * 2 * 8),
        3 * (2 * 2 * 8),
    ),
    "AttentionMemory": (lambda: AttentionMemory(8, trials=2, value_dim=3), 0, 9 * (8 + 3)),
    "SlidingWindowMemory": (
        lambda: SlidingWindowMemory(8, window=6, trials=2, value_dim=3),
        0,
        6 * (8 + 3),
    ),
    "NeuralMemory": (
        lambda: NeuralMemory(8, depth=3, width=7, trials=2, value_dim=3, seed=0),
        7 * 8 + 7 * 7 + 3 * 7,
        7 * 8 + 7 * 7 + 3 * 7,
    ),
}


def _held(memory) -> int:
    """Floats held per trial, counted from the memory's own tensors."""
    if isinstance(memory, EpisodicMemory):
        tensors = [memory.slot_keys, memory.slot_values]
    elif isinstance(memory, AttentionMemory):
        tensors = [memory.stored_keys, memory.stored_values]
    elif isinstance(memory, NeuralMemory):
        tensors = memory.weights
    else:
        tensors = [memory.matrix]
    return sum(t.numel() for t in tensors) // memory.n_trials


@pytest.mark.parametrize("name", SIZED)
def test_state_size_before_and_after_writes(name):
    build, before, after = SIZED[name]
    memory = build()
    assert state_size(memory) == memory.state_size() == before == _held(memory)
    _write(memory, 5)
    assert state_size(memory) == _held(memory)
    _write(memory, 4, seed=2)
    assert state_size(memory) == memory.state_size() == after == _held(memory)


def test_the_sliding_window_holds_fewer_pairs_than_it_may():
    memory = SlidingWindowMemory(8, window=6, value_dim=3)
    memory.update(randn(4, 8), randn(4, 3))
    assert state_size(memory) == 4 * (8 + 3)


@pytest.mark.parametrize("design", ["learned", "frozen", "readout"])
def test_state_size_of_a_projecting_memory_counts_slots_and_projections(design):
    memory = ProjectingEpisodicMemory(10, 4, memory_size=5, trials=2, value_projection=design)
    expected = 5 * (4 + 4) + 4 * 10 + 4 * 10
    assert state_size(memory) == expected
    memory.update(randn(2, 3, 10), randn(2, 3, 10, seed=1))
    assert state_size(memory) == expected


def test_a_looped_memory_has_the_state_size_of_its_memories():
    looped = LoopedMemory([AttentionMemory(8) for _ in range(3)])
    assert state_size(looped) == 0
    looped.update(randn(3, 4, 8), randn(3, 4, 8, seed=1))
    assert state_size(looped) == 4 * 16
    looped.memories[0].update(randn(1, 8), randn(1, 8))  # one trial alone grows
    with pytest.raises(ValueError, match=r"different numbers of floats, \[80, 64, 64\]"):
        state_size(looped)


class _Reader:
    """A reader's memory without ``state_size``."""

    def update(self, keys, values):
        return None

    def __call__(self, queries):
        return queries


class _Sized(_Reader):
    def __init__(self, size):
        self.size = size

    def state_size(self):
        return self.size


def test_state_size_of_a_memory_that_cannot_tell():
    with pytest.raises(TypeError, match=r"_Reader without one.*def state_size\(self\) -> int"):
        state_size(_Reader())
    with pytest.raises(TypeError, match=r"_Reader without one"):
        state_size(LoopedMemory([_Reader(), _Reader()]))
    with pytest.raises(TypeError, match=r"the class DeltaNetMemory.*DeltaNetMemory\(dim\)"):
        state_size(DeltaNetMemory)
    with pytest.raises(TypeError, match=r"_Sized.state_size\(\) must return an int.*2\.5"):
        state_size(_Sized(2.5))
    with pytest.raises(ValueError, match=r"_Sized.state_size\(\) must be >= 0.*-1"):
        state_size(_Sized(-1))
    assert state_size(_Sized(12)) == 12


def test_sliding_window_default_holds_the_state_of_a_matrix():
    for dim, value_dim in ((64, 64), (32, 96), (3, 3)):
        memory = SlidingWindowMemory(dim, value_dim=value_dim, trials=2)
        keys = torch.randn(2, 4 * dim, dim)
        memory.update(keys, torch.randn(2, 4 * dim, value_dim))
        matrix = MatrixAssociativeMemory(dim, value_dim=value_dim)
        assert abs(memory.state_size() - matrix.state_size()) <= (dim + value_dim) / 2
    assert SlidingWindowMemory(64).window == 32
