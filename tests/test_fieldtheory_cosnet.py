"""Cos-net free scalar: exact propagator against quad and closed forms, samplers against their
laws, the exact finite-N 4-pt against parameter-space Monte Carlo in numpy, and the ensemble."""

import jax
import numpy as np
import pytest
from scipy import integrate, special, stats

from nnqft import correlators, estimators
from nnqft import blocks
from nnqft.fieldtheory import cosnet

M = 1.0


def quad_propagator(r, d, m, cutoff):
    """Independent reference: scipy's adaptive quadrature of the radial integral."""
    if d == 1:
        if r == 0:
            return integrate.quad(lambda p: 1 / (p**2 + m**2), 0, cutoff)[0] / np.pi
        return integrate.quad(lambda p: 1 / (p**2 + m**2), 0, cutoff, weight="cos", wvar=r, limit=500)[0] / np.pi
    if d == 2:
        f = lambda p: p * special.j0(p * r) / (p**2 + m**2)  # noqa: E731
        return integrate.quad(f, 0, cutoff, limit=2000, epsabs=1e-13, epsrel=1e-12)[0] / (2 * np.pi)
    if r == 0:
        return integrate.quad(lambda p: p**2 / (p**2 + m**2), 0, cutoff)[0] / (2 * np.pi**2)
    f = lambda p: p / (p**2 + m**2)  # noqa: E731
    return integrate.quad(f, 0, cutoff, weight="sin", wvar=r, limit=500)[0] / (2 * np.pi**2 * r)


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("cutoff", [2.0, 10.0, 40.0])
def test_propagator_matches_scipy_quad(d, cutoff):
    r = np.array([0.0, 0.3, 1.0, 2.5, 7.0])
    ours = cosnet.propagator(r, d, M, cutoff)
    ref = np.array([quad_propagator(ri, d, M, cutoff) for ri in r])
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-9)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_propagator_at_zero_is_the_closed_form_norm(d):
    for cutoff in (0.5, 3.0, 100.0):
        g0 = cosnet.propagator(np.zeros(1), d, 0.7, cutoff)[0]
        assert g0 == pytest.approx(cosnet.propagator_norm(d, 0.7, cutoff) / (2 * np.pi) ** d, abs=1e-11)


def test_propagator_infinite_cutoff_limits():
    cutoff = 2000.0
    r = np.array([0.5, 1.0, 2.0, 4.0])
    # d = 1: exp(-m r)/(2m); the cut tail (1/pi) int_Lambda^inf cos(pr)/(p^2+m^2) is below 2/(pi Lambda^2 r).
    np.testing.assert_allclose(cosnet.propagator(r, 1, M, cutoff), np.exp(-M * r) / (2 * M),
                               atol=2 / (np.pi * cutoff**2 * r.min()))
    # d = 3: exp(-m r)/(4 pi r); the tail is below 1/(pi^2 Lambda r^2).
    np.testing.assert_allclose(cosnet.propagator(r, 3, M, cutoff), np.exp(-M * r) / (4 * np.pi * r),
                               atol=1 / (np.pi**2 * cutoff * r.min() ** 2))
    # d = 2: K0(m r)/(2 pi); the tail oscillates with amplitude ~ (Lambda r)^(-3/2).
    np.testing.assert_allclose(cosnet.propagator(r, 2, M, cutoff), special.k0(M * r) / (2 * np.pi),
                               atol=(cutoff * r.min()) ** -1.5)


def test_ball_fourier_of_a_constant_is_the_sinc_transform():
    # int_{|p|<L} e^{ip.r} d^3p = 4 pi (sin(L r) - L r cos(L r)) / r^3
    r = np.array([0.2, 1.0, 3.0])
    lam = 4.0
    exact = 4 * np.pi * (np.sin(lam * r) - lam * r * np.cos(lam * r)) / r**3
    np.testing.assert_allclose(cosnet.ball_fourier(np.ones_like, r, 3, lam), exact, rtol=1e-11)


