"""Tests for nnqft.feynman: vertex integrals against adaptive quadrature and closed forms, the
nested-cutoff rule, error cases, and the diagram sums against brute-force loops."""

import itertools

import numpy as np
import pytest
from scipy import integrate
from scipy.special import erf

from nnqft import correlators, feynman, inputs, kernels, networks

VARS = ("I4", "I4_y2", "J", "K4", "I6")


def spec_for(act, d, **kw):
    kw.setdefault("sb", 0.0 if act == "relu" else 1.0)
    return networks.NetworkSpec(act, d, **kw)


def integrand_values(spec, x, y, kind):
    """All five integrands at nodes y (M, d), concatenated: (M, T4 + T4 + P^2 + T4 + T6).

    Plain products over the index tuples (no pair/triple factorisation as in the module)."""
    p = feynman.propagator(spec, x, y, kind)
    n = len(x)
    t4, t6 = correlators.multisets(n, 4), correlators.multisets(n, 6)
    prod4 = np.prod(p[t4], axis=1)
    parts = [prod4, prod4 * np.sum(y * y, axis=1), (p[:, None, :] * p[None, :, :]).reshape(n * n, -1),
             prod4 * feynman.propagator_diagonal(spec, y, kind), np.prod(p[t6], axis=1)]
    return np.concatenate(parts).T


def split(values, n):
    sizes = [len(correlators.multisets(n, 4))] * 2 + [n * n, len(correlators.multisets(n, 4)),
                                                        len(correlators.multisets(n, 6))]
    out = dict(zip(VARS, np.split(values, np.cumsum(sizes)[:-1], axis=-1)))
    out["J"] = out["J"].reshape(out["J"].shape[:-1] + (n, n))
    return out


def max_error(got, ref):
    """max over entries of |got - ref| / max(|ref|, 1e-9 max|ref|): elementwise relative error, except
    for entries that cancel by symmetry to below 1e-9 of the largest one (there roundoff is relative to
    the largest)."""
    got, ref = np.asarray(got, dtype=float).ravel(), np.asarray(ref, dtype=float).ravel()
    return float(np.max(np.abs(got - ref) / np.maximum(np.abs(ref), 1e-9 * np.abs(ref).max())))


# --------------------------------------------------------------------------- propagator


@pytest.mark.parametrize("act", ["erf", "relu", "gauss"])
@pytest.mark.parametrize("d", [1, 3])
def test_propagator_is_the_gp_kernel(act, d):
    spec = spec_for(act, d, sb=0.7, sw=1.3)
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(4, d)), 3 * rng.normal(size=(9, d))
    k = kernels.gp_kernel(spec, x, y)
    assert np.allclose(feynman.propagator(spec, x, y, "K"), k, rtol=1e-13, atol=0)
    assert np.allclose(feynman.propagator(spec, x, y), k - spec.sb**2, rtol=1e-12, atol=1e-14)
    diag = np.diag(kernels.gp_kernel(spec, y, y))
    assert np.allclose(feynman.propagator_diagonal(spec, y, "K"), diag, rtol=1e-13, atol=0)


# --------------------------------------------------------------------------- closed forms


@pytest.mark.parametrize("sw", [1.0, 1.5])
def test_relu_d1_closed_forms(sw):
    """ReLU, sb = 0, d_in = 1, x > 0: K(x, y) = sw^4 x y / 2 for y > 0 and 0 for y < 0 (sw^2 x y/2
    at sw = 1), so every integral is a monomial in Lambda; e.g. I4 = prod x_i Lambda^5 / 80."""
    spec = networks.NetworkSpec("relu", 1, sw=sw, sb=0.0)
    x = inputs.paper_inputs("relu", 1)
    cuts = np.array([0.3, 7.0, 100.0, 1e4, 1e5])
    ds = feynman.vertex_integrals(spec, x, cuts)
    a = sw**4 / 2
    L = cuts[:, None]
    px4 = np.prod(x[correlators.multisets(6, 4), 0], axis=1)
    px6 = np.prod(x[correlators.multisets(6, 6), 0], axis=1)
    expect = {
        "I4": a**4 * px4 * L**5 / 5,
        "I4_y2": a**4 * px4 * L**7 / 7,
        "J": a**2 * (x @ x.T)[None] * cuts[:, None, None] ** 3 / 3,
        "K4": a * a**4 * px4 * L**7 / 7,  # P(y, y) = sw^4 y^2 / 2
        "I6": a**6 * px6 * L**7 / 7,
    }
    for v, e in expect.items():
        assert max_error(ds[v].values, e) < 1e-13, v
    if sw == 1.0:
        assert np.allclose(ds["I4"].values, px4 * L**5 / 80, rtol=1e-13, atol=0)


