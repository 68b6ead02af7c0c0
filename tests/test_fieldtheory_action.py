"""Quartic vertex from connected correlators: an exactly local first-order 4-pt gives a delta
vertex; the contraction against a numpy einsum; conditioning against the lattice spacing."""

import numpy as np
import pytest

from nnqft import correlators
from nnqft.fieldtheory import action, cosnet, phi4


def test_full_tensor_is_symmetric_and_multiplicities_count_ordered_tuples():
    p = 3
    vals = np.arange(len(correlators.multisets(p, 4)), dtype=float)
    t = action.full_tensor(vals, p)
    assert t.shape == (3, 3, 3, 3)
    assert t[0, 1, 2, 2] == t[2, 0, 2, 1] == t[2, 2, 1, 0]
    assert action.multiplicities(p).sum() == p**4


def test_vertex_matches_numpy_einsum():
    rng = np.random.default_rng(1)
    p = 3
    g4 = rng.normal(size=len(correlators.multisets(p, 4)))
    ginv = rng.normal(size=(p, p))
    ginv = ginv + ginv.T
    full = action.full_tensor(g4, p)
    ref = -np.einsum("abcd,ai,bj,ck,dl->ijkl", full, ginv, ginv, ginv, ginv)
    m = correlators.multisets(p, 4)
    np.testing.assert_allclose(action.vertex(g4, ginv), ref[m[:, 0], m[:, 1], m[:, 2], m[:, 3]], atol=1e-10)
    # leading axes broadcast
    assert action.vertex(np.stack([g4, 2 * g4]), ginv).shape == (2, len(m))


@pytest.mark.parametrize("d,n_sites", [(1, 6), (2, 3)])
def test_first_order_lattice_phi4_gives_a_delta_vertex(d, n_sites):
    m, lam_cut, lam = 1.0, 3.0, 0.7
    h = np.pi / lam_cut
    quad = phi4.lattice_box(d, h, n_sites)
    sites = action.lattice_sites(d, h, n_sites)
    np.testing.assert_allclose(sites, quad.nodes)
    t4 = correlators.multisets(len(sites), 4)
    g4c = phi4.first_order_4pt(sites[t4], lam, quad, m, lam_cut)
    gamma = action.vertex(g4c, np.linalg.inv(action.propagator_matrix(sites, m, lam_cut)))
    diag = np.all(t4 == t4[:, :1], axis=1)
    np.testing.assert_allclose(gamma[diag], lam * h**d, rtol=1e-8)
    np.testing.assert_allclose(gamma[~diag], 0.0, atol=1e-8 * lam * h**d)
    assert action.diagonal_fraction(gamma, len(sites)) == pytest.approx(1.0)


def test_cosnet_vertex_is_not_local():
    net = cosnet.CosNet(1, 1.0, 3.0, 10, "alpha0")
    h = np.pi / 3.0
    sites = action.lattice_sites(1, h, 6)
    t4 = correlators.multisets(6, 4)
    gamma = action.vertex(cosnet.connected_4pt(sites[t4], net),
                          np.linalg.inv(action.propagator_matrix(sites, 1.0, 3.0)))
    assert action.diagonal_fraction(gamma, 6) < 0.2
    assert np.abs(gamma[action.diameters(sites, h) >= 3]).max() > 0.1 * np.abs(gamma).max()


def test_conditioning_is_good_at_nyquist_and_bad_below():
    m, lam = 1.0, 3.0
    for d, n in ((1, 8), (2, 4)):
        at = action.condition_number(action.lattice_sites(d, np.pi / lam, n), m, lam)
        fine = action.condition_number(action.lattice_sites(d, 0.25 * np.pi / lam, n), m, lam)
        assert at < 10 * (1 + lam**2 / m**2)
        assert fine > 1e3 * at


def test_diameters_in_lattice_units():
    sites = action.lattice_sites(2, 0.5, 2)
    dia = action.diameters(sites, 0.5)
    m = correlators.multisets(4, 4)
    assert dia[0] == 0.0  # (0, 0, 0, 0)
    assert dia[np.flatnonzero((m == [0, 0, 0, 3]).all(1))[0]] == pytest.approx(np.sqrt(2))
