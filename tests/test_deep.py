"""The 1/n theory of deep networks (nnqft.deep) against independent references."""

import numpy as np
import pytest

from nnqft import correlators, deep, exact
from nnqft.networks import NetworkSpec

X2 = np.array([[0.5, 0.5], [0.5, 1.0], [1.0, 0.5], [-1.0, 1.0]])


@pytest.mark.parametrize("name, sw, sb", [("linear", 1.0, 1.0), ("erf", 1.0, 1.0), ("relu", 1.2, 0.7),
                                          ("relu", 1.0, 0.0)])
def test_one_hidden_layer_is_the_exact_inverse_width_coefficient(name, sw, sb):
    # L = 1: Vhat of the output is the 1/N coefficient of P3's exact G4 (nnqft.exact, neuron moments).
    th = deep.theory(X2, name, sw**2, sb**2, 1)
    ref = exact.exact_correlators(NetworkSpec(name, 2, sw=sw, sb=sb), X2, [10.0], orders=(2, 4))
    v = th.connected_four_point(2, correlators.multisets(4, 4))
    np.testing.assert_allclose(v, ref["G4_coef"][-1], rtol=1e-10, atol=1e-13 * np.abs(v).max())
    np.testing.assert_allclose(th.kernel[1][tuple(correlators.multisets(4, 2).T)], ref["G2_coef"][0], rtol=1e-12)
    assert np.all(th.shift == 0)  # K^{1} vanishes up to the first hidden layer's output


@pytest.mark.slow  # ~3 s: compiles the JAX derivatives of the quadrature path
def test_erf_closed_pair_derivatives_match_quadrature():
    k = (np.array([1.3, 2.1, 0.2]), np.array([0.7, -0.4, 0.19]), np.array([0.9, 1.7, 0.2]))
    pair, diag = deep._quadrature_pair("erf", 200)
    for closed, quad in zip(deep._erf_pair(*k), pair(*k)):
        np.testing.assert_allclose(closed, quad, rtol=1e-11, atol=1e-13)
    for closed, quad in zip(deep._erf_diag(k[0]), diag(k[0])):
        np.testing.assert_allclose(closed, quad, rtol=1e-11, atol=1e-13)


def test_relu_pair_derivatives_match_finite_differences():
    k = [np.array([1.3, 2.1]), np.array([0.7, -0.4]), np.array([0.9, 1.7])]
    _, grad, hess = deep._relu_pair(*k)
    h = 1e-5
    for p in range(3):
        up, down = [v.copy() for v in k], [v.copy() for v in k]
        up[p] += h
        down[p] -= h
        fu, fd = deep._relu_pair(*up), deep._relu_pair(*down)
        np.testing.assert_allclose((fu[0] - fd[0]) / (2 * h), grad[:, p], rtol=1e-8)
        np.testing.assert_allclose((fu[1] - fd[1]) / (2 * h), hess[:, p, :], rtol=1e-6, atol=1e-9)


def test_hessian_term_is_half_the_second_derivative_along_a_fluctuation():
    # For Vhat = delta (x) delta, (1/2) Hess : Vhat = (1/2) d^2/dt^2 G(K + t delta) at t = 0.
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3, 3))
    k, delta = a @ a.T + np.eye(3), rng.normal(size=(3, 3))
    delta = delta + delta.T
    pairs, coords, _, _, _ = deep._index_maps(3)
    _, _, hess = deep._pair_derivatives("erf", k, pairs)
    term = deep._hessian_term(k, hess, coords, np.outer(delta.ravel(), delta.ravel()))
    h = 1e-4
    g = [deep._pair_derivatives("erf", k + s * h * delta, pairs)[0] for s in (-1, 0, 1)]
    np.testing.assert_allclose(term, 0.5 * (g[0] - 2 * g[1] + g[2]) / h**2, rtol=1e-6, atol=1e-9)


