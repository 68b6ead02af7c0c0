"""nnqft.ntk: analytic NTK against closed forms written here, empirical NTK against full Jacobians
and against the analytic mean."""

import numpy as np
import pytest
from scipy.special import erf, roots_hermitenorm

import nnqft  # noqa: F401  (float64 JAX)
import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from nnqft import blocks, ntk

X = np.array([[1.0, 0.0], [0.6, 0.8], [-0.6, 0.8], [0.0, -1.2], [0.3, 0.1]])


# ---------------------------------------------------------------- independent references (numpy)

def _arccos_pair(kaa, kab, kbb):
    """Cho & Saul's arc-cosine kernels of degree 1 and 0: <relu relu> and <step step>."""
    norm = np.sqrt(kaa * kbb)
    t = np.arccos(np.clip(kab / norm, -1, 1))
    return norm * (np.sin(t) + (np.pi - t) * np.cos(t)) / (2 * np.pi), (np.pi - t) / (2 * np.pi)


def _erf_pair(kaa, kab, kbb):
    """Williams (1997): <erf erf> = (2/pi) arcsin(2 k_ab / sqrt((1 + 2 k_aa)(1 + 2 k_bb))) and
    <erf' erf'> = (4/pi) / sqrt((1 + 2 k_aa)(1 + 2 k_bb) - 4 k_ab^2)."""
    a, b = 1 + 2 * kaa, 1 + 2 * kbb
    return (2 / np.pi) * np.arcsin(2 * kab / np.sqrt(a * b)), (4 / np.pi) / np.sqrt(a * b - 4 * kab**2)


def _linear_pair(kaa, kab, kbb):
    return kab, np.ones_like(kab)


def _sin_pair(kaa, kab, kbb):
    """<sin sin> = e^{-(kaa+kbb)/2} sinh(kab), <cos cos> = e^{-(kaa+kbb)/2} cosh(kab)."""
    e = np.exp(-(kaa + kbb) / 2)
    return e * np.sinh(kab), e * np.cosh(kab)


REFERENCE = {"relu": _arccos_pair, "erf": _erf_pair, "linear": _linear_pair, "sin": _sin_pair}


def _reference_ntk(pair, x, sw, sb, depth):
    k = sb**2 + sw**2 * x @ x.T / x.shape[1]
    theta = k
    for _ in range(depth):
        d = np.diag(k)
        g, gdot = pair(d[:, None], k, d[None, :])
        k = sb**2 + sw**2 * g
        theta = k + sw**2 * gdot * theta
    return theta


@pytest.mark.parametrize("name, sw, sb", [("relu", np.sqrt(2), 0.0), ("relu", 1.0, 0.3), ("erf", 1.0, 0.0),
                                          ("erf", 1.5, 0.5), ("linear", 1.0, 1.0)])
@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_analytic_ntk_closed_forms(name, sw, sb, depth):
    got = ntk.analytic_ntk(X, name, sw, sb, depth)
    assert got.shape == (depth + 1, len(X), len(X))
    want = _reference_ntk(REFERENCE[name], X, sw, sb, depth)
    np.testing.assert_allclose(got[-1], want, rtol=1e-10, atol=1e-12)


@pytest.mark.slow
def test_analytic_ntk_sin_by_quadrature():
    """sin has no closed-form pair function in nnqft.deep (quadrature there), but has one here."""
    got = ntk.analytic_ntk(X, "sin", 1.2, 0.4, 3)[-1]
    np.testing.assert_allclose(got, _reference_ntk(_sin_pair, X, 1.2, 0.4, 3), rtol=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["tanh", "gelu"])
def test_analytic_ntk_quadrature(name):
    """Quadrature activations against a 600-node Gauss-Hermite rule of the same two expectations."""
    t, w = roots_hermitenorm(400)
    w = w / np.sqrt(2 * np.pi)
    s = {"tanh": np.tanh, "gelu": lambda z: 0.5 * z * (1 + erf(z / np.sqrt(2)))}[name]
    ds = {"tanh": lambda z: 1 / np.cosh(z) ** 2,
          "gelu": lambda z: 0.5 * (1 + erf(z / np.sqrt(2))) + z * np.exp(-z**2 / 2) / np.sqrt(2 * np.pi)}[name]

    def pair(kaa, kab, kbb):
        kaa, kab, kbb = np.broadcast_arrays(kaa, kab, kbb)
        g, gd = np.empty(kab.shape), np.empty(kab.shape)
        for i in np.ndindex(kab.shape):
            a = np.sqrt(kaa[i])
            c = kab[i] / a
            d = np.sqrt(max(kbb[i] - c * c, 0.0))
            za, zb = a * t[:, None], c * t[:, None] + d * t[None, :]
            ww = np.outer(w, w)
            g[i], gd[i] = np.sum(ww * s(za) * s(zb)), np.sum(ww * ds(za) * ds(zb))
        return g, gd

    for depth in (1, 3):
        got = ntk.analytic_ntk(X, name, 1.3, 0.2, depth)[-1]
        np.testing.assert_allclose(got, _reference_ntk(pair, X, 1.3, 0.2, depth), rtol=1e-8)


