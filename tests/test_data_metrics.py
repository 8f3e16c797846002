"""Data generators and retrieval metrics."""

from __future__ import annotations

import math
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pytest
import torch

from memnb import data, metrics

# ---------------------------------------------------------------------------------------------
# human free recall: psifr's data and lag-CRP, without psifr's loops


def _psifr_lag_crp(table):
    from psifr import fr

    return fr.lag_crp(fr.merge_free_recall(table)).reset_index()


@pytest.mark.parametrize("study", data.HUMAN_STUDIES)
def test_human_recalls_are_psifr_s_sample_data(study):
    from psifr import fr

    pd.testing.assert_frame_equal(data.human_recalls(study), fr.sample_data(study))


@pytest.mark.parametrize(
    ("study", "list_type"),
    [("Morton2013", None), ("peers_notask", None), ("Morton2013", "pure")],
)
def test_human_lag_crp_is_psifr_s(study, list_type):
    from psifr import fr

    table = fr.sample_data(study)
    if list_type is not None:
        table = table[table["list_type"] == list_type]
    crp = data.human_lag_crp(study, list_type=list_type)
    pd.testing.assert_frame_equal(crp, _psifr_lag_crp(table))
    crp.loc[:, "prob"] = -1.0  # the caller gets a copy, not the cached frame
    assert (data.human_lag_crp(study, list_type=list_type)["prob"].dropna() >= 0).all()


@pytest.mark.parametrize("seed", range(6))
def test_the_lag_crp_of_lists_with_repeats_intrusions_and_gaps_is_psifr_s(seed):
    from psifr import fr

    rng = np.random.default_rng(seed)
    subjects, study, recall = [], [], []
    for subject in rng.choice(50, 4, replace=False) + 1:
        for _ in range(rng.integers(1, 4)):
            words = [f"w{i}" for i in rng.choice(40, 8, replace=False)]
            pool = words + ["other", "w99"]  # intrusions: items of no list, or of another
            n = int(rng.integers(0, 12))  # possibly an empty recall, possibly repeats
            subjects.append(int(subject))
            study.append(words)
            recall.append([str(w) for w in rng.choice(pool, n)])
    table = fr.table_from_lists(subjects, study, recall)
    pd.testing.assert_frame_equal(data._table_lag_crp(table), _psifr_lag_crp(table))
    shuffled = table.sample(frac=1.0, random_state=seed)
    pd.testing.assert_frame_equal(data._table_lag_crp(shuffled), _psifr_lag_crp(table))


def test_the_lag_crp_without_intrusions_keeps_integer_lags_as_psifr_does():
    from psifr import fr

    table = fr.table_from_lists([1, 1, 2], [["a", "b", "c"]] * 3, [["c", "a", "a", "b"], [], ["b"]])
    pd.testing.assert_frame_equal(data._table_lag_crp(table), _psifr_lag_crp(table))


def test_a_list_that_studies_an_item_twice_is_refused():
    table = pd.DataFrame(
        {"subject": 1, "list": 1, "trial_type": ["study", "study", "recall"],
         "position": [1, 2, 1], "item": ["a", "a", "a"]}
    )  # fmt: skip
    with pytest.raises(ValueError, match="studies an item twice"):
        data._table_lag_crp(table)


# ---------------------------------------------------------------------------------------------
# data


@pytest.mark.parametrize("trials", [None, 3])
@pytest.mark.parametrize("value_dim", [None, 5])
def test_random_pairs_shapes(trials, value_dim):
    keys, values = data.random_pairs(4, 7, trials, value_dim=value_dim, seed=0)
    lead = () if trials is None else (trials,)
    assert keys.shape == (*lead, 4, 7)
    assert values.shape == (*lead, 4, 7 if value_dim is None else value_dim)
    assert keys.dtype == values.dtype == torch.float32
    assert not torch.allclose(keys[..., :5], values[..., :5])  # keys and values differ


