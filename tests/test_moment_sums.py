"""Monomial sums as matrix products against per-network products and Isserlis' theorem written out."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nnqft import correlators, moment_sums

RNG = np.random.default_rng(7)


def sums(p, v, mask):
    """``moment_sums.sums`` compiled once (op by op, every gather would compile on its own)."""
    return jax.jit(lambda v, m: moment_sums.sums(p, v, m))(jnp.asarray(v), jnp.asarray(mask))


def isserlis(cov, mean, idx):
    """E[prod_i f_idx[i]] of a Gaussian by recursion on the first slot: its mean, or a pair with another slot."""
    if not idx:
        return 1.0
    first, rest = idx[0], idx[1:]
    total = mean[first] * isserlis(cov, mean, rest)
    for i in range(len(rest)):
        total += cov[first, rest[i]] * isserlis(cov, mean, rest[:i] + rest[i + 1:])
    return total


def test_plain_moments_are_masked_sums_of_products():
    f = RNG.standard_normal((2, 9, 3))  # (output rows, networks, points)
    mask = np.array([1, 1, 0, 1, 1, 1, 0, 1, 1], float)
    orders = (1, 2, 3, 4, 5, 6)
    p = moment_sums.plan({n: moment_sums.moment_terms(3, n) for n in orders})
    got = sums(p, f, mask)
    for n in orders:
        want = np.array([[sum(mask[b] * np.prod(f[o, b, list(t)]) for b in range(9))
                          for t in itertools.combinations_with_replacement(range(3), n)] for o in range(2)])
        np.testing.assert_allclose(np.asarray(got[n]), want, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("with_mean", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_wick_terms_sum_to_gaussian_moments(with_mean):
    n_points, n_net = 3, 5
    a = RNG.standard_normal((n_net, n_points, n_points + 1))
    cov = a @ np.swapaxes(a, 1, 2)
    mean = RNG.standard_normal((n_net, n_points)) if with_mean else np.zeros((n_net, n_points))
    rows, cols = moment_sums.kernel_variables(n_points).T
    v = np.concatenate([cov[:, rows, cols], mean], axis=1)
    mask = np.array([1, 0, 1, 1, 1], float)
    for n in (3, 6):
        pairs = range(n // 2 + 1) if with_mean else [n // 2] if n % 2 == 0 else []
        p = moment_sums.plan({k: moment_sums.wick_terms(n_points, n, k) for k in pairs})
        got = sums(p, v, mask)
        total = sum(np.asarray(got[k]) for k in pairs) if pairs else 0.0
        want = [sum(mask[b] * isserlis(cov[b], mean[b], list(t)) for b in range(n_net))
                for t in correlators.multisets(n_points, n).tolist()]
        np.testing.assert_allclose(total, want, rtol=1e-12, atol=1e-12)


def test_plan_merges_equal_monomials_and_counts_gram_flops():
    p = moment_sums.plan({"x": [[((0, 1), 1.0), ((1, 0), 2.0)], [((2,), 1.0)]]})
    (pos, coef), = p.maps.values()
    assert coef[0].tolist() == [3.0] and coef[1].tolist() == [1.0]
    # one (1, 1) group: left {0}, right {1}; one (0, 1) group: left {()}, right {2}
    assert moment_sums.gram_flops(p) == 2 * (1 * 1 + 1 * 1)
    got = sums(p, np.array([[2.0, 3.0, 5.0], [1.0, 1.0, 1.0]]), np.array([1.0, 0.0]))
    np.testing.assert_array_equal(np.asarray(got["x"]), [18.0, 5.0])


def test_sixth_moments_of_six_points_take_one_56_by_56_product():
    p = moment_sums.plan({6: moment_sums.moment_terms(6, 6)})
    assert [(len(l), len(r)) for l, r in p.groups] == [(56, 56)]
