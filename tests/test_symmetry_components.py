"""Mixed-component correlators against numpy loops, and the action of output rotations."""

import itertools

import numpy as np
import pytest

from nnqft import correlators
from nnqft.symmetry import components


def loop_moments(f, n):
    """E over networks of f_i1(x_a1)...f_in(x_an) for each super-index multiset, by explicit loops."""
    b, d, p = f.shape
    out = []
    for t in itertools.combinations_with_replacement(range(d * p), n):
        prod = np.ones(b)
        for s in t:
            prod = prod * f[:, s // p, s % p]
        out.append(prod.mean())
    return np.array(out)


@pytest.mark.parametrize("n", [2, 4, 6])
def test_mixed_moments_match_a_numpy_loop(n):
    rng = np.random.default_rng(0)
    f = rng.normal(size=(7, 2, 3))
    t = components.super_multisets(2, 3, n)
    np.testing.assert_allclose(components.mixed_moments(f, t).mean(axis=0), loop_moments(f, n), rtol=1e-12)
    comp, inp = components.split_super(t, 3)
    assert comp.max() == 1 and inp.max() == 2


@pytest.mark.parametrize("n", [2, 4])
def test_rotation_of_moments_equals_moments_of_rotated_outputs(n):
    """R.G computed from G equals G of the rotated outputs R f (linearity, an independent route)."""
    rng = np.random.default_rng(1)
    d, p = 3, 2
    f = rng.normal(size=(11, d, p))
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    t = components.super_multisets(d, p, n)
    g = components.mixed_moments(f, t).mean(axis=0)
    rotated = np.einsum("ij,bjp->bip", q, f)
    np.testing.assert_allclose(components.rotate_outputs(g, q, d, p, n),
                               components.mixed_moments(rotated, t).mean(axis=0), rtol=1e-10, atol=1e-12)
    # block axes broadcast
    stacked = np.stack([g, 2 * g])
    np.testing.assert_allclose(components.rotate_outputs(stacked, q, d, p, n)[1],
                               2 * components.rotate_outputs(g, q, d, p, n), rtol=1e-12)


def test_invariant_tensors_are_fixed_by_every_rotation():
    """G2_ij(a,b) = delta_ij K_ab and G4 = sum of the three delta-delta pairings are SO(d) invariant."""
    rng = np.random.default_rng(2)
    d, p = 3, 2
    k = np.cov(rng.normal(size=(p, 10)))
    t2 = components.super_multisets(d, p, 2)
    c, a = components.split_super(t2, p)
    g2 = (c[:, 0] == c[:, 1]) * k[a[:, 0], a[:, 1]]
    t4 = components.super_multisets(d, p, 4)
    c, a = components.split_super(t4, p)
    g4 = sum((c[:, i] == c[:, j]) * (c[:, m] == c[:, l]) * k[a[:, i], a[:, j]] * k[a[:, m], a[:, l]]
             for (i, j), (m, l) in [((0, 1), (2, 3)), ((0, 2), (1, 3)), ((0, 3), (1, 2))])
    for _ in range(3):
        q, _ = np.linalg.qr(rng.normal(size=(d, d)))
        np.testing.assert_allclose(components.rotate_outputs(g2, q, d, p, 2), g2, atol=1e-12)
        np.testing.assert_allclose(components.rotate_outputs(g4, q, d, p, 4), g4, atol=1e-12)


def test_diagonal_groups_and_full_tensor():
    groups = components.diagonal_groups(2, 3, 2)
    t = components.super_multisets(2, 3, 2)
    assert groups.shape == (2, 6)
    comp, _ = components.split_super(t[groups[1]], 3)
    assert np.all(comp == 1)
    values = np.arange(len(t), dtype=float)
    full = components.full_tensor(values, 2, 3, 2)
    assert full.shape == (2, 3, 2, 3)
    np.testing.assert_array_equal(full, full.transpose(2, 3, 0, 1))
    assert full[1, 2, 0, 1] == values[correlators.multiset_position(6, [[1, 5]])[0]]
    with pytest.raises(ValueError, match="rotation has shape"):
        components.rotate_outputs(values, np.eye(3), 2, 3, 2)
