import itertools
import math

import jax
import numpy as np
import pytest
from scipy import integrate
from scipy.special import gamma

from nnqft import correlators, ensemble, estimators, exact, kernels
from nnqft.blocks import Sampling
from nnqft.inputs import paper_inputs
from nnqft.networks import NetworkSpec

WIDTHS = (2, 3, 4, 5, 10, 20, 50, 100, 500, 1000)
# (activation, sb): P1's settings plus ReLU with a bias (a genuinely (d_in+1)-dim integral)
SETTINGS = [("erf", 1.0), ("relu", 0.0), ("relu", 1.0), ("gauss", 1.0)]


def spec_and_inputs(name, sb, d_in, sw=1.0):
    return NetworkSpec(name, d_in, sb=sb, sw=sw), paper_inputs(name, d_in)


def scaled_error(got, want):
    """max |got - want| / max |want| over each order (moments can vanish by symmetry)."""
    return max(np.max(np.abs(got[r] - want[r])) / np.max(np.abs(want[r])) for r in want)


# ---------------------------------------------------------------- ReLU on a ray: m_4 = 5/N


def test_relu_ray_m4_is_five_over_n_exactly():
    spec, x = spec_and_inputs("relu", 0.0, 1)
    t4 = correlators.multisets(len(x), 4)
    gp4 = correlators.gaussian_moments(kernels.gp_kernel(spec, x), t4)
    for method in ("closed", "quadrature"):
        moments = exact.neuron_moments(spec, x, (2, 4), method=method)
        ex = exact.exact_correlators(spec, x, WIDTHS, orders=(4,), moments=moments)
        np.testing.assert_allclose(ex["G4_coef"][0], gp4, rtol=1e-13)
        m4 = (ex["G4"] - gp4) / gp4
        np.testing.assert_allclose(m4, 5 / np.array(WIDTHS, float)[:, None] * np.ones_like(m4), rtol=1e-10)


# ---------------------------------------------------------------- closed forms vs quadrature


@pytest.mark.slow
@pytest.mark.parametrize("d_in", [1, 2, 3])
def test_gauss_net_quadrature_reproduces_closed_form(d_in):
    spec, x = spec_and_inputs("gauss", 1.0, d_in)
    closed = exact.neuron_moments(spec, x, method="closed")
    quad = exact.neuron_moments(spec, x, method="quadrature")
    assert scaled_error(quad, closed) < 1e-12
    for r in closed:
        np.testing.assert_allclose(quad[r], closed[r], rtol=1e-12)


def test_gauss_net_closed_form_matches_quadrature_on_spread_inputs():
    rng = np.random.default_rng(3)
    spec = NetworkSpec("gauss", 2, sw=0.8, sb=0.6)
    x = rng.normal(scale=0.7, size=(4, 2))
    closed = exact.neuron_moments(spec, x, method="closed")
    quad = exact.neuron_moments(spec, x, method="hermite", resolution=56)
    for r in closed:
        np.testing.assert_allclose(quad[r], closed[r], rtol=1e-11)


@pytest.mark.slow
@pytest.mark.parametrize("name, sb", SETTINGS + [("erf", 0.5)])
@pytest.mark.parametrize("d_in", [1, 2, 3])
def test_second_moments_give_the_gp_kernel(name, sb, d_in):
    spec, x = spec_and_inputs(name, sb, d_in, sw=1.3 if sb == 0.5 else 1.0)
    t2 = correlators.multisets(len(x), 2)
    want = kernels.gp_kernel(spec, x)[t2[:, 0], t2[:, 1]]
    for method in ("auto", "quadrature"):
        m2 = exact.neuron_moments(spec, x, (2,), method=method)[2]
        np.testing.assert_allclose(spec.sb**2 + spec.sw**2 * m2, want, rtol=1e-12)


def arccos_j2(theta):
    """Cho & Saul's degree-2 arc-cosine angular function J_2."""
    return 3 * np.sin(theta) * np.cos(theta) + (np.pi - theta) * (1 + 2 * np.cos(theta) ** 2)


@pytest.mark.parametrize("d_in", [1, 2, 3])
def test_relu_aabb_moments_match_the_degree_two_arccos_kernel(d_in):
    # E[relu(z_a)^2 relu(z_b)^2] = |l_a|^2 |l_b|^2 J_2(theta_ab) / (2 pi), in any rank
    spec, x = spec_and_inputs("relu", 1.0, d_in)
    q = kernels.preactivation_covariance(spec, x)
    m4 = exact.neuron_moments(spec, x, (4,))[4]
    for a, b in itertools.combinations(range(len(x)), 2):
        theta = np.arccos(q[a, b] / np.sqrt(q[a, a] * q[b, b]))
        want = q[a, a] * q[b, b] * arccos_j2(theta) / (2 * np.pi)
        pos = correlators.multiset_position(len(x), [[a, a, b, b]])[0]
        assert m4[pos] == pytest.approx(want, rel=1e-12)


