"""Exact deep-network correlators (nnqft.deep_exact) against enumeration, P3's single-layer duality,
numpy Monte Carlo written here, and the 1/n theory (nnqft.deep): the acceptance check of issue 13."""

import math

import numpy as np
import pytest
from scipy.stats import binom

from nnqft import correlators, deep, deep_exact, exact
from nnqft.networks import NetworkSpec

X3 = np.array([[0.3, -0.2, 0.9], [1.0, 0.4, -0.5], [-0.7, 0.8, 0.1]])
RAY = np.array([[0.2], [0.5], [1.3]])


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_relu_layer_moment_is_the_binomial_chi_square_sum(k):
    # E[R^k] by enumerating the number B of active units: chi^2_B moments B(B+2)...(B+2k-2).
    coef = [float(c) for c in deep_exact.relu_layer_moment(k)]
    for n in range(1, 8):
        b = np.arange(n + 1)
        chi = np.prod([b + 2 * i for i in range(k)], axis=0)
        brute = np.sum(binom.pmf(b, n, 0.5) * chi) / n**k
        assert np.polynomial.polynomial.polyval(1 / n, coef) == pytest.approx(brute, rel=1e-13)


def test_relu_ray_m4_is_the_product_of_layer_factors():
    widths = [3, 7, 20]
    c = deep_exact.relu_ray_correlators(RAY, 2.0, [1 / n for n in widths], orders=(2, 4))
    t2, t4 = correlators.multisets(3, 2), correlators.multisets(3, 4)
    gp4 = correlators.gaussian_moments(correlators.symmetric_matrix(c[2], 3), t4)
    np.testing.assert_allclose(c[4] / gp4, math.prod(1 + 5 / n for n in widths), rtol=1e-13)
    # critical C_W = 2: the 2-pt is the first layer's kernel s_a s_b at every depth
    s = np.sqrt(2.0) * RAY[:, 0]
    np.testing.assert_allclose(c[2], s[t2[:, 0]] * s[t2[:, 1]], rtol=1e-14)