def gauss_box_1d(xs, L, c):
    """int_{-L}^{L} (1, y^2) exp(-(c/2) sum_i (y - x_i)^2) dy in closed form (erf), L may be inf."""
    n, xb = len(xs), np.mean(xs)
    A = n * c / 2
    pref = np.exp(-(c / 2) * (np.sum(np.square(xs)) - n * xb**2))
    lo, hi = -L - xb, L - xb
    e0 = np.sqrt(np.pi / A) / 2 * (erf(np.sqrt(A) * hi) - erf(np.sqrt(A) * lo))
    g = lambda u: 0.0 if np.isinf(u) else np.exp(-A * u * u)  # noqa: E731
    gu = lambda u: 0.0 if np.isinf(u) else u * np.exp(-A * u * u)  # noqa: E731
    e1 = (g(lo) - g(hi)) / (2 * A)  # int u e^{-A u^2}
    e2 = (gu(lo) - gu(hi)) / (2 * A) + e0 / (2 * A)  # int u^2 e^{-A u^2}
    return pref * e0, pref * (e2 + 2 * xb * e1 + xb**2 * e0)


def gauss_closed_form(spec, x, tup, L, weight_y2=False):
    """int_box prod_{i in tup} sw^2 exp(-c |x_i - y|^2 / 2) (|y|^2 if weight_y2) dy, c = sw^2/d."""
    c = spec.sw**2 / spec.d_in
    parts = [gauss_box_1d(x[list(tup), k], L, c) for k in range(spec.d_in)]
    y0 = np.prod([p[0] for p in parts])
    val = sum(parts[k][1] * y0 / parts[k][0] for k in range(spec.d_in)) if weight_y2 else y0
    return spec.sw ** (2 * len(tup)) * val


@pytest.mark.slow
@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("sw,scale", [(1.0, 1.0), (1.3, 100.0)])
def test_gauss_closed_form_including_infinite_cutoff(d, sw, scale):
    """K - sb^2 = sw^2 exp(-sw^2 |x - y|^2 / (2 d)) is separable per coordinate: every box integral is
    a product of 1-d Gaussian integrals (erf), at any cutoff and at Lambda = inf. P1's inputs
    (scale 1) and 100x them (|x| ~ 1, off-centre peaks)."""
    spec = networks.NetworkSpec("gauss", d, sw=sw)
    x = scale * inputs.paper_inputs("gauss", d)
    cuts = [0.5, 3.0, 1e4, np.inf]
    ds = feynman.vertex_integrals(spec, x, cuts)
    n = len(x)
    t4, t6 = correlators.multisets(n, 4), correlators.multisets(n, 6)
    expect = {
        "I4": [[gauss_closed_form(spec, x, t, L) for t in t4] for L in cuts],
        "I4_y2": [[gauss_closed_form(spec, x, t, L, weight_y2=True) for t in t4] for L in cuts],
        "J": [[[gauss_closed_form(spec, x, (a, b), L) for b in range(n)] for a in range(n)] for L in cuts],
        "K4": [[spec.sw**2 * gauss_closed_form(spec, x, t, L) for t in t4] for L in cuts],
        "I6": [[gauss_closed_form(spec, x, t, L) for t in t6] for L in cuts],
    }
    for v, e in expect.items():
        assert max_error(ds[v].values, e) < 1e-10, v
    assert np.array_equal(ds.I4.sel(cutoff=1e4), ds.I4.sel(cutoff=np.inf))  # beyond the decay radius


def test_box_rule_weights_integrate_polynomials_exactly():
    """Cumulative weights are the box volumes (2 Lambda)^d; sum w |y|^2 = d (2L)^(d-1) 2 L^3 / 3."""
    spec = spec_for("relu", 3)
    x = inputs.paper_inputs("relu", 3)
    cuts = np.array([0.7, 7.0, 1e3, 1e5])
    rule = feynman.box_rule(spec, x, cuts)
    vol, mom = np.zeros(len(cuts)), np.zeros(len(cuts))
    n_max = 0
    for y, w, lev in rule.chunks(max_nodes=5000):
        n_max = max(n_max, len(w))
        vol += np.bincount(lev, weights=w, minlength=len(cuts))
        mom += np.bincount(lev, weights=w * np.sum(y * y, axis=1), minlength=len(cuts))
    assert n_max <= 5000  # memory is bounded by the chunk size
    assert np.allclose(np.cumsum(vol), (2 * cuts) ** 3, rtol=1e-13, atol=0)
    assert np.allclose(np.cumsum(mom), 3 * (2 * cuts) ** 2 * 2 * cuts**3 / 3, rtol=1e-13, atol=0)
    assert np.all(np.diff(rule.level) >= 0)