def polar_relu_moment(rows, r):
    """E[prod_s relu(rows_s . g)] for g ~ N(0, I_2), by adaptive quadrature over the angle.

    The integrand is homogeneous of degree r: the radial integral is 2^(r/2) Gamma(r/2 + 1).
    """
    kinks = np.sort(np.mod(np.arctan2(rows[:, 1], rows[:, 0]) + np.pi / 2, np.pi))
    cuts = np.unique(np.concatenate([[0.0], kinks, kinks + np.pi, [2 * np.pi]]))

    def f(t):
        return np.prod(np.maximum(rows @ np.array([np.cos(t), np.sin(t)]), 0.0))

    angular = sum(integrate.quad(f, lo, hi, epsabs=0, epsrel=1e-13)[0] for lo, hi in zip(cuts[:-1], cuts[1:]))
    return 2 ** (r / 2) * gamma(r / 2 + 1) * angular / (2 * np.pi)


@pytest.mark.slow
@pytest.mark.parametrize("name, sb, d_in", [("relu", 0.0, 2), ("relu", 1.0, 1)])
def test_relu_cones_match_an_adaptive_polar_integral(name, sb, d_in):
    spec, x = spec_and_inputs(name, sb, d_in, sw=1.2)
    # z_a = theta . (sw x_a / sqrt(d_in), sb) with theta ~ N(0, I): the rank-2 parameter space
    rows = np.column_stack([spec.sw * x / np.sqrt(d_in), np.full(len(x), sb)])
    rows = rows[:, np.any(rows != 0, axis=0)]
    got = exact.neuron_moments(spec, x, (2, 4, 6), method="quadrature")
    for r in (4, 6):
        tuples = correlators.multisets(len(x), r)
        want = np.array([polar_relu_moment(rows[t], r) for t in tuples])
        np.testing.assert_allclose(got[r], want, rtol=1e-11)


@pytest.mark.slow
def test_erf_price_integration_matches_dense_gauss_hermite():
    spec, x = spec_and_inputs("erf", 1.0, 1)
    price = exact.neuron_moments(spec, x)
    # tensor Gauss-Hermite needs ~300 nodes per dimension for erf(sqrt2 g)^6 at 1e-14
    hermite = exact.neuron_moments(spec, x, method="hermite", resolution=300)
    assert scaled_error(price, hermite) < 1e-12


QUADRATURE_CASES = [("erf", 1.0, 1), ("erf", 1.0, 2), ("erf", 1.0, 3), ("relu", 0.0, 2), ("relu", 0.0, 3),
                    ("relu", 1.0, 1), ("relu", 1.0, 2), ("relu", 1.0, 3)]


@pytest.mark.slow
@pytest.mark.parametrize("name, sb, d_in", QUADRATURE_CASES)
def test_quadrature_converges_under_refinement(name, sb, d_in):
    spec, x = spec_and_inputs(name, sb, d_in)
    resolutions = (6, 10, 14, 20) if name == "erf" else (4, 8, 14, 20, 26)
    runs = [exact.neuron_moments(spec, x, method="quadrature", resolution=n) for n in resolutions]
    diffs = np.array([scaled_error(a, b) for a, b in zip(runs[:-1], runs[1:])])
    assert diffs[0] > 1e-8  # the coarsest rule is visibly inexact,
    assert np.all((diffs[1:] < diffs[:-1]) | (diffs[1:] < 1e-13))  # refinement shrinks the changes
    assert diffs[-1] < 1e-10  # far below 1e-8


@pytest.mark.slow
@pytest.mark.parametrize("name, sb, d_in", [c for c in QUADRATURE_CASES if c[:3] != ("erf", 1.0, 1)])
def test_default_resolution_is_converged(name, sb, d_in):
    # erf d_in = 1 is checked against dense Gauss-Hermite above
    spec, x = spec_and_inputs(name, sb, d_in)
    scheme = "price" if name == "erf" else "cone"
    finer = exact.neuron_moments(spec, x, resolution=exact.DEFAULT_RESOLUTION[scheme] + 8)
    assert scaled_error(exact.neuron_moments(spec, x), finer) < 1e-12