def _mc_moments(forward, n_nets, x, rng, chunks=20):
    """Moments E[f^n] on multisets (n = 2, 4, 6) with standard errors from chunk means."""
    p = len(x)
    out = {n: [] for n in (2, 4, 6)}
    for _ in range(chunks):
        f = forward(n_nets // chunks, rng)  # (B, P)
        for n in out:
            out[n].append(np.prod(f[:, correlators.multisets(p, n)], axis=-1).mean(axis=0))
    return {n: (np.mean(v, axis=0), np.std(v, axis=0, ddof=1) / np.sqrt(chunks)) for n, v in out.items()}


def _deep_forward(x, widths, c_w, c_b, act):
    """An independent numpy forward pass of the deep network of docs/physics.md sec. 10: f (B, P)."""

    def forward(batch, rng):
        h, fan_in = np.broadcast_to(x.T, (batch,) + x.T.shape), x.shape[1]
        sizes = list(widths) + [1]
        for n in sizes:
            pre = rng.normal(0, np.sqrt(c_w / fan_in), (batch, n, fan_in)) @ h
            if c_b > 0:
                pre = pre + rng.normal(0, np.sqrt(c_b), (batch, n, 1))
            h, fan_in = act(pre), n
        return pre[:, 0, :]

    return forward


def test_relu_ray_moments_match_monte_carlo():
    rng = np.random.default_rng(11)
    widths = [2, 3]
    mc = _mc_moments(_deep_forward(RAY, widths, 2.0, 0.0, lambda z: np.maximum(z, 0)), 400_000, RAY, rng)
    ex = deep_exact.relu_ray_correlators(RAY, 2.0, [1 / n for n in widths])
    for n in (2, 4, 6):
        assert np.all(np.abs(mc[n][0] - ex[n]) < 5 * mc[n][1]), n


def test_relu_ray_estimator_stderr_is_the_spread_of_independent_ensembles():
    # 3000 independent ensembles of 200 networks (widths 8, 12), each a Rao-Blackwell estimate from
    # numpy draws of the last hidden layer's norm S = prod_l (2/n_l) chi^2_(B_l), B_l ~ Bin(n_l, 1/2);
    # cumulants by nnqft.correlators on one input. Their spread is the exact standard deviation.
    rng = np.random.default_rng(17)
    widths, n_nets, reps, x = [8, 12], 200, 3000, np.array([[0.5]])
    s = np.ones((reps, n_nets))
    for n in widths:
        b = rng.binomial(n, 0.5, s.shape)
        s *= 2.0 / n * np.where(b > 0, rng.chisquare(np.maximum(b, 1), s.shape), 0.0)
    geometry = 2.0 * 0.25  # s_a^2 = C_W |x|^2 / d_in
    moments = {2 * j: (geometry**j * math.prod(range(2 * j - 1, 0, -2)) * (s**j).mean(axis=1))[:, None]
               for j in (1, 2, 3)}
    predicted = deep_exact.relu_ray_estimator_stderr(x, 2.0, [1 / n for n in widths], n_nets)
    # The spread's own relative error: ~2% (2-, 4-pt), ~6% (6-pt, itself heavy-tailed); dropping the
    # -6 m_1 term of the 4-pt gradient would move the prediction by 35%.
    for n, tol in ((2, 0.06), (4, 0.06), (6, 0.2)):
        spread = correlators.cumulants_from_moments(moments, 1, n)[:, 0].std()
        assert spread == pytest.approx(predicted[n][0], rel=tol), n
    # every element is prod_s s_as times one standard deviation
    three = deep_exact.relu_ray_estimator_stderr(RAY, 2.0, [1 / n for n in widths], n_nets, orders=(4,))[4]
    t4 = correlators.multisets(3, 4)
    np.testing.assert_allclose(three / np.prod(np.sqrt(2.0) * RAY[t4, 0], axis=1), predicted[4][0] / geometry**2,
                               rtol=1e-12)


@pytest.mark.parametrize("n", [4, 6])
def test_ray_cumulant_gradient_differentiates_the_cumulant(n):
    # central differences of nnqft.correlators' cumulant of a Gaussian scale mixture (one input):
    # E[f^2j] = (2j-1)!! m_j; the cumulant is a cubic in m: the differences are off by h^2 f'''/6 <= 3e-7
    m = {1: 1.3, 2: 2.9, 3: 8.1}

    def kappa(mm):
        return correlators.cumulants_from_moments({2 * j: np.array([math.prod(range(2 * j - 1, 0, -2)) * mm[j]])
                                                   for j in (1, 2, 3)}, 1, n)[0]

    h = 1e-4
    numeric = [(kappa({**m, j: m[j] + h}) - kappa({**m, j: m[j] - h})) / (2 * h) for j in (1, 2, 3)]
    np.testing.assert_allclose(deep_exact._ray_cumulant_gradient(n, m), numeric, rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("n", [2, 5])
def test_one_layer_linear_is_p3_duality(n):
    ex = exact.exact_correlators(NetworkSpec("linear", 3, sw=1.1, sb=0.6), X3, [n], orders=(2, 4, 6))
    lc = deep_exact.linear_correlators(X3, 1.21, 0.36, [1 / n])
    for k in (2, 4, 6):
        np.testing.assert_allclose(lc[k], ex[f"G{k}"][0], rtol=1e-12)


def test_deep_linear_moments_match_monte_carlo():
    """Four inputs, so every multiset class of the 4-pt (1+1+1+1 included) and most of the 6-pt's are
    checked at depth 3 (the other deep-linear tests use at most three inputs)."""
    rng = np.random.default_rng(5)
    x = np.vstack([X3, [0.2, 0.6, 0.5]])
    widths = [2, 3, 2]
    mc = _mc_moments(_deep_forward(x, widths, 1.3, 0.4, lambda z: z), 400_000, x, rng)
    ex = deep_exact.linear_correlators(x, 1.3, 0.4, [1 / n for n in widths])
    for n in (2, 4, 6):
        assert np.all(np.abs(mc[n][0] - ex[n]) < 5 * mc[n][1]), n


def _linear_output_kernels(x, widths, c_w, c_b, batch, rng):
    """Kh = C_b + (C_W / n_L) sum_i h_i h_i^T of independent numpy deep linear nets: (B, P, P)."""
    h, fan_in = np.broadcast_to(x.T, (batch,) + x.T.shape), x.shape[1]
    for n in widths:
        h = rng.normal(0, np.sqrt(c_w / fan_in), (batch, n, fan_in)) @ h + rng.normal(0, np.sqrt(c_b), (batch, n, 1))
        fan_in = n
    return c_b + c_w * np.einsum("bip,biq->bpq", h, h) / fan_in


def test_linear_estimator_stderr_is_the_spread_of_independent_ensembles():
    # 4000 independent ensembles of 100 deep linear nets (widths 6, 8; four inputs, classes by the number
    # of distinct inputs), each a Rao-Blackwell estimate from numpy draws of the output kernel Kh:
    # m_2 = mean Kh_ab, m_4 = mean of Kh's three pairings; cumulants by nnqft.correlators. The spread
    # of the class averages is the exact standard deviation: within 3.1% over four seeds (its own
    # relative error ~2%). The estimator's m_2 m_2 term matters: the spread of m_4 alone is 2.1-2.3x.
    rng = np.random.default_rng(23)
    x = np.vstack([X3, [0.2, 0.6, 0.5]])
    widths, c_w, c_b, n_nets, reps = [6, 8], 1.3, 0.4, 100, 4000
    k = _linear_output_kernels(x, widths, c_w, c_b, n_nets * reps, rng).reshape(reps, n_nets, 4, 4)
    t2, t4 = correlators.multisets(4, 2), correlators.multisets(4, 4)
    m2 = k[..., t2[:, 0], t2[:, 1]].mean(axis=1)
    a, b, c, d = t4.T
    m4 = (k[..., a, b] * k[..., c, d] + k[..., a, c] * k[..., b, d] + k[..., a, d] * k[..., b, c]).mean(axis=1)
    estimates = {2: m2, 4: correlators.cumulants_from_moments({2: m2, 4: m4}, 4, 4)}
    classes = {n: [np.array([len(set(t)) for t in tt]) == j for j in sorted({len(set(t)) for t in tt})]
               for n, tt in ((2, t2), (4, t4))}
    weights = {n: np.array([m / m.sum() for m in masks]) for n, masks in classes.items()}
    moments = deep_exact.linear_kernel_moments(x, c_w, c_b, [1 / n for n in widths], 4)
    predicted = deep_exact.linear_estimator_stderr(moments, n_nets, weights)
    for n in (2, 4):
        spread = (estimates[n] @ weights[n].T).std(axis=0, ddof=1)
        np.testing.assert_allclose(predicted[n], spread, rtol=0.06, err_msg=f"{n}-pt")
    with pytest.raises(ValueError, match="M_4"):
        deep_exact.linear_estimator_stderr(deep_exact.linear_kernel_moments(x, c_w, c_b, [0.5], 3), 10, weights)


def test_moment_layers_are_the_moments_of_each_depth():
    layers = list(deep_exact.linear_kernel_moment_layers(X3, 1.21, 0.36, [1 / 3, 1 / 5, 1 / 2], 3))
    for depth in (1, 2, 3):
        last = deep_exact.linear_kernel_moments(X3, 1.21, 0.36, [1 / 3, 1 / 5, 1 / 2][:depth], 3)
        for m in (1, 2, 3):
            np.testing.assert_array_equal(layers[depth - 1][m], last[m])


def test_formal_coefficients_evaluate_to_the_numeric_moments():
    u = 1 / 7
    formal = deep_exact.linear_correlators(X3, 1.21, 0.36, [1.0] * 3, formal=True)
    numeric = deep_exact.linear_correlators(X3, 1.21, 0.36, [u] * 3)
    for n in (2, 4, 6):
        np.testing.assert_allclose(np.polynomial.polynomial.polyval(u, formal[n]), numeric[n], rtol=1e-13)


@pytest.mark.parametrize("depth", [1, 2, 3, 5, 8])
def test_inverse_width_coefficient_of_exact_results_is_the_theory(depth):
    # Acceptance (issue 13): the 1/n coefficients of the exact deep-linear (with biases) and
    # deep-ReLU (ray, C_b = 0) results equal nnqft.deep's V and K^{1} to 1e-8 relative.
    th = deep.theory(X3, "linear", 1.21, 0.36, depth)
    m = deep_exact.linear_kernel_moments(X3, 1.21, 0.36, [1.0] * depth, 2, formal=True)
    v_exact = m[2][1]  # Cov(Kh, Kh) = M2 - M1 M1 at order u: M1 has no u dependence (checked next)
    np.testing.assert_allclose(th.vertex[depth], v_exact, rtol=1e-8, atol=1e-8 * np.abs(v_exact).max())
    np.testing.assert_allclose(m[1][1:], 0.0, atol=0)  # K^{1} = 0 exactly
    np.testing.assert_allclose(th.shift[depth], 0.0, atol=1e-12 * np.abs(th.kernel[depth]).max())

    t2, t4 = correlators.multisets(3, 2), correlators.multisets(3, 4)
    thr = deep.theory(RAY, "relu", 2.0, 0.0, depth)
    ray = deep_exact.relu_ray_correlators(RAY, 2.0, [1.0] * depth, orders=(2, 4), formal=True)
    np.testing.assert_allclose(thr.connected_four_point(depth + 1, t4), ray[4][1], rtol=1e-8)
    np.testing.assert_allclose(thr.kernel[depth][tuple(t2.T)], ray[2][0], rtol=1e-12)
    np.testing.assert_allclose(thr.shift[depth], 0.0, atol=1e-12)  # exact: no u term in E[f f]
    assert len(ray[2]) == 1


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="ray"):
        deep_exact.relu_ray_correlators(X3, 2.0, [0.5])
    with pytest.raises(ValueError, match="inverse_widths"):
        deep_exact.linear_kernel_moments(X3, 1.0, 0.0, [])
