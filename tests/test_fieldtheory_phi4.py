"""phi^4 by reweighting: quadrature rules, the action integral, weights and ESS, first-order
predictions against scipy quadrature, and the reweighted ensemble against first order."""

import jax
import numpy as np
import pytest
from scipy import integrate

from nnqft import correlators, estimators
from nnqft import blocks
from nnqft.fieldtheory import cosnet, phi4


@pytest.mark.parametrize("d", [1, 2, 3])
def test_gauss_box_integrates_polynomials_and_waves(d):
    quad = phi4.gauss_box(d, 1.5, 12)
    x = quad.nodes
    assert x.shape == (12**d, d) and quad.flat_weights.sum() == pytest.approx(3.0**d)
    # int x_0^4 over [-a, a]^d = (2 a^5 / 5) (2a)^(d-1)
    assert quad.flat_weights @ x[:, 0] ** 4 == pytest.approx(2 * 1.5**5 / 5 * 3.0 ** (d - 1))
    # a band-limited integrand: int cos(k x_0) = 2 sin(k a)/k (2a)^(d-1)
    k = 4.0
    assert quad.flat_weights @ np.cos(k * x[:, 0]) == pytest.approx(2 * np.sin(k * 1.5) / k * 3.0 ** (d - 1), abs=1e-10)


def test_lattice_box_is_the_cell_sum():
    quad = phi4.lattice_box(2, 0.5, 4)
    np.testing.assert_allclose(quad.axes[0], [-0.75, -0.25, 0.25, 0.75])
    assert quad.flat_weights.sum() == pytest.approx(4.0)  # (n h)^2
    with pytest.raises(ValueError, match="spacing"):
        phi4.lattice_box(1, 0.0, 4)


@pytest.mark.slow
@pytest.mark.parametrize("d", [1, 2])
def test_phi4_integral_against_a_numpy_reference(d):
    net = cosnet.CosNet(d, 1.0, 3.0, 5, "alpha0")
    params = cosnet.sample(net, 2, key=jax.random.key(1))
    a, b, c = (np.asarray(t) for t in params)
    s2 = 2 * cosnet.propagator_norm(d, 1.0, 3.0) / (2 * np.pi) ** d

    def phi(*y):
        y = np.stack(y, axis=-1)
        return np.einsum("i,...i->...", a[0] * np.sqrt(s2), np.cos(y @ b[0].T + c[0]))

    ref = integrate.nquad(lambda *y: phi(*y) ** 4, [[-0.8, 0.8]] * d, opts={"epsabs": 1e-11, "epsrel": 1e-11})[0]
    s = np.asarray(phi4.phi4_integral(net, params, phi4.gauss_box(d, 0.8, 20)))
    assert s[0] == pytest.approx(ref, rel=1e-9)
    fine = phi4.gauss_box(d, 0.8, 40)
    assert phi4.quadrature_error(net, phi4.gauss_box(d, 0.8, 20), fine, 8, key=jax.random.key(2)) < 1e-10


def test_weights_and_kish_ess():
    s = jax.numpy.array([0.0, 1.0, 2.0])
    w = np.asarray(phi4.deformation_weights(s, [0.0, 24.0]))
    np.testing.assert_allclose(w, [[1, 1], [1, np.exp(-1)], [1, np.exp(-2)]])
    assert phi4.kish_ess(1.0, 1.0, 100) == pytest.approx(100)
    # one network carries all the weight: ESS = 1
    assert phi4.kish_ess(1.0 / 100, 1.0 / 100, 100) == pytest.approx(1.0)