def test_analytic_ntk_refuses_input_dependent_activation():
    with pytest.raises(ValueError, match="gauss"):
        ntk.analytic_ntk(X, "gauss", 1.0, 1.0, 2)


# ---------------------------------------------------------------- empirical NTK


@pytest.mark.parametrize("name", ["relu", "tanh"])
def test_empirical_ntk_equals_full_jacobian(name):
    """The per-layer factorisation equals J J^T of the Jacobian over every parameter."""
    sizes = ntk.layer_sizes(2, 7, 3)
    params = jax.tree_util.tree_map(lambda a: a[0], ntk.sample_params(sizes, 1, key=jax.random.key(3),
                                                                       dtype=jnp.float64))
    flat, unravel = ravel_pytree(params)
    assert flat.size == ntk.n_parameters(sizes) == 2 * 7 + 7 + 2 * (7 * 7 + 7) + 7 + 1
    jac = jax.jacrev(lambda th: ntk.forward(unravel(th), jnp.asarray(X), name, 1.3, 0.4)[0])(flat)
    np.testing.assert_allclose(ntk.empirical_ntk(params, X, name, 1.3, 0.4), jac @ jac.T, rtol=1e-12, atol=1e-12)


def test_forward_matches_numpy():
    """The NTK parametrisation: z(l+1) = (sw / sqrt(n_l)) W h + sb b with unit-variance W, b."""
    sizes = ntk.layer_sizes(2, 5, 2)
    params = jax.tree_util.tree_map(lambda a: np.asarray(a[0]), ntk.sample_params(sizes, 1, key=jax.random.key(1),
                                                                                   dtype=jnp.float64))
    h = X
    for l, (w, b) in enumerate(params):
        z = 0.9 / np.sqrt(h.shape[1]) * h @ w.T + 0.2 * b
        h = np.tanh(z) if l < 2 else z
    np.testing.assert_allclose(ntk.forward(params, X, "tanh", 0.9, 0.2)[0], h[:, 0], rtol=1e-13)


@pytest.mark.slow
def test_one_layer_mean_is_unbiased():
    """At L = 1 E[Theta_hat] = Theta exactly at every width: z-scores of the ensemble mean."""
    sampling = blocks.Sampling(seed=5, n_networks=2000, n_blocks=20)
    theta = ntk.analytic_ntk(X, "relu", np.sqrt(2), 0.1, 1)[-1]
    for width in (3, 16):
        bm = ntk.ntk_block_means("relu", np.sqrt(2), 0.1, X, 1, width, sampling, "test/ntk")
        mean = bm["theta"].mean(0)
        stderr = bm["theta"].std(0, ddof=1) / np.sqrt(20)
        z = (mean - theta) / stderr
        assert np.all(np.abs(z) < 4), z
        # and the ensemble does fluctuate, by ~ 1/sqrt(n): the relative variance is O(1) at width 3
        var = bm["theta2"].mean(0) - mean**2
        assert 0.05 < np.sum(var) / np.sum(theta**2) * width < 20


# ---------------------------------------------------------------- control variate


@pytest.mark.parametrize("name, sw, sb", [("relu", 1.0, 0.0), ("erf", 1.0, 1.0)])
def test_perturbed_recursion_at_zero_is_the_analytic_ntk(name, sw, sb):
    z = jnp.zeros((3, len(X), len(X)))
    got = jax.jit(lambda d: ntk.perturbed_ntk(jnp.asarray(X), name, sw, sb, d, d, d[0]))(z)
    np.testing.assert_allclose(got, _reference_ntk(REFERENCE[name], X, sw, sb, 3), rtol=1e-12)


def _float64_networks(sizes, n, seed):
    return ntk.sample_params(sizes, n, key=jax.random.key(seed), dtype=jnp.float64)


