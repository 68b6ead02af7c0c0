"""Cluster decomposition: geometry, connected 4-pt from moments, plateau window."""

import numpy as np
import pytest

from nnqft import correlators
from nnqft.fieldtheory import cosnet, locality


def test_cluster_points_shift_the_pairs_apart():
    base = np.array([[0.0, 0.0], [0.5, 0.0], [0.0, 1.0], [0.5, 1.0]])
    sep = np.array([0.0, 1.0, 3.0])
    pts = locality.cluster_points(base, sep, direction=[1.0, 1.0])
    assert pts.shape == (3, 4, 2)
    e = np.array([1.0, 1.0]) / np.sqrt(2)
    for k, L in enumerate(sep):
        np.testing.assert_allclose(pts[k, 1] - pts[k, 0], base[1] - base[0])
        np.testing.assert_allclose(pts[k, 3] - pts[k, 2], base[3] - base[2])
        np.testing.assert_allclose(pts[k, 2] - pts[k, 0], base[2] - base[0] + L * e)
    with pytest.raises(ValueError, match="4 base points"):
        locality.cluster_points(base[:3], sep)


def test_connected_4pt_vanishes_for_gaussian_moments_and_matches_cumulants():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4, 4))
    cov = a @ a.T
    t = locality.group_tuples(1)
    m4 = correlators.gaussian_moments(cov, t["m4"])
    m2 = cov[t["m2"][..., 0], t["m2"][..., 1]]
    assert locality.connected_4pt(m4, m2)[0] == pytest.approx(0.0, abs=1e-12)
    # a non-Gaussian sample: compare with the partition formula over multisets of 4 points
    phi = rng.standard_t(6, size=(5000, 4))
    mom = {n: phi[:, correlators.multisets(4, n)].prod(-1).mean(0) for n in (2, 4)}
    kappa = correlators.cumulants_from_moments(mom, 4, 4)
    pos = correlators.multiset_position(4, [(0, 1, 2, 3)])[0]
    m4s = phi[:, t["m4"]].prod(-1).mean(0)
    m2s = phi[:, t["m2"]].prod(-1).mean(0)
    assert locality.connected_4pt(m4s, m2s)[0] == pytest.approx(kappa[pos], rel=1e-10)


def test_window_mean():
    sep = np.array([0.0, 1.0, 4.0, 6.0])
    assert locality.window_mean(np.array([9.0, 9.0, 1.0, 3.0]), sep, 4.0) == 2.0
    with pytest.raises(ValueError, match="plateau start"):
        locality.window_mean(np.ones(4), sep, 7.0)


def test_exact_cosnet_curve_does_not_cluster_but_its_l_dependent_part_decays():
    net = cosnet.CosNet(1, 1.0, 5.0, 100, "uniform")
    base = np.array([[0.0], [0.5], [0.0], [0.5]])
    sep = np.array([0.0, 2.0, 10.0, 40.0])
    curve = cosnet.connected_4pt(locality.cluster_points(base, sep), net)
    limit = cosnet.connected_4pt_plateau(base[None], net)[0]
    assert limit > 0
    dev = np.abs(curve - limit)
    assert dev[-1] < 1e-3 * limit and dev[-1] < dev[1]
