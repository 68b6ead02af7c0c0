import itertools
import math

import numpy as np
import pytest

from nnqft import correlators


def brute_force_wick(cov, idx):
    """Isserlis by explicit recursion over pairings (independent of set_partitions)."""
    if not idx:
        return 1.0
    first, rest = idx[0], idx[1:]
    return sum(cov[first, rest[i]] * brute_force_wick(cov, rest[:i] + rest[i + 1:]) for i in range(len(rest)))


@pytest.mark.parametrize("n, count", [(2, 21), (4, 126), (6, 462)])
def test_multiset_counts_and_order(n, count):
    t = correlators.multisets(6, n)
    assert t.shape == (count, n) == (math.comb(6 + n - 1, n), n)
    assert np.all(np.diff(t, axis=1) >= 0)
    assert [tuple(r) for r in t] == sorted(tuple(r) for r in t)


def test_multiset_position_sorts_its_input():
    t = correlators.multisets(4, 4)
    assert correlators.multiset_position(4, [[3, 0, 2, 0]])[0] == [tuple(r) for r in t].index((0, 0, 2, 3))


@pytest.mark.parametrize("n, count", [(2, 1), (4, 3), (6, 15)])
def test_perfect_matchings_count(n, count):
    assert len(correlators.perfect_matchings(n)) == count == math.prod(range(n - 1, 0, -2))


@pytest.mark.parametrize("n", [2, 4, 6])
def test_gaussian_moments_match_brute_force_isserlis(n):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4, 4))
    cov = a @ a.T
    t = correlators.multisets(4, n)
    got = correlators.gaussian_moments(cov, t)
    want = [brute_force_wick(cov, list(r)) for r in t]
    np.testing.assert_allclose(got, want, rtol=1e-13)


def test_gaussian_moments_with_mean_match_one_dimensional_closed_forms():
    mu, var = 0.7, 1.3
    cov, mean = np.array([[var]]), np.array([mu])
    got = [correlators.gaussian_moments(cov, np.zeros((1, n), int), mean)[0] for n in (2, 4, 6)]
    want = [mu**2 + var, mu**4 + 6 * mu**2 * var + 3 * var**2,
            mu**6 + 15 * mu**4 * var + 45 * mu**2 * var**2 + 15 * var**3]
    np.testing.assert_allclose(got, want, rtol=1e-13)


def test_laplace_cumulants_from_moments():
    # Laplace(0, b): kappa_2k = 2 (2k-1)! b^2k, moments (2k)! b^2k.
    b = 0.8
    moments = {n: np.array([math.factorial(n) * b**n]) for n in (2, 4, 6)}
    for n in (2, 4, 6):
        got = correlators.cumulants_from_moments(moments, 1, n)
        np.testing.assert_allclose(got, [2 * math.factorial(n - 1) * b**n], rtol=1e-13)


def test_connected_correlators_of_a_gaussian_vanish():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(5, 5))
    cov = a @ a.T
    moments = {n: correlators.gaussian_moments(cov, correlators.multisets(5, n)) for n in (2, 4, 6)}
    for n in (4, 6):
        scale = np.abs(moments[n]).max()
        assert np.abs(correlators.cumulants_from_moments(moments, 5, n)).max() < 1e-12 * scale


def test_moments_cumulants_round_trip_with_leading_axes():
    rng = np.random.default_rng(2)
    cumulants = {n: rng.normal(size=(3, len(correlators.multisets(3, n)))) for n in (2, 4, 6)}
    moments = {n: correlators.moments_from_cumulants(cumulants, 3, n) for n in (2, 4, 6)}
    for n in (4, 6):
        np.testing.assert_allclose(correlators.cumulants_from_moments(moments, 3, n), cumulants[n], rtol=1e-10, atol=1e-12)


def test_set_partitions_are_bell_numbers():
    assert [len(correlators.set_partitions(n)) for n in range(1, 7)] == [1, 2, 5, 15, 52, 203]
    for p in correlators.set_partitions(4):
        assert sorted(itertools.chain(*p)) == [0, 1, 2, 3]