def test_control_variate_is_exact_at_one_layer():
    """At L = 1 Theta_hat is linear in D_K, D_S, D_W, so Theta_hat - c is the analytic NTK per network."""
    name, sw, sb = "relu", 1.3, 0.2
    sizes = ntk.layer_sizes(2, 5, 1)
    response = ntk.fluctuation_response(name, sw, sb, 1, tuple(map(tuple, X.tolist())))
    params = _float64_networks(sizes, 6, 2)
    got = jax.jit(jax.vmap(lambda p: ntk.empirical_ntk(p, X, name, sw, sb)
                           - ntk.control_variate(ntk.network_pass(p, X, name, sw, sb), name, sw, sb, response)))(params)
    want = _reference_ntk(REFERENCE[name], X, sw, sb, 1)
    np.testing.assert_allclose(got, np.broadcast_to(want, got.shape), rtol=1e-11, atol=1e-12)


@pytest.mark.slow
def test_control_variate_has_mean_zero_and_removes_most_of_the_noise():
    """ReLU L = 2 at width 3 (dead units and dead inputs happen): each fluctuation D and c average to
    0 within 4 standard errors, and Var(Theta_hat - c) is a small part of Var(Theta_hat)."""
    sw, sb, n = 1.0, 0.0, 3000
    sizes = ntk.layer_sizes(2, 3, 2)
    rows = tuple(map(tuple, X.tolist()))
    response = ntk.fluctuation_response("relu", sw, sb, 2, rows)

    @jax.jit
    def stats(params):
        def one(p):
            net = ntk.network_pass(p, X, "relu", sw, sb)
            d_k, d_s, d_w = ntk.fluctuations_of(net, "relu", sw, sb)
            return (jnp.concatenate([d_k.ravel(), d_s.ravel(), d_w.ravel()]), ntk.kernel_of(net, sw, sb),
                    ntk.control_variate(net, "relu", sw, sb, response))
        return jax.vmap(one)(params)

    d, theta, c = map(np.asarray, stats(_float64_networks(sizes, n, 11)))
    for values in (d, c.reshape(n, -1)):
        spread = values.std(0)
        live = spread > 0
        z = values.mean(0)[live] / (spread[live] / np.sqrt(n))
        assert np.all(np.abs(z) < 4), z
    assert np.sum((theta - c).var(0)) < 0.3 * np.sum(theta.var(0))


def test_fluctuation_table_fits_the_control_variate_bias():
    """Synthetic block means: a plain estimator too noisy to resolve a 0.3/n relative bias, and a
    control-variate estimator with the same mean and 1/30 of the noise: the cv columns resolve it at
    every width and the bias_cv slope is -1 within its error, while L = 1 gets no cv columns."""
    rng = np.random.default_rng(4)
    theta = ntk.analytic_ntk(X, "relu", 1.0, 0.0, 2)[-1]
    widths, blocks_, noise = np.array([4, 8, 16, 32]), 16, 0.002
    mean = theta[None] * (1 + 0.3 / widths[:, None, None])
    shape = (len(widths), blocks_) + theta.shape
    plain = mean[:, None] + noise * 30 * rng.normal(size=shape)
    cv = mean[:, None] + noise * rng.normal(size=shape)
    ds = ntk.ensemble_dataset([{"theta": p, "theta2": p**2 + 1.0, "theta_cv": c, "theta_cv2": c**2 + 0.1}
                               for p, c in zip(plain, cv)], widths, X, theta, [1600] * 4,
                              dict(activation="relu", depth=2))
    rows = ntk.fluctuation_table([ds, ds.assign_attrs(depth=1)])
    deep_rows = rows[rows["depth"] == 2]
    assert deep_rows["bias_cv_resolved"].all() and not deep_rows["bias_resolved"].all()
    np.testing.assert_allclose(deep_rows["bias_cv"], 0.3 / widths, rtol=0.15)
    assert rows[rows["depth"] == 1]["bias2_cv"].isna().all()
    fit = ntk.slope_rows(rows).query("quantity == 'bias_cv'")
    assert list(fit["depth"]) == [2]
    assert abs(fit["slope"].iloc[0] + 1) < 3 * fit["slope_stderr"].iloc[0] < 0.2


def _numpy_networks(sizes, batch, seed):
    """Networks drawn by numpy (no JAX compilation for the draw): [(W, b)], leading axis batch unless None."""
    rng = np.random.default_rng(seed)
    lead = () if batch is None else (batch,)
    return [(rng.normal(size=lead + (n, m)), rng.normal(size=lead + (n,))) for m, n in zip(sizes[:-1], sizes[1:])]


