"""Haar rotations and translations: group properties, keyed determinism, Haar marginals."""

import jax
import numpy as np
import pytest
from scipy import stats

from nnqft.symmetry import groups


@pytest.mark.parametrize("d", [2, 3, 5])
def test_rotations_are_special_orthogonal_and_keyed(d):
    r = groups.haar_rotations(d, 50, key=jax.random.key(3))
    assert r.shape == (50, d, d)
    np.testing.assert_allclose(np.einsum("kji,kjl->kil", r, r), np.broadcast_to(np.eye(d), r.shape), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(r), 1.0, atol=1e-12)
    np.testing.assert_array_equal(r, groups.haar_rotations(d, 50, key=jax.random.key(3)))
    assert not np.allclose(r, groups.haar_rotations(d, 50, key=jax.random.key(4)))


@pytest.mark.parametrize("d", [3, 5])
def test_haar_marginals(d):
    """For Haar R in SO(d): R_11 is the first coordinate of a uniform unit vector, so
    (R_11 + 1)/2 ~ Beta((d-1)/2, (d-1)/2); E[tr R] = 0 and E[(tr R)^2] = 1 (the defining
    representation is real irreducible, d >= 3)."""
    n = 4000
    r = groups.haar_rotations(d, n, key=jax.random.key(11))
    a = (d - 1) / 2
    assert stats.kstest((r[:, 0, 0] + 1) / 2, stats.beta(a, a).cdf).pvalue > 1e-3
    tr = np.trace(r, axis1=1, axis2=2)
    assert abs(tr.mean()) < 4 / np.sqrt(n)
    assert abs((tr**2).mean() - 1) < 4 * (tr**2).std() / np.sqrt(n)


def test_so2_angle_is_uniform():
    r = groups.haar_rotations(2, 3000, key=jax.random.key(5))
    theta = np.arctan2(r[:, 1, 0], r[:, 0, 0])
    assert stats.kstest((theta + np.pi) / (2 * np.pi), "uniform").pvalue > 1e-3


@pytest.mark.slow
def test_translations_and_anisotropy():
    a = groups.gaussian_translations(2, 20000, 0.3, key=jax.random.key(1))
    assert a.shape == (20000, 2)
    assert abs(a.std() - 0.3) < 0.01 and abs(a.mean()) < 0.01
    np.testing.assert_array_equal(groups.anisotropy(3, 0.1), [1.1, 1.0, 1.0])
    with pytest.raises(ValueError, match="SO\\(d\\) needs d >= 2"):
        groups.haar_rotations(1, 3, key=jax.random.key(0))
    with pytest.raises(ValueError, match="scale"):
        groups.gaussian_translations(2, 3, 0.0, key=jax.random.key(0))


def test_numpy_rng_is_a_function_of_the_key():
    a = groups.numpy_rng(jax.random.key(7)).normal(size=5)
    b = groups.numpy_rng(jax.random.key(7)).normal(size=5)
    c = groups.numpy_rng(jax.random.fold_in(jax.random.key(7), 1)).normal(size=5)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