# ---------------------------------------------------------------- Monte Carlo cross-checks


@pytest.mark.slow
@pytest.mark.parametrize("name, d_in", [("erf", 1), ("erf", 3), ("relu", 1), ("relu", 2), ("relu", 3)])
def test_quadrature_agrees_with_neuron_monte_carlo(name, d_in):
    spec, x = spec_and_inputs(name, 1.0, d_in)
    want = exact.neuron_moments(spec, x)
    n = 4 * 10**5 if len(x) == 6 else 10**6
    mean, stderr = exact.neuron_moments_mc(spec, x, n_samples=n, key=jax.random.key(11 + d_in))
    for r in want:
        z = (mean[r] - want[r]) / stderr[r]
        assert np.max(np.abs(z)) < 4, (r, np.max(np.abs(z)))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["erf", "relu"])
def test_quadrature_agrees_with_2e7_neurons(name):
    # 2e7 neurons resolve every moment to < 0.7% of its largest value (the error falls as n^-1/2); the
    # earlier 1e8 took over 5 minutes per activation, a third of the CI budget of the whole suite.
    spec, x = spec_and_inputs(name, 1.0, 2)
    want = exact.neuron_moments(spec, x)
    mean, stderr = exact.neuron_moments_mc(spec, x, n_samples=2 * 10**7, key=jax.random.key(5), batch=2**17)
    for r in want:
        z = (mean[r] - want[r]) / stderr[r]
        assert np.max(np.abs(z)) < 4, (r, np.max(np.abs(z)))
        assert np.max(stderr[r] / np.max(np.abs(want[r]))) < 7e-3


@pytest.mark.slow
def test_monte_carlo_merges_batches_exactly():
    spec, x = spec_and_inputs("erf", 1.0, 2)
    key = jax.random.key(0)
    mean, stderr = exact.neuron_moments_mc(spec, x, (4,), n_samples=2500, key=key, batch=1000)
    # the same 2500 neurons (batch j is drawn with fold_in(key, j)), pooled by plain numpy
    sample = exact._neuron_sampler(spec, x, 1000)
    h = np.concatenate([np.asarray(sample(jax.random.fold_in(key, j))) for j in range(3)])[:2500]
    prods = np.prod(h[:, correlators.multisets(len(x), 4)], axis=-1)
    np.testing.assert_allclose(mean[4], prods.mean(0), rtol=1e-12)
    np.testing.assert_allclose(stderr[4], prods.std(0, ddof=1) / np.sqrt(2500), rtol=1e-9)


# ---------------------------------------------------------------- exact correlators


@pytest.mark.slow
@pytest.mark.parametrize("name, sb", SETTINGS)
@pytest.mark.parametrize("d_in", [1, 2, 3])
def test_two_point_is_width_independent_and_cumulants_scale(name, sb, d_in):
    spec, x = spec_and_inputs(name, sb, d_in)
    ex = exact.exact_correlators(spec, x, WIDTHS)
    n = np.array(WIDTHS, float)[:, None]
    kern = kernels.gp_kernel(spec, x)
    t2 = correlators.multisets(len(x), 2)
    kern2 = np.broadcast_to(kern[t2[:, 0], t2[:, 1]], ex["G2"].shape)
    np.testing.assert_allclose(ex["G2"], kern2, rtol=1e-12)
    for order, power in ((4, 1), (6, 2)):
        gp = correlators.gaussian_moments(kern, correlators.multisets(len(x), order))
        coef = ex[f"G{order}_coef"]
        scale = np.max(np.abs(coef), axis=1, keepdims=True)
        np.testing.assert_allclose(coef[0], gp, rtol=1e-12)
        # connected part: exactly N^(1 - n/2) times one width-independent coefficient
        c = ex[f"G{order}_connected"] * n**power
        np.testing.assert_allclose(c, np.broadcast_to(c[0], c.shape), rtol=1e-12, atol=1e-15 * scale[-1, 0])
        np.testing.assert_allclose(c[0], coef[-1], rtol=1e-12, atol=1e-14 * scale[-1, 0])
        # full moment: the polynomial in 1/N
        poly = sum(coef[j] / n**j for j in range(len(coef)))
        np.testing.assert_allclose(ex[f"G{order}"], poly, rtol=1e-12, atol=1e-14 * scale.max())
    np.testing.assert_allclose(ex["G4"], ex["G4_coef"][0] + ex["G4_connected"], rtol=1e-12)