def test_erf_recursion_first_layer_term_matches_kernel_derivative():
    # K1hat(3) = C_W (1/2) Hess : Vhat(2) at L = 2 with the first term zero (K1hat(2) = 0); check the
    # deep layer's kernel is the NNGP recursion and the shift is finite and nonzero.
    th = deep.theory(X2, "erf", 1.0, 1.0, 2)
    np.testing.assert_allclose(th.kernel, deep.nngp_kernels(X2, "erf", 1.0, 1.0, 2), rtol=1e-14)
    assert np.all(np.isfinite(th.shift[2])) and np.abs(th.shift[2]).max() > 1e-3


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="depth"):
        deep.theory(X2, "erf", 1.0, 1.0, 0)
    with pytest.raises(ValueError, match="inv_widths"):
        deep.theory(X2, "erf", 1.0, 1.0, 2, inv_widths=[1.0])
    with pytest.raises(ValueError, match="gauss"):
        deep.theory(X2, "gauss", 1.0, 1.0, 2)
    with pytest.raises(ValueError, match="C_W"):
        deep.theory(X2, "erf", 0.0, 1.0, 2)


@pytest.mark.slow
def test_erf_two_point_shift_matches_rao_blackwell_monte_carlo():
    # At L = 2 the whole K^{1} is PDLT's (1/8) V <d^4 (s s)> term, which no exact result fixes
    # (docs/physics.md sec. 10): measure E[Kh] of the output with an independent numpy network.
    from scipy.special import erf

    x = np.array([[-1.0], [-0.2], [0.6]])
    th = deep.theory(x, "erf", 1.0, 1.0, 2)
    rng, n, chunks, batch = np.random.default_rng(1), 4, 20, 20_000
    means = []
    for _ in range(chunks):
        h, fan_in = np.broadcast_to(x.T, (batch,) + x.T.shape), 1
        for _layer in range(2):
            pre = rng.normal(0, np.sqrt(1 / fan_in), (batch, n, fan_in)) @ h + rng.normal(0, 1, (batch, n, 1))
            h, fan_in = erf(pre), n
        means.append((1 + np.einsum("bip,biq->bpq", h, h) / n).mean(axis=0))
    shift = n * (np.mean(means, axis=0) - th.kernel[2])
    err = n * np.std(means, axis=0, ddof=1) / np.sqrt(chunks)
    assert np.abs(th.shift[2][0, 2]) > 10 * err[0, 2]  # resolved: a wrong constant would show
    assert np.all(np.abs(shift - th.shift[2]) < 4 * err)


def test_generic_four_point_quadrature_matches_the_single_layer_moments():
    # tanh has no closed form: per-support Gauss-Hermite against nnqft.exact's own tensor rule.
    x = np.array([[-1.0], [-0.2], [0.6]])
    spec = NetworkSpec("tanh", 1)
    t4 = correlators.multisets(3, 4)
    ref = exact.neuron_moments(spec, x, orders=(4,))[4]
    np.testing.assert_allclose(deep._four_point("tanh", 1 + x @ x.T, t4), ref, rtol=1e-8)


def test_smoothed_four_point_rule_matches_erf_closed_form_on_a_full_rank_support():
    # Four inputs of full rank: the generic rule (one dimension lower) against Price's closed form.
    k = 0.3 + X2 @ X2.T / 2 + 0.2 * np.eye(4)
    t4 = correlators.multisets(4, 4)
    got, ref = deep._support_hermite("erf", k, t4), deep._four_point("erf", k, t4)
    # measured 2.3e-8 of the largest moment (the tensor rules it replaces: 6e-4 on the 4-input
    # support, 5.6e-7 on the 3-input ones)
    np.testing.assert_allclose(got, ref, rtol=0, atol=5e-8 * np.abs(ref).max())


def test_smoothed_four_point_rule_matches_a_dense_tensor_rule_for_tanh():
    # Three inputs of full rank: against tensor Gauss-Hermite with 100 nodes per axis written here.
    k = np.array([[0.6, 0.3, -0.1], [0.3, 0.5, 0.2], [-0.1, 0.2, 0.4]])
    t4 = correlators.multisets(3, 4)
    t, w = np.polynomial.hermite_e.hermegauss(100)
    w = w / np.sqrt(2 * np.pi)
    grid = np.stack(np.meshgrid(t, t, t, indexing="ij"), -1).reshape(-1, 3)
    weight = (w[:, None, None] * w[None, :, None] * w[None, None, :]).ravel()
    hz = np.tanh(grid @ np.linalg.cholesky(k).T)
    ref = np.array([weight @ np.prod(hz[:, m], axis=1) for m in t4])
    got = deep._support_hermite("tanh", k, t4)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-10 * np.abs(ref).max())


def test_zero_variance_input_is_refused():
    with pytest.raises(ValueError, match="zero pre-activation variance"):
        deep.theory(np.array([[0.0], [1.0]]), "relu", 2.0, 0.0, 2)