def test_cosnet_rejects_bad_parameters():
    with pytest.raises(ValueError, match="parametrisation"):
        cosnet.CosNet(1, 1.0, 5.0, 10, "beta")
    with pytest.raises(ValueError, match="dimension"):
        cosnet.CosNet(4, 1.0, 5.0, 10)
    with pytest.raises(ValueError, match="mass"):
        cosnet.CosNet(1, -1.0, 5.0, 10)


@pytest.mark.slow
@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("parametrisation", cosnet.PARAMETRISATIONS)
def test_momenta_follow_their_radial_law(d, parametrisation):
    m, lam = 0.7, 6.0
    net = cosnet.CosNet(d, m, lam, 1, parametrisation)
    b = np.asarray(cosnet.sample_momenta(net, (40000,), key=jax.random.key(3)))
    r = np.linalg.norm(b, axis=-1)
    assert r.max() <= lam
    if parametrisation == "uniform":
        cdf = lambda x: (x / lam) ** d  # noqa: E731
    else:
        dens = lambda x: x ** (d - 1) / (x**2 + m**2)  # noqa: E731
        norm = integrate.quad(dens, 0, lam)[0]
        cdf = np.vectorize(lambda x: integrate.quad(dens, 0, x)[0] / norm)
    assert stats.kstest(r[:4000], cdf).pvalue > 1e-3
    # isotropy: the mean direction vanishes
    unit = b / r[:, None]
    assert np.all(np.abs(unit.mean(axis=0)) < 5 / np.sqrt(len(b)))


@pytest.mark.slow
def test_alpha0_inverse_cdf_is_accurate_at_the_edges():
    u = np.array([0.0, 1e-14, 1e-8, 0.3, 0.999999, 1.0])
    for d in (1, 2, 3):
        r = np.asarray(cosnet._alpha0_radius(jax.numpy.asarray(u), d, 1.3, 9.0))
        dens = lambda x: x ** (d - 1) / (x**2 + 1.3**2)  # noqa: E731
        norm = integrate.quad(dens, 0, 9.0)[0]
        got = np.array([integrate.quad(dens, 0, ri)[0] / norm for ri in r])
        np.testing.assert_allclose(got, u, atol=1e-10)


@pytest.mark.slow
@pytest.mark.parametrize("d", [1, 2, 3])
def test_field_forms_agree(d):
    net = cosnet.CosNet(d, M, 5.0, 7, "uniform")
    params = cosnet.sample(net, 3, key=jax.random.key(0))
    axes = [np.linspace(-1, 1, 4 + k) for k in range(d)]
    grid = np.asarray(cosnet.field_on_grid(net, params, axes))
    nodes = np.stack([g.ravel() for g in np.meshgrid(*axes, indexing="ij")], axis=-1)
    direct = np.asarray(cosnet.field(net, params, nodes))
    np.testing.assert_allclose(grid.reshape(3, -1), direct, atol=1e-12)
    # numpy re-implementation of phi = sum_i a_i s(b_i) cos(b_i.x + c_i)
    a, b, c = (np.asarray(t) for t in params)
    s = np.sqrt(2 * cosnet.ball_volume(d, 5.0) / (2 * np.pi) ** d / ((b**2).sum(-1) + M**2))
    ref = np.einsum("ni,nip->np", a * s, np.cos(np.einsum("nid,pd->nip", b, nodes) + c[..., None]))
    np.testing.assert_allclose(direct, ref, atol=1e-12)
    kh = np.asarray(cosnet.conditional_kernel(net, params, nodes[:3]))
    h = np.asarray(cosnet.features(net, params, nodes[:3]))
    np.testing.assert_allclose(kh, np.einsum("nip,niq->npq", h, h) / 7, atol=1e-13)


def test_phase_average_of_four_cosines():
    theta = np.array([0.3, -1.1, 2.0, 0.7])
    c = np.linspace(-np.pi, np.pi, 4097)[:-1]
    direct = np.prod(np.cos(theta[:, None] + c), axis=0).mean()
    t1, t2, t3, t4 = theta
    formula = (np.cos(t1 + t2 - t3 - t4) + np.cos(t1 - t2 + t3 - t4) + np.cos(t1 - t2 - t3 + t4)) / 8
    assert direct == pytest.approx(formula, abs=1e-14)