def _numpy_network(params, x, sw, sb):
    """erf network in numpy: pre-activations z(1..L), layer inputs h(0..L) and Jacobians delta(1..L)."""
    s, ds = erf, lambda z: 2 / np.sqrt(np.pi) * np.exp(-z**2)
    hs, zs = [x], []
    for w, b in params[:-1]:
        zs.append(sw / np.sqrt(hs[-1].shape[1]) * hs[-1] @ w.T + sb * b)
        hs.append(s(zs[-1]))
    deltas = [ds(zs[-1]) * sw / np.sqrt(hs[-1].shape[1]) * params[-1][0][0]]
    for l in range(len(zs) - 1, 0, -1):
        deltas.insert(0, ds(zs[l - 1]) * (sw / np.sqrt(hs[l].shape[1]) * deltas[0] @ params[l][0]))
    return zs, hs, deltas


def test_backward_fluctuation_has_conditional_mean_zero():
    """E(l) = delta(l).delta(l)' minus its mean over the part of W(l+1) orthogonal to h(l): a numpy
    Monte Carlo redraws that part (z(l+1), hence everything above, stays put) and averages delta(l).delta(l)'
    to the library's delta(l).delta(l)' - E(l), for both hidden layers below the last of an L = 3 erf net."""
    sw, sb, width, draws = 1.2, 0.5, 7, 20000
    params = _numpy_networks(ntk.layer_sizes(2, width, 3), None, 5)
    e = np.asarray(jax.jit(lambda p: ntk.backward_fluctuations(ntk.network_pass(p, X, "erf", sw, sb), "erf", sw))(params))
    assert e.shape == (2, len(X), len(X))
    zs, hs, deltas = _numpy_network(params, X, sw, sb)
    rng = np.random.default_rng(0)
    for l in (1, 2):
        h, w = hs[l], params[l][0]
        par = np.linalg.pinv(h) @ h
        redrawn = w @ par + rng.normal(size=(draws,) + w.shape) @ (np.eye(width) - par)
        np.testing.assert_allclose(np.einsum("pj,mij->mpi", h, redrawn)[0], h @ w.T, atol=1e-12)  # z(l+1) kept
        d = np.exp(-zs[l - 1] ** 2) * 2 / np.sqrt(np.pi) * (sw / np.sqrt(width)) * np.einsum(
            "pi,mij->mpj", deltas[l], redrawn)
        dd = np.einsum("mpj,mqj->mpq", d, d)
        z = (dd.mean(0) - (deltas[l - 1] @ deltas[l - 1].T - e[l - 1])) / (dd.std(0) / np.sqrt(draws))
        assert np.all(np.abs(z) < 4.5), z
        assert np.abs(e[l - 1]).max() > 0.01  # and a network's own E(l) is not 0


@pytest.mark.slow
def test_backward_control_variate_leaves_order_one_over_n_squared():
    """erf (sw = sb = 1), L = 2: with E(1) in c the per-network variance of Theta_hat - c falls faster
    than 1/n (O(1/n^2): measured 27x from n = 8 to 32) and is under 1/5 of that without it at n = 32
    (measured 1/12)."""
    *forward, theta_below = ntk.fluctuation_response("erf", 1.0, 1.0, 2, tuple(map(tuple, X.tolist())))
    forward_only = (*forward, theta_below[:0])  # c without the backward term

    @jax.jit
    @jax.vmap
    def residuals(p):
        net = ntk.network_pass(p, X, "erf", 1.0, 1.0)
        theta = ntk.kernel_of(net, 1.0, 1.0) - ntk.control_variate(net, "erf", 1.0, 1.0, forward_only)
        return theta - theta_below[0] * ntk.backward_fluctuations(net, "erf", 1.0)[0], theta

    def variances(width):
        return [np.asarray(r).var(0).sum() for r in residuals(_numpy_networks(ntk.layer_sizes(2, width, 2), 400, 1))]

    (narrow, _), (wide, forward_only) = variances(8), variances(32)
    assert narrow / wide > 8
    assert wide < 0.2 * forward_only


def test_span_basis_is_the_projector_of_dependent_rows():
    """A zero row (all units dead) and a repeated row: the basis spans h's rows, orthonormally, and its
    projector equals numpy's pinv(h) h."""
    h = np.random.default_rng(2).normal(size=(5, 6))
    h[1], h[3] = 0.0, 2 * h[0]
    q = np.asarray(ntk.span_basis(jnp.asarray(h)))
    assert np.sum(np.any(q != 0, axis=1)) == 3
    np.testing.assert_allclose(q.T @ q, np.linalg.pinv(h) @ h, atol=1e-12)