@pytest.mark.parametrize("trials", [None, 2])
def test_random_vectors_shapes(trials):
    x = data.random_vectors(3, 6, trials, seed=0)
    assert x.shape == ((3, 6) if trials is None else (2, 3, 6))


def test_same_seed_same_data_different_seed_different_data():
    a = data.random_pairs(5, 8, 2, seed=3)
    b = data.random_pairs(5, 8, 2, seed=3)
    c = data.random_pairs(5, 8, 2, seed=4)
    for x, y, z in zip(a, b, c, strict=True):
        torch.testing.assert_close(x, y, rtol=0, atol=0)
        assert not torch.allclose(x, z)
    torch.testing.assert_close(
        data.random_vectors(5, 8, seed=1), data.random_vectors(5, 8, seed=1), rtol=0, atol=0
    )
    assert not torch.allclose(data.random_vectors(5, 8, seed=1), data.random_vectors(5, 8, seed=2))


def test_seed_does_not_touch_the_global_generator():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    data.random_pairs(4, 4, seed=9)
    torch.testing.assert_close(torch.rand(3), expected)


def test_generator_is_accepted_and_advanced():
    gen = torch.Generator().manual_seed(11)
    first = data.random_vectors(2, 4, seed=gen)
    second = data.random_vectors(2, 4, seed=gen)
    assert not torch.allclose(first, second)  # the generator moved on
    torch.testing.assert_close(first, data.random_vectors(2, 4, seed=11), rtol=0, atol=0)
    keys, values = data.random_pairs(2, 4, seed=torch.Generator().manual_seed(11))
    torch.testing.assert_close(keys, first, rtol=0, atol=0)


def test_gaussian_statistics():
    x = data.random_vectors(4000, 16, seed=0, dtype=torch.float64)
    assert abs(x.mean().item()) < 0.02
    assert x.var().item() == pytest.approx(1.0, abs=0.03)
    assert x.pow(2).sum(dim=-1).mean().item() == pytest.approx(16, rel=0.03)


def test_unit_vectors_have_unit_norm():
    x = data.random_vectors(50, 9, 3, kind="unit", seed=0, dtype=torch.float64)
    torch.testing.assert_close(x.norm(dim=-1), torch.ones(3, 50, dtype=torch.float64))
    keys, values = data.random_pairs(10, 9, kind="unit", value_dim=4, seed=1)
    torch.testing.assert_close(keys.norm(dim=-1), torch.ones(10))
    torch.testing.assert_close(values.norm(dim=-1), torch.ones(10))


def test_binary_vectors_are_plus_minus_one():
    x = data.random_vectors(100, 16, kind="binary", seed=0)
    assert set(x.unique().tolist()) == {-1.0, 1.0}
    keys, values = data.random_pairs(10, 8, kind="binary", value_kind="gaussian", seed=0)
    assert set(keys.unique().tolist()) == {-1.0, 1.0}
    assert len(values.unique()) > 2


def test_dtype_is_respected():
    keys, values = data.random_pairs(3, 4, dtype=torch.float64)
    assert keys.dtype == values.dtype == torch.float64


@pytest.mark.parametrize("kind", ["gaussian", "binary", "unit"])
def test_same_seed_same_vectors_in_every_dtype(kind):
    single = data.random_vectors(40, 16, 3, kind=kind, seed=5)
    double = data.random_vectors(40, 16, 3, kind=kind, seed=5, dtype=torch.float64)
    if kind == "unit":  # normalised in float64, then rounded
        torch.testing.assert_close(double.float(), single, rtol=0, atol=0)
    else:  # drawn in float32: exactly the same numbers
        assert torch.equal(double, single.double())


# ---------------------------------------------------------------------------------------------
# metrics