# --------------------------------------------------------------------------- adaptive references


CASES_1D = [("erf", [3.0, 100.0, 1e4]), ("relu", [3.0, 100.0, 1e4]), ("gauss", [3.0, 1e4]),
            ("sin", [3.0, 1e4]), ("linear", [3.0, 100.0, 1e4])]


@pytest.mark.parametrize("act,cuts", CASES_1D)
@pytest.mark.parametrize("kind", ["K-sb2", "K"])
def test_d1_against_adaptive_quadrature(act, cuts, kind):
    """d_in = 1, P1's six inputs, all 126 + 462 multisets: scipy.integrate.quad_vec (the vector-valued
    QUADPACK-style adaptive Gauss-Kronrod of scipy.integrate.quad) on [-L, L] with breakpoints at 0
    and +-10^k (without them its first global rule can miss Gauss-net's bump of width ~1 on a
    constant background: with propagator K at L = 1e4 it returns 2 L sb^8, 0.14% low)."""
    spec = spec_for(act, 1)
    x = inputs.paper_inputs(act, 1)
    ds = feynman.vertex_integrals(spec, x, cuts, propagator=kind)
    f = lambda t: integrand_values(spec, x, np.array([[t]]), kind)[0]  # noqa: E731
    for i, L in enumerate(cuts):
        points = [p for p in (0.0, 1.0, -1.0, 10.0, -10.0, 100.0, -100.0, 1e3, -1e3) if abs(p) < L]
        ref = integrate.quad_vec(f, -L, L, points=points, epsrel=1e-12, epsabs=0, limit=2000)[0]
        for v, r in split(ref, len(x)).items():
            err = max_error(ds[v].values[i], r)
            assert err < 1e-6, (v, L, err)


def test_d1_scalar_quad_spot_checks():
    """A few single elements with scipy.integrate.quad and the plain gp_kernel as integrand."""
    for act, L, t in (("erf", 1e4, (0, 1, 4, 5)), ("relu", 1e4, (0, 0, 3, 5)), ("gauss", 50.0, (0, 2, 3, 5))):
        spec = spec_for(act, 1)
        x = inputs.paper_inputs(act, 1)
        ds = feynman.vertex_integrals(spec, x, [L], orders=(4,))
        pos = correlators.multiset_position(6, [t])[0]

        def f(y):
            return np.prod(kernels.gp_kernel(spec, x[list(t)], [[y]])[:, 0] - spec.sb**2)

        ref = integrate.quad(f, -L, L, points=[0.0, -1.0, 1.0], epsabs=0, epsrel=1e-12, limit=500)[0]
        assert abs(ds.I4.values[0, pos] / ref - 1) < 1e-9, act


@pytest.mark.slow
@pytest.mark.parametrize("act,cuts", [("erf", [2.0, 50.0]), ("relu", [2.0, 50.0]), ("gauss", [2.0, 50.0])])
def test_d2_against_cubature(act, cuts):
    """d_in = 2, P1's four inputs, every element of every integral: scipy.integrate.cubature
    (adaptive tensor Gauss-Kronrod) on the four quadrants (ReLU's kink at 0 on their corners)."""
    spec = spec_for(act, 2)
    x = inputs.paper_inputs(act, 2)
    ds = feynman.vertex_integrals(spec, x, cuts)
    f = lambda y: integrand_values(spec, x, y, "K-sb2")  # noqa: E731
    for i, L in enumerate(cuts):
        ref = 0.0
        for sx, sy in itertools.product((-1, 1), repeat=2):
            a = np.minimum([0.0, 0.0], [sx * L, sy * L])
            b = np.maximum([0.0, 0.0], [sx * L, sy * L])
            res = integrate.cubature(f, a, b, rtol=1e-10, atol=0, max_subdivisions=20000)
            ref = ref + res.estimate
        for v, r in split(ref, len(x)).items():
            err = max_error(ds[v].values[i], r)
            assert err < 1e-6, (v, L, err)