def numpy_neurons(d, m, cutoff, parametrisation, n, rng):
    """Independent sampler: rejection from the cube, for both laws; returns (s(b), b, c)."""
    out = []
    while sum(len(o) for o in out) < n:
        b = rng.uniform(-cutoff, cutoff, (4 * n, d))
        b2 = (b**2).sum(-1)
        keep = b2 < cutoff**2
        if parametrisation == "alpha0":
            keep &= rng.uniform(size=len(b)) < m**2 / (b2 + m**2)
        out.append(b[keep])
    b = np.concatenate(out)[:n]
    b2 = (b**2).sum(-1)
    if parametrisation == "uniform":
        s2 = 2 * cosnet.ball_volume(d, cutoff) / (2 * np.pi) ** d / (b2 + m**2)
    else:
        s2 = np.full(n, 2 * cosnet.propagator_norm(d, m, cutoff) / (2 * np.pi) ** d)
    return np.sqrt(s2), b, rng.uniform(-np.pi, np.pi, n)


@pytest.mark.slow
@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("parametrisation", cosnet.PARAMETRISATIONS)
def test_exact_single_neuron_4pt_against_parameter_space_monte_carlo(d, parametrisation):
    rng = np.random.default_rng(11 + d)
    m, lam = 1.0, 4.0
    x = rng.uniform(-1, 1, (3, 4, d))
    s, b, c = numpy_neurons(d, m, lam, parametrisation, 400_000, rng)
    h = s[:, None, None] * np.cos(np.einsum("nd,tkd->ntk", b, x) + c[:, None, None])  # (n, T, 4)
    sample = 3 * h.prod(axis=-1)  # 3 sa^4 h1 h2 h3 h4 with sa = 1
    mc, se = sample.mean(axis=0), sample.std(axis=0) / np.sqrt(len(sample))
    exact = cosnet.single_neuron_4pt(x, d, m, lam, parametrisation)
    assert np.all(np.abs(mc - exact) < 4.5 * se), (mc, exact, se)
    # and the 2-pt: sa^2 E[h h] = G
    g_mc = (h[:, :, 0] * h[:, :, 1]).mean(axis=0)
    g_se = (h[:, :, 0] * h[:, :, 1]).std(axis=0) / np.sqrt(len(h))
    g = cosnet.propagator_points(x[:, 0], x[:, 1], d, m, lam)
    assert np.all(np.abs(g_mc - g) < 4.5 * g_se)


@pytest.mark.slow
@pytest.mark.parametrize("parametrisation", cosnet.PARAMETRISATIONS)
def test_kernel_variance_against_monte_carlo(parametrisation):
    rng = np.random.default_rng(5)
    d, m, lam = 2, 1.0, 6.0
    net = cosnet.CosNet(d, m, lam, 1, parametrisation)
    r = np.array([0.0, 0.7, 2.0])
    s, b, c = numpy_neurons(d, m, lam, parametrisation, 400_000, rng)
    kappa = s[:, None] ** 2 * np.cos(c[:, None]) * np.cos(b[:, :1] * r[None, :] + c[:, None])
    mc = kappa.var(axis=0)
    se = (kappa**2).std(axis=0) / np.sqrt(len(kappa))  # heavy tails: the error of the second moment
    np.testing.assert_array_less(np.abs(mc - cosnet.kernel_variance(r, net)), 4.5 * se)


def test_alpha0_kernel_variance_is_smaller():
    r = np.array([1.5, 4.0, 10.0])
    u = cosnet.kernel_variance(r, cosnet.CosNet(3, 1.0, 10.0, 1, "uniform"))
    a = cosnet.kernel_variance(r, cosnet.CosNet(3, 1.0, 10.0, 1, "alpha0"))
    assert np.all(a < u)