@pytest.mark.parametrize("name, sb", SETTINGS)
def test_connected_four_point_is_the_papers_neuron_formula(name, sb):
    spec, x = spec_and_inputs(name, sb, 2)
    m = exact.neuron_moments(spec, x, (2, 4))
    p = len(x)
    e2 = np.zeros((p, p))
    t2 = correlators.multisets(p, 2)
    e2[t2[:, 0], t2[:, 1]] = e2[t2[:, 1], t2[:, 0]] = m[2]
    t4 = correlators.multisets(p, 4)
    i, j, k, l = t4.T
    want = spec.sw**4 * (3 * m[4] - e2[i, j] * e2[k, l] - e2[i, k] * e2[j, l] - e2[i, l] * e2[j, k])
    ex = exact.exact_correlators(spec, x, [7.0], orders=(4,), moments=m)
    np.testing.assert_allclose(ex["G4_connected"][0] * 7.0, want, rtol=1e-12, atol=1e-15 * np.abs(want).max())


@pytest.mark.parametrize("name, sb", SETTINGS)
def test_width_one_six_point_by_direct_expansion(name, sb):
    # N = 1: f_a = w h_a + b with scalar w ~ N(0, sw^2), b ~ N(0, sb^2), so
    # E[prod_s f_s] = sum over slot subsets S of E[w^|S|] E[prod_S h] E[b^(6-|S|)]
    spec, x = spec_and_inputs(name, sb, 2, sw=0.9)
    p = len(x)
    m = exact.neuron_moments(spec, x)

    def gaussian_power(sigma, k):
        return 0.0 if k % 2 else math.prod(range(k - 1, 0, -2)) * sigma**k

    want = []
    for t in correlators.multisets(p, 6):
        total = 0.0
        for k in (0, 2, 4, 6):
            for slots in itertools.combinations(range(6), k):
                eh = 1.0 if k == 0 else m[k][correlators.multiset_position(p, [t[list(slots)]])[0]]
                total += gaussian_power(spec.sw, k) * eh * gaussian_power(spec.sb, 6 - k)
        want.append(total)
    ex = exact.exact_correlators(spec, x, [1.0], moments=m)
    np.testing.assert_allclose(ex["G6"][0], want, rtol=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("name, sb", [("erf", 1.0), ("relu", 0.0)])
def test_exact_g4_agrees_with_the_ensemble_engine(name, sb):
    spec, x = spec_and_inputs(name, sb, 1)
    width, sampling = 5, Sampling(seed=7, n_networks=20_000, n_blocks=20)
    sums = ensemble.run_shard(spec, x, [width], sampling, ensemble=f"exact-check-{name}",
                              blocks=range(sampling.n_blocks), orders=(4,))
    want = exact.exact_correlators(spec, x, [width], orders=(4,))["G4"][0]
    for blocks in sums[4]:  # plain, Rao-Blackwell
        mean, stderr = estimators.mean_and_stderr(blocks[0, :, 0])
        assert np.mean(np.abs(mean - want) < 4 * stderr) >= 0.95


# ---------------------------------------------------------------- errors


@pytest.mark.slow
def test_errors_name_the_problem():
    x = paper_inputs("erf", 1)
    with pytest.raises(ValueError, match="mean_w1"):
        exact.neuron_moments(NetworkSpec("erf", 1, mean_w1=(0.1,)), x)
    with pytest.raises(ValueError, match="mean_w0"):
        exact.exact_correlators(NetworkSpec("erf", 1, mean_w0=0.2), x, [5])
    spec = NetworkSpec("erf", 1)
    with pytest.raises(ValueError, match="even"):
        exact.neuron_moments(spec, x, (3,))
    with pytest.raises(ValueError, match="shape"):
        exact.neuron_moments(spec, x[:, 0])
    with pytest.raises(ValueError, match="method"):
        exact.neuron_moments(spec, x, method="simpson")
    with pytest.raises(ValueError, match="no closed form"):
        exact.neuron_moments(spec, x, method="closed")
    with pytest.raises(ValueError, match="no closed form"):
        exact.neuron_moments(NetworkSpec("relu", 2, sb=0.0), paper_inputs("relu", 2), method="closed")
    with pytest.raises(ValueError, match=r"lack orders \[4\]"):
        exact.exact_correlators(spec, x, [5], orders=(6,), moments=exact.neuron_moments(spec, x, (2, 6)))
    with pytest.raises(ValueError, match="widths"):
        exact.exact_correlators(spec, x, [0, 5])