@pytest.mark.slow
@pytest.mark.parametrize("act", ["erf", "relu", "gauss"])
def test_d3_elements_against_cubature(act):
    """d_in = 3, P1's four inputs: all 35 I4 and 16 J at Lambda = 4 with cubature (tensor
    Gauss-Kronrod 15) on the eight octants."""
    spec = spec_for(act, 3)
    x = inputs.paper_inputs(act, 3)
    L = 4.0
    ds = feynman.vertex_integrals(spec, x, [L], orders=(4,))
    t4 = correlators.multisets(4, 4)

    def f(y):
        p = feynman.propagator(spec, x, y)
        return np.concatenate([np.prod(p[t4], axis=1), (p[:, None] * p[None]).reshape(16, -1)]).T

    ref = 0.0
    for s in itertools.product((-1, 1), repeat=3):
        a, b = np.minimum(0.0, np.array(s) * L), np.maximum(0.0, np.array(s) * L)
        ref = ref + integrate.cubature(f, a, b, rule="gk15", rtol=1e-10, atol=0).estimate
    assert max_error(ds.I4.values[0], ref[:35]) < 1e-6
    assert max_error(ds.J.values[0], ref[35:].reshape(4, 4)) < 1e-6


# --------------------------------------------------------------------------- nested cutoffs, dataset


@pytest.mark.slow
@pytest.mark.parametrize("act,d", [("erf", 1), ("relu", 2), ("gauss", 2), ("erf", 3)])
def test_nested_cutoffs_equal_separate_calls(act, d):
    spec = spec_for(act, d)
    x = inputs.paper_inputs(act, d)
    cuts = [0.4, 7.0, 100.0, 1e4] if d < 3 else [0.4, 7.0, 1e3]
    orders = (4, 6) if d < 3 else (4,)
    together = feynman.vertex_integrals(spec, x, cuts, orders=orders)
    for L in cuts:
        alone = feynman.vertex_integrals(spec, x, [L], orders=orders)
        for v in alone.data_vars:
            assert max_error(together[v].sel(cutoff=L).values, alone[v].values[0]) < 1e-8, (v, L)
    shuffled = feynman.vertex_integrals(spec, x, cuts[::-1], orders=orders)
    for v in together.data_vars:
        assert np.array_equal(shuffled[v].sel(cutoff=cuts).values, together[v].values)


def test_dataset_layout():
    spec = spec_for("erf", 1)
    x = inputs.paper_inputs("erf", 1)
    ds = feynman.vertex_integrals(spec, x, [10.0, 100.0], propagator="K")
    assert ds.I4.dims == ("cutoff", "t4") and ds.I6.dims == ("cutoff", "t6")
    assert ds.J.dims == ("cutoff", "point", "point2")
    assert ds.sizes["t4"] == 126 and ds.sizes["t6"] == 462
    assert np.array_equal(ds.t4_points.values, correlators.multisets(6, 4))
    assert np.array_equal(ds.t6_points.values, correlators.multisets(6, 6))
    assert np.array_equal(ds.x.values, x)
    assert {k: ds.attrs[k] for k in ("propagator", "activation", "d_in", "sw", "sb")} == {
        "propagator": "K", "activation": "erf", "d_in": 1, "sw": 1.0, "sb": 1.0}
    assert np.allclose(ds.J.values, np.swapaxes(ds.J.values, 1, 2), rtol=1e-14)
    only4 = feynman.vertex_integrals(spec, x, [10.0], orders=(4,))
    assert "I6" not in only4 and "t6" not in only4.dims


# --------------------------------------------------------------------------- errors


def test_infinite_cutoff_only_where_it_converges():
    for act, kind in (("erf", "K-sb2"), ("relu", "K-sb2"), ("gauss", "K"), ("linear", "K-sb2"), ("sin", "K")):
        spec = spec_for(act, 1)
        with pytest.raises(ValueError, match=f"'{act}'.*'{kind}'"):
            feynman.vertex_integrals(spec, inputs.paper_inputs(act, 1), [10.0, np.inf], propagator=kind)
    # Gauss-net with K and sb = 0 is the same convergent integral as K - sb^2
    spec = networks.NetworkSpec("gauss", 1, sb=0.0)
    x = inputs.paper_inputs("gauss", 1)
    a = feynman.vertex_integrals(spec, x, [np.inf], propagator="K")
    b = feynman.vertex_integrals(spec, x, [np.inf])
    assert np.allclose(a.I4.values, b.I4.values, rtol=1e-14, atol=0)


