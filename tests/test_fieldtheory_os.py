"""Osterwalder-Schrader checks: group elements, reflection matrix, and the measured checks."""

import jax
import numpy as np
import pytest

from nnqft.blocks import Sampling
from nnqft.fieldtheory import cosnet, experiments, os_checks


@pytest.mark.slow
def test_euclidean_transforms_are_orthogonal():
    rot, shift = os_checks.euclidean_transforms(3, 5, key=jax.random.key(0), translation_scale=2.0)
    assert rot.shape == (5, 3, 3) and shift.shape == (5, 3)
    np.testing.assert_allclose(np.einsum("kij,kil->kjl", rot, rot), np.broadcast_to(np.eye(3), (5, 3, 3)), atol=1e-12)
    x = np.random.default_rng(0).normal(size=(4, 3))
    stacked = os_checks.transformed_sets(x, rot, shift)
    assert stacked.shape == (24, 3)
    # distances, hence the exact propagator, are invariant
    d0 = np.linalg.norm(x[:, None] - x[None], axis=-1)
    d3 = np.linalg.norm(stacked[12:16, None] - stacked[None, 12:16], axis=-1)
    np.testing.assert_allclose(d0, d3, atol=1e-12)
    t = os_checks.set_tuples(4, 6, 2)
    assert t.shape == (6, 10, 2) and t[2].min() == 8


def test_reflection_points_and_rayleigh_quotient():
    x = np.array([[0.5, 0.1], [1.0, -0.3], [1.5, 0.0]])
    pts, pairs = os_checks.reflection_points(x)
    np.testing.assert_allclose(pts[:3, 0], -x[:, 0])
    assert pairs.shape == (3, 3, 2)
    m = cosnet.propagator_points(pts[pairs[..., 0]], pts[pairs[..., 1]], 2, 1.0, 2.0)
    np.testing.assert_allclose(m, m.T, atol=1e-14)
    ev, vec = np.linalg.eigh(m)
    assert os_checks.rayleigh_quotient(m, vec[:, 0]) == pytest.approx(ev[0])
    assert os_checks.smallest_eigenvalue(m) == pytest.approx(ev[0])
    with pytest.raises(ValueError, match="x\\^0 > 0"):
        os_checks.reflection_points(-x)


def test_sharp_cutoff_violates_reflection_positivity_less_as_cutoff_grows():
    t = np.arange(1, 9)[:, None] * 0.25
    pts, pairs = os_checks.reflection_points(t)
    ratios = []
    for lam in (2.0, 5.0, 20.0, 200.0):
        m = cosnet.propagator_points(pts[pairs[..., 0]], pts[pairs[..., 1]], 1, 1.0, lam)
        ev = np.linalg.eigvalsh(m)
        ratios.append(ev[0] / ev[-1])
    assert all(r < 0 for r in ratios)
    assert np.all(np.diff(np.abs(ratios)) < 0)


@pytest.mark.slow
def test_measured_invariance_and_reflection():
    sampling = Sampling(seed=3, n_networks=6000, n_blocks=30)
    net = cosnet.CosNet(2, 1.0, 5.0, 20, "alpha0")
    pts = np.random.default_rng(2).uniform(-1, 1, (3, 2))
    table = experiments.euclidean_invariance(net, pts, 3, sampling, translation_scale=2.0)
    assert len(table) == 3 * (6 + 15)
    assert table["z"].abs().max() < 4.5 and (table["z"] ** 2).mean() < 2.0
    refl = experiments.reflection_positivity(cosnet.CosNet(1, 1.0, 2.0, 20, "alpha0"),
                                             np.arange(1, 9)[:, None] * 0.25, sampling)
    row = refl.iloc[0]
    assert abs(row["z"]) < 4 and row["exact"] < 0
    assert row["measured"] + 3 * row["stderr"] < 0  # the violation is resolved at Lambda = 2