def test_mse_is_the_mean_over_features():
    retrieved = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    target = torch.tensor([[1.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    torch.testing.assert_close(metrics.mse(retrieved, target), torch.tensor([13 / 3, 1.0]))
    batched = metrics.mse(torch.zeros(2, 3, 4), torch.ones(2, 3, 4))
    torch.testing.assert_close(batched, torch.ones(2, 3))


def test_cosine_similarity_cases():
    x = torch.tensor([[1.0, 2.0, -3.0]])
    torch.testing.assert_close(metrics.cosine_similarity(x, x), torch.tensor([1.0]))
    torch.testing.assert_close(metrics.cosine_similarity(x, -x), torch.tensor([-1.0]))
    torch.testing.assert_close(metrics.cosine_similarity(x, 5 * x), torch.tensor([1.0]))
    orthogonal = torch.tensor([[3.0, 0.0, 1.0]])
    torch.testing.assert_close(metrics.cosine_similarity(x, orthogonal), torch.tensor([0.0]))
    zero = torch.zeros(1, 3)
    assert metrics.cosine_similarity(zero, x).item() == 0.0
    assert metrics.cosine_similarity(x, zero).item() == 0.0
    assert metrics.cosine_similarity(zero, zero).item() == 0.0
    assert metrics.cosine_similarity(torch.zeros(2, 4, 3), torch.ones(2, 4, 3)).shape == (2, 4)


@pytest.mark.parametrize("scale", [1e-6, 1e-3, 1e3, 1e6])
def test_cosine_similarity_is_scale_invariant(scale):
    x = torch.tensor([[1.0, 2.0, -3.0, 0.5]])
    y = torch.tensor([[0.5, -1.0, 2.0, 2.0]])
    expected = metrics.cosine_similarity(x, y)
    torch.testing.assert_close(metrics.cosine_similarity(scale * x, y), expected)
    torch.testing.assert_close(metrics.cosine_similarity(x, scale * y), expected)


@pytest.mark.parametrize("scale", [1e-30, 1e-20, 1e20, 1e30])
def test_cosine_similarity_of_extreme_float32_vectors(scale):
    x = torch.full((1, 4), scale)
    torch.testing.assert_close(metrics.cosine_similarity(x, x), torch.ones(1))


def test_recall_exact_retrieval_is_all_hits():
    targets = torch.eye(4)
    recall = metrics.nearest_neighbor_recall(targets.clone(), targets)
    assert recall.dtype == torch.bool
    assert recall.tolist() == [True] * 4
    # Scaled and slightly noisy reads still point at their own target.
    noisy = 3 * targets + 0.1 * torch.ones(4, 4)
    assert metrics.nearest_neighbor_recall(noisy, targets).all()


def test_recall_swapped_retrievals_are_misses():
    targets = torch.eye(4)
    retrieved = targets[[1, 0, 2, 3]]
    assert metrics.nearest_neighbor_recall(retrieved, targets).tolist() == [
        False,
        False,
        True,
        True,
    ]


def test_recall_with_distractors():
    targets = torch.eye(5)[:2]  # the own targets come first
    candidates = torch.cat([targets, torch.eye(5)[2:]])  # M = 5 > N = 2
    retrieved = torch.tensor([[1.0, 0.1, 0.0, 0.0, 0.0], [0.0, 0.2, 0.9, 0.0, 0.0]])
    # Item 1 is closer to distractor 2 than to its own target.
    assert metrics.nearest_neighbor_recall(retrieved, candidates).tolist() == [True, False]


def test_recall_zero_vector_is_a_miss():
    targets = torch.eye(3)
    retrieved = targets.clone()
    retrieved[0] = 0.0
    assert metrics.nearest_neighbor_recall(retrieved, targets).tolist() == [False, True, True]


def _float64_recall(retrieved, candidates):
    """Nearest-neighbour recall computed the plain way, every cosine in float64."""
    hits = metrics._nearest_is_own(retrieved.double(), candidates.double())
    return hits & (retrieved.abs().amax(dim=-1) > 0)


def _recall_cases(seed=0, count=150):
    """Reads near their targets, with zero reads, near-ties, exact ties and extreme scales."""
    gen = torch.Generator().manual_seed(seed)
    for case in range(count):
        t, n, extra, d = (int(torch.randint(1, hi, (), generator=gen)) for hi in (4, 40, 4, 33))
        candidates = torch.randn(t, n + extra - 1, d, generator=gen, dtype=torch.float64)
        noise = 3 * float(torch.rand((), generator=gen))
        retrieved = candidates[:, :n] + noise * torch.randn(t, n, d, generator=gen).double()
        if case % 5 == 0:
            retrieved[:, : n // 2] = 0.0
        if case % 6 == 0:  # rivals within float32 rounding of the own target
            near = candidates[:, :n] + 1e-9 * torch.randn(t, n, d, generator=gen).double()
            candidates = torch.cat([candidates[:, :n], near], dim=1)
            retrieved = candidates[:, :n].clone()
        if case % 7 == 0:  # exact ties: lowest index wins
            retrieved, candidates = torch.round(2 * retrieved) / 2, torch.round(candidates)
        if case % 8 == 0:
            retrieved, candidates = 1e150 * retrieved, 1e-150 * candidates
        yield retrieved, candidates


def test_recall_is_decided_as_in_float64():
    for retrieved, candidates in _recall_cases():
        expected = _float64_recall(retrieved, candidates)
        assert torch.equal(metrics.nearest_neighbor_recall(retrieved, candidates), expected)
        assert torch.equal(
            metrics.nearest_neighbor_recall(retrieved[0], candidates[0]), expected[0]
        )


def test_recall_screen_rescores_the_close_items_in_float64(monkeypatch):
    """A read 1e-7 rad nearer its own target than a rival 1e-3 rad away: the cosines differ
    by about 1e-10, far below float32 rounding, so only the float64 pass decides it."""
    theta, phi = 1e-3, 0.5e-3 - 1e-7
    rival, own = [math.cos(theta), math.sin(theta)], [1.0, 0.0]
    read = [math.cos(phi), math.sin(phi)]
    # Trial 2 is clear-cut: a hit and a miss by a wide margin.
    candidates = torch.tensor([[rival, own], [[1.0, 0.0], [0.0, 1.0]]], dtype=torch.float64)
    retrieved = torch.tensor([[rival, read], [[1.0, 0.1], [1.0, 0.0]]], dtype=torch.float64)
    rescored = []

    def spy(r, c):
        rescored.append(r.shape[0])
        return nearest_is_own(r, c)

    nearest_is_own = metrics._nearest_is_own
    monkeypatch.setattr(metrics, "_nearest_is_own", spy)
    hits = metrics.nearest_neighbor_recall(retrieved, candidates)
    assert hits.tolist() == [[True, True], [True, False]]
    assert rescored == [1]  # the first trial only, scored again in float64
    assert torch.equal(hits, _float64_recall(retrieved, candidates))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_recall_of_narrow_floats_is_that_of_their_float64_values(dtype):
    for retrieved, candidates in _recall_cases(seed=1, count=40):
        retrieved, candidates = (x.clamp(-1e4, 1e4).to(dtype) for x in (retrieved, candidates))
        expected = _float64_recall(retrieved, candidates)
        assert torch.equal(metrics.nearest_neighbor_recall(retrieved, candidates), expected)


@contextmanager
def _legacy_medium_precision():
    """torch's global setting: float32 products may be rounded to bfloat16."""
    previous = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("medium")
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(previous)


@contextmanager
def _backend_bfloat16():
    """The per-backend setting of newer torch, for the CPU's matrix products."""
    matmul = torch.backends.mkldnn.matmul
    previous = matmul.fp32_precision
    matmul.fp32_precision = "bf16"
    try:
        yield
    finally:
        matmul.fp32_precision = previous


@pytest.mark.parametrize("inexact", [_legacy_medium_precision, _backend_bfloat16])
def test_recall_without_exact_float32_products_is_computed_in_float64(inexact):
    with inexact():
        assert not metrics._exact_float32_matmul(torch.device("cpu"))
        for retrieved, candidates in _recall_cases(seed=2, count=25):
            expected = _float64_recall(retrieved, candidates)
            assert torch.equal(metrics.nearest_neighbor_recall(retrieved, candidates), expected)
    assert metrics._exact_float32_matmul(torch.device("cpu"))


def test_recall_of_no_items_or_no_features():
    assert metrics.nearest_neighbor_recall(torch.zeros(2, 0, 4), torch.zeros(2, 3, 4)).shape == (
        2,
        0,
    )
    assert not metrics.nearest_neighbor_recall(torch.zeros(3, 0), torch.zeros(3, 0)).any()
    no_features = metrics.nearest_target_recall(
        torch.zeros(3, 0), torch.zeros(2, 0), torch.zeros(3, dtype=torch.int64)
    )
    assert no_features.tolist() == [False] * 3


def test_recall_batched():
    targets = torch.eye(3).expand(2, 3, 3)
    retrieved = torch.stack([torch.eye(3), torch.eye(3)[[2, 1, 0]]])
    recall = metrics.nearest_neighbor_recall(retrieved, targets)
    assert recall.tolist() == [[True, True, True], [False, True, False]]


@pytest.mark.parametrize("scale", [1e-30, 1e25, 1e38])
def test_recall_of_tiny_and_huge_float32_reads_follows_their_direction(scale):
    """Squared entries of these reads under- or overflow float32; their direction counts."""
    targets = torch.eye(3)
    reads = scale * targets[[1, 1, 2]]
    expected = [False, True, True]
    assert metrics.nearest_neighbor_recall(reads, targets).tolist() == expected
    assert metrics.nearest_target_recall(reads, targets, torch.arange(3)).tolist() == expected


@pytest.mark.parametrize("trials", [None, 3])
def test_low_rank_pairs_shapes_seed_and_scale(trials):
    keys, values = data.low_rank_pairs(400, 32, 4, 0.5, trials, seed=2)
    shape = (400, 32) if trials is None else (trials, 400, 32)
    assert keys.shape == values.shape == shape and keys.dtype == torch.float32
    again = data.low_rank_pairs(400, 32, 4, 0.5, trials, seed=2)
    assert torch.equal(keys, again[0]) and torch.equal(values, again[1])
    assert not torch.equal(keys, data.low_rank_pairs(400, 32, 4, 0.5, trials, seed=3)[0])
    # signal of squared norm about dim, plus noise of relative norm 0.5
    for x in (keys, values):
        assert x.pow(2).sum(-1).mean() / 32 == pytest.approx(1.25, rel=0.1)


def test_low_rank_pairs_without_noise_are_a_linear_map_of_that_rank():
    keys, values = data.low_rank_pairs(30, 16, 3, 0.0, 2, seed=0, dtype=torch.float64)
    assert (torch.linalg.matrix_rank(keys) == 3).all()
    assert (torch.linalg.matrix_rank(values) == 3).all()
    # the first 10 pairs fix the map; it predicts the other 20 exactly
    fit = torch.linalg.pinv(keys[:, :10]) @ values[:, :10]
    torch.testing.assert_close(keys[:, 10:] @ fit, values[:, 10:])
    assert (torch.linalg.matrix_rank(fit) == 3).all()


def test_low_rank_pairs_noise_breaks_the_map():
    keys, values = data.low_rank_pairs(30, 16, 3, 0.5, seed=0, dtype=torch.float64)
    fit = torch.linalg.pinv(keys[:10]) @ values[:10]
    assert (keys[10:] @ fit - values[10:]).norm() > 0.1 * values[10:].norm()