def test_bad_arguments_raise():
    spec = spec_for("erf", 1)
    x = inputs.paper_inputs("erf", 1)
    with pytest.raises(ValueError, match="'K-sb'"):
        feynman.vertex_integrals(spec, x, [10.0], propagator="K-sb")
    with pytest.raises(ValueError, match="'K-sb'"):
        feynman.propagator(spec, x, x, "K-sb")
    with pytest.raises(ValueError, match="positive"):
        feynman.vertex_integrals(spec, x, [0.0, 10.0])
    with pytest.raises(ValueError, match="distinct"):
        feynman.vertex_integrals(spec, x, [10.0, 10.0])
    with pytest.raises(ValueError, match="orders"):
        feynman.vertex_integrals(spec, x, [10.0], orders=(4, 8))
    with pytest.raises(ValueError, match="d_in"):
        feynman.vertex_integrals(networks.NetworkSpec("erf", 2), x, [10.0])


# --------------------------------------------------------------------------- diagram sums


def brute_g4_nonlocal(J, t4):
    out = np.zeros(len(t4))
    for k, t in enumerate(t4):
        for (a, b), (c, d) in (((0, 1), (2, 3)), ((0, 2), (1, 3)), ((0, 3), (1, 2))):
            out[k] += J[t[a], t[b]] * J[t[c], t[d]]
    return -8 * out


def brute_pairs_times(K, V4, n):
    """sum over the 15 ways to pick 2 of the 6 slots of K[pair] V4(sorted other four)."""
    t6 = correlators.multisets(n, 6)
    index4 = {tuple(t): i for i, t in enumerate(correlators.multisets(n, 4).tolist())}
    out = np.zeros(len(t6))
    for k, t in enumerate(t6.tolist()):
        for a, b in itertools.combinations(range(6), 2):
            rest = tuple(sorted(t[s] for s in range(6) if s not in (a, b)))
            out[k] += K[t[a], t[b]] * V4[index4[rest]]
    return out


def test_diagram_sums_match_brute_force_loops():
    rng = np.random.default_rng(3)
    n = 6
    t4 = correlators.multisets(n, 4)
    m = rng.normal(size=(n, n))
    J, K = m + m.T, m @ m.T
    I4, I4y2, K4 = rng.normal(size=(3, len(t4)))
    I6 = rng.normal(size=len(correlators.multisets(n, 6)))
    assert np.allclose(feynman.lambda_term_g4(I4), -24 * I4)
    assert np.allclose(feynman.lambda2_term_g4(I4y2), -24 * I4y2)
    assert np.allclose(feynman.kappa_term_g4(K4), -360 * K4)
    assert np.allclose(feynman.nonlocal_term_g4(J, t4), brute_g4_nonlocal(J, t4), rtol=1e-13)
    assert np.allclose(feynman.lambda_term_g6(K, I4, n), -24 * brute_pairs_times(K, I4, n), rtol=1e-13)
    assert np.allclose(feynman.kappa_term_g6(K, I6, K4, n),
                       -720 * I6 - 360 * brute_pairs_times(K, K4, n), rtol=1e-13)
    # leading (cutoff) axes broadcast
    J2, I42 = np.stack([J, 2 * J]), np.stack([I4, 3 * I4])
    assert np.allclose(feynman.nonlocal_term_g4(J2, t4)[1], 4 * brute_g4_nonlocal(J, t4))
    assert np.allclose(feynman.lambda_term_g6(K, I42, n)[1], -72 * brute_pairs_times(K, I4, n))


def test_lambda_term_g6_is_first_order_of_the_wick_expansion():
    """Sanity of the combinatorics on real integrals: with I4 of a product form I4(abcd) = v_a v_b v_c
    v_d, sum_15 K_ab I4(cdef) equals the brute force over all pairs; and the GP 6-pt check that the
    15 splits of a 6-multiset are the 15 pairs (a, b) of distinct slots."""
    n = 4
    v = np.arange(1.0, n + 1)
    t4 = correlators.multisets(n, 4)
    I4 = np.prod(v[t4], axis=1)
    K = np.ones((n, n))
    t6 = correlators.multisets(n, 6)
    expect = np.array([sum(np.prod(np.delete(v[t], [a, b])) for a, b in itertools.combinations(range(6), 2))
                       for t in t6])
    assert np.allclose(feynman.lambda_term_g6(K, I4, n), -24 * expect)