@pytest.mark.slow
def test_first_order_predictions_against_scipy_quad():
    m, lam, a = 1.0, 5.0, 1.2
    quad = phi4.gauss_box(1, a, 40)
    x = np.array([[-0.3], [0.0], [0.4], [0.4]])

    def g(u):
        return cosnet.propagator(np.abs(u), 1, m, lam)

    ref4 = integrate.quad(lambda y: np.prod([g(xi[0] - y) for xi in x]), -a, a, epsabs=1e-13)[0]
    assert phi4.first_order_4pt(x[None], 0.5, quad, m, lam)[0] == pytest.approx(-0.5 * ref4, rel=1e-9)
    ref2 = integrate.quad(lambda y: g(x[0, 0] - y) * g(x[2, 0] - y), -a, a, epsabs=1e-13)[0]
    g0 = cosnet.propagator(0.0, 1, m, lam)
    got = phi4.first_order_2pt_shift(x[None, [0, 2]], 0.5, quad, m, lam)[0]
    assert got == pytest.approx(-0.25 * g0 * ref2, rel=1e-9)


def test_deformed_shifts_vanish_without_deformation_and_match_numpy():
    rng = np.random.default_rng(0)
    p = 2
    t2, t4 = correlators.multisets(p, 2), correlators.multisets(p, 4)
    phi = rng.standard_t(5, size=(20000, p))  # non-Gaussian
    w = np.exp(-0.1 * (phi**4).sum(axis=1))
    ws = np.stack([np.ones_like(w), w], axis=1)
    m2 = np.einsum("nl,nt->lt", ws, phi[:, t2].prod(-1)) / len(phi)
    m4 = np.einsum("nl,nt->lt", ws, phi[:, t4].prod(-1)) / len(phi)
    d2, d4 = phi4.deformed_shifts(ws.mean(0), m2, m4, p)
    assert np.all(d2[0] == 0) and np.all(d4[0] == 0)
    # numpy: weighted moments and the connected 4-pt at (0, 0, 1, 1)
    wn = w / w.sum()
    e = lambda f: np.sum(wn * f)  # noqa: E731
    e0 = lambda f: np.mean(f)  # noqa: E731
    c = lambda ex: ex(phi[:, 0] ** 2 * phi[:, 1] ** 2) - ex(phi[:, 0] ** 2) * ex(phi[:, 1] ** 2) - 2 * ex(phi[:, 0] * phi[:, 1]) ** 2  # noqa: E731
    pos = correlators.multiset_position(p, [(0, 0, 1, 1)])[0]
    assert d4[1, pos] == pytest.approx(c(e) - c(e0), rel=1e-10)


@pytest.mark.slow
def test_reweighted_cosnet_matches_first_order_at_small_coupling():
    """Statistical: Delta G4_c and Delta G2 at lambda = 0.05 within 4 sigma of first order (d = 1)."""
    net = cosnet.CosNet(1, 1.0, 5.0, 50, "alpha0")
    quad = phi4.gauss_box(1, 1.0, 20)
    x = np.array([[-0.3], [0.0], [0.3]])
    t2, t4 = correlators.multisets(3, 2), correlators.multisets(3, 4)
    stats = phi4.reweighted_statistics(net, quad, x, [0.0, 0.05], {"m2": t2, "m4": t4})
    bm = blocks.run(stats, seed=4, name="test/phi4", width=50, n_networks=60000, n_blocks=40, batch=5000)
    est, se = estimators.jackknife(lambda w, a, b: np.concatenate(phi4.deformed_shifts(w, a, b, 3), axis=-1),
                                   bm["w"], bm["m2"], bm["m4"])
    pred = np.concatenate([phi4.first_order_2pt_shift(x[t2], 0.05, quad, 1.0, 5.0),
                           phi4.first_order_4pt(x[t4], 0.05, quad, 1.0, 5.0)])
    z = (est[1] - pred) / se[1]
    assert np.all(np.abs(z) < 4), z
    assert np.abs(pred[0] / se[1, 0]) > 10  # the 2-pt shift is resolved
    ess = phi4.kish_ess(bm["w"].mean(0), bm["w2"].mean(0), 60000)
    assert ess[0] == pytest.approx(60000) and ess[1] > 0.99 * 60000