@pytest.mark.parametrize("parametrisation", cosnet.PARAMETRISATIONS)
def test_connected_4pt_tends_to_a_nonzero_plateau(parametrisation):
    net = cosnet.CosNet(1, 1.0, 5.0, 10, parametrisation)
    base = np.array([[0.0], [0.5], [0.0], [0.5]])
    far = base + np.array([0, 0, 300.0, 300.0])[:, None]
    plateau = cosnet.connected_4pt_plateau(base[None], net)[0]
    assert plateau > 0.01  # O(1/N), N = 10
    assert cosnet.connected_4pt(far[None], net)[0] == pytest.approx(plateau, rel=1e-3)
    # exactly 1/N scaling
    net100 = cosnet.CosNet(1, 1.0, 5.0, 100, parametrisation)
    assert cosnet.connected_4pt(base[None], net100)[0] == pytest.approx(cosnet.connected_4pt(base[None], net)[0] / 10)


@pytest.mark.slow
def test_block_means_do_not_depend_on_batch_size():
    net = cosnet.CosNet(1, 1.0, 5.0, 6, "alpha0")
    stats = cosnet.moment_statistics(net, np.array([[0.0], [0.4]]), {"g2": correlators.multisets(2, 2)})
    keys = [jax.random.key(k) for k in range(3)]
    a = blocks.block_means(stats, keys, 21, 21)
    b = blocks.block_means(stats, keys, 21, 7)
    c = blocks.block_means(stats, keys, 21, 21)
    assert np.array_equal(a["rb"]["g2"], c["rb"]["g2"])
    assert a["rb"]["g2"].shape == (3, 3)
    # different batching draws different networks (keys fold in the batch index) but the same law
    assert not np.array_equal(a["plain"]["g2"], b["plain"]["g2"])


def test_blocks_run_rejects_uneven_blocks():
    with pytest.raises(ValueError, match="multiple of n_blocks"):
        blocks.run(lambda key, batch: {}, seed=0, name="x", width=1, n_networks=101, n_blocks=10, batch=10)


@pytest.mark.slow
@pytest.mark.parametrize("parametrisation", cosnet.PARAMETRISATIONS)
def test_ensemble_propagator_and_connected_4pt_match_exact(parametrisation):
    d = 2
    net = cosnet.CosNet(d, 1.0, 6.0, 20, parametrisation)
    x = np.array([[0.0, 0.0], [0.4, 0.1], [1.2, -0.5]])
    t2, t4 = correlators.multisets(3, 2), correlators.multisets(3, 4)
    bm = blocks.run(cosnet.moment_statistics(net, x, {"g2": t2, "g4": t4}), seed=2, name="test/cosnet",
                    width=net.width, n_networks=6000, n_blocks=30, batch=1000)
    g2, se2 = estimators.mean_and_stderr(bm["rb"]["g2"])
    exact2 = cosnet.propagator_points(x[t2[:, 0]], x[t2[:, 1]], d, 1.0, 6.0)
    assert np.all(np.abs(g2 - exact2) < 4.5 * se2)
    c4, se4 = estimators.jackknife(lambda a, b: correlators.cumulants_from_moments({2: a, 4: b}, 3, 4),
                                   bm["rb"]["g2"], bm["rb"]["g4"])
    exact4 = cosnet.connected_4pt(x[t4], net)
    assert np.all(np.abs(c4 - exact4) < 4.5 * se4)
    assert np.median(np.abs(exact4) / se4) > 5  # the Rao-Blackwell 4-pt resolves the 1/N signal


@pytest.mark.slow
def test_gaussian_field_sampler_has_the_exact_covariance():
    x = np.array([[0.0], [0.3], [0.3], [2.0]])  # a duplicated point: singular covariance
    stats = cosnet.gp_statistics(x, 1, 1.0, 5.0, {"g2": correlators.multisets(4, 2)})
    bm = blocks.block_means(stats, [jax.random.key(k) for k in range(20)], 1000, 1000)
    g2, se = estimators.mean_and_stderr(bm["g2"])
    t = correlators.multisets(4, 2)
    exact = cosnet.propagator_points(x[t[:, 0]], x[t[:, 1]], 1, 1.0, 5.0)
    assert np.all(np.abs(g2 - exact) < 4.5 * se)
