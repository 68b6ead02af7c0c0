import functools
import itertools

import numpy as np
import pytest

from nnqft import correlators, estimator_variance, exact, kernels
from nnqft.inputs import paper_inputs
from nnqft.networks import NetworkSpec

WIDTHS = (2, 3, 4, 5, 10, 20, 50, 100, 500, 1000)
SETTINGS = [("gauss", 1.0), ("relu", 0.0), ("relu", 1.0)]
# ReLU with a bias at d_in = 3 is left out: its cone quadrature of order-12 moments takes ~8 s.
CASES = [(name, sb, d_in) for name, sb in SETTINGS for d_in in (1, 2, 3) if (name, sb, d_in) != ("relu", 1.0, 3)]


@functools.lru_cache(maxsize=None)
def _setting(name, sb, d_in):
    spec, x = NetworkSpec(name, d_in, sb=sb), paper_inputs(name, d_in)
    return spec, x, exact.neuron_moments(spec, x, estimator_variance.required_orders(6))


# ---------------------------------------------------------------- (a) the mean is the exact G^(n)


@pytest.mark.slow
@pytest.mark.parametrize("name, sb, d_in", CASES)
def test_mean_is_the_exact_correlator(name, sb, d_in):
    spec, x, moments = _setting(name, sb, d_in)
    want = exact.exact_correlators(spec, x, WIDTHS, moments=moments)
    for n in (2, 4, 6):
        got = estimator_variance.estimator_variances(spec, x, WIDTHS, n, moments=moments)
        np.testing.assert_allclose(got.mean, want[f"G{n}"], rtol=1e-10, atol=0)


# ---------------------------------------------------------------- (b) exact brute force


def _isserlis(cov, tuples):
    """E[prod_s f_{t_s}] for f ~ N(0, cov), cov (L, P, P), tuples (T, r): (L, T), by the recursion
    E[f_s0 prod_rest] = sum_j cov[s0, sj] E[prod_rest without sj] over slot subsets (memoised)."""

    @functools.lru_cache(maxsize=None)
    def rec(slots):
        if not slots:
            return 1.0
        first, rest = slots[0], slots[1:]
        return sum(
            cov[:, tuples[:, first], tuples[:, s]] * rec(rest[:i] + rest[i + 1 :]) for i, s in enumerate(rest)
        )

    return rec(tuple(range(tuples.shape[1])))


def _discrete_law_moments(atoms, probs, orders):
    """Neuron moments of a law with finitely many hidden-unit vectors h (J, P), probabilities (J,)."""
    p = atoms.shape[1]
    return {r: np.prod(atoms[:, correlators.multisets(p, r)], axis=-1).T @ probs for r in orders}


@pytest.mark.parametrize("n", [2, 4, 6])
def test_variances_by_enumerating_every_hidden_layer(n):
    """A discrete neuron law makes every hidden layer enumerable: J^N of them, exactly weighted.

    The expansion holds for any i.i.d. neuron law, so with the law's moments it must reproduce,
    to round-off, the variances obtained by enumeration, with the conditional moments from
    Isserlis' recursion: independent of the multigraph / partition tables.
    Signed hidden units and spread weights exercise every term.
    """
    rng = np.random.default_rng(7)
    p, j, sw, sb = 3, 4, 1.3, 0.7
    atoms = rng.normal(size=(j, p))
    probs = rng.dirichlet(np.ones(j))
    spec = NetworkSpec("erf", 1, sw=sw, sb=sb)  # only sw, sb and zero means matter here
    x = np.zeros((p, 1))
    moments = _discrete_law_moments(atoms, probs, estimator_variance.required_orders(n))
    t = correlators.multisets(p, n)
    widths = (1, 2, 3)
    got = estimator_variance.estimator_variances(spec, x, widths, n, moments=moments)
    for i, width in enumerate(widths):
        layers = np.array(list(itertools.product(range(j), repeat=width)))  # (J^N, N)
        weight = np.prod(probs[layers], axis=1)
        h = atoms[layers]  # (J^N, N, P)
        kh = sb**2 + sw**2 / width * np.einsum("lnp,lnq->lpq", h, h)
        y = _isserlis(kh, t)  # Rao-Blackwell value of each layer
        x2 = _isserlis(kh, np.repeat(t, 2, axis=1))  # E[X^2 | layer]
        mean = weight @ y
        np.testing.assert_allclose(got.mean[i], mean, rtol=1e-12)
        np.testing.assert_allclose(got.rao_blackwell[i], weight @ y**2 - mean**2, rtol=1e-10)
        np.testing.assert_allclose(got.plain[i], weight @ x2 - mean**2, rtol=1e-10)
        np.testing.assert_allclose(got.conditional_variance[i], weight @ (x2 - y**2), rtol=1e-9)


def _network_samples(spec, x, width, n_networks, rng):
    w0 = rng.normal(scale=spec.sw / np.sqrt(spec.d_in), size=(n_networks, width, spec.d_in))
    b0 = rng.normal(scale=spec.sb, size=(n_networks, width, 1))
    z = w0 @ x.T + b0  # (M, N, P)
    if spec.activation == "erf":
        from scipy.special import erf

        h = erf(z)
    else:  # gauss: exp(z - q(x, x))
        h = np.exp(z - (spec.sb**2 + spec.sw**2 * np.sum(x * x, 1) / spec.d_in))
    w1 = rng.normal(scale=spec.sw / np.sqrt(width), size=(n_networks, width))
    b1 = rng.normal(scale=spec.sb, size=(n_networks, 1))
    f = np.einsum("mn,mnp->mp", w1, h) + b1
    kh = spec.sb**2 + spec.sw**2 / width * np.einsum("mnp,mnq->mpq", h, h)
    return f, kh


@pytest.mark.slow
@pytest.mark.parametrize("name, sw, sb", [("erf", 1.0, 1.0), ("gauss", 0.2, 0.2)])
@pytest.mark.parametrize("width", [2, 3])
def test_variances_match_a_network_monte_carlo(name, sw, sb, width):
    """Sample variances of prod f and of Wick(Kh) over 2*10^5 numpy networks, z-scored with the
    standard error of a sample variance, sqrt((m4 - s^4) / M). Gauss-net needs sw = sb = 0.2 for
    that error to be reliable: at 0.5 its log-normal tails already make the sample variances of
    both estimators fall 3-7 standard errors short (the issue this module settles)."""
    spec, n = NetworkSpec(name, 1, sw=sw, sb=sb), 4
    x = np.array([[-0.8], [0.1], [0.6]])
    t = correlators.multisets(len(x), n)
    want = estimator_variance.estimator_variances(spec, x, [width], n)
    rng = np.random.default_rng(11 + width)
    f, kh = _network_samples(spec, x, width, 200_000, rng)
    values = {"plain": np.prod(f[:, t], axis=-1), "rao_blackwell": correlators.gaussian_moments(kh, t)}
    for est, v in values.items():
        dev = v - v.mean(0)
        s2 = np.mean(dev**2, 0) * len(v) / (len(v) - 1)
        se = np.sqrt((np.mean(dev**4, 0) - s2**2) / len(v))
        z = (s2 - getattr(want, est)[0]) / se
        assert np.all(np.abs(z) < 4.5), (est, z)


@pytest.mark.slow
@pytest.mark.parametrize("name, sb, d_in", CASES)
def test_law_of_total_variance(name, sb, d_in):
    """Var(plain) = Var(RB) + E[Var(plain | hidden)] >= Var(RB), on every element and width."""
    spec, x, moments = _setting(name, sb, d_in)
    for n in (2, 4, 6):
        ev = estimator_variance.estimator_variances(spec, x, WIDTHS + (10**4, 10**6), n, moments=moments)
        assert np.all(ev.rao_blackwell >= 0)
        assert np.all(ev.conditional_variance >= -1e-12 * ev.plain), (n, ev.conditional_variance.min())
        assert np.all(ev.reduction >= 1 - 1e-12)


def test_width_one_sb_zero_has_rank_one_kernel():
    """N = 1, sb = 0: f = w h with w ~ N(0, sw^2), so X = w^n prod h and Y = sw^n (n-1)!! prod h:
    Var X = sw^2n (2n-1)!! E[prod h^2] - G^2 and Var Y = sw^2n ((n-1)!!)^2 E[prod h^2] - G^2."""
    spec, x = NetworkSpec("relu", 2, sb=0.0, sw=1.2), paper_inputs("relu", 2)
    for n in (2, 4, 6):
        t = correlators.multisets(len(x), n)
        m = exact.neuron_moments(spec, x, (n, 2 * n))
        prod_h2 = m[2 * n][correlators.multiset_position(len(x), np.repeat(t, 2, axis=1))]
        g = spec.sw**n * exact._double_factorial(n - 1) * m[n]
        ev = estimator_variance.estimator_variances(spec, x, [1], n)
        np.testing.assert_allclose(ev.mean[0], g, rtol=1e-12)
        np.testing.assert_allclose(
            ev.plain[0], spec.sw ** (2 * n) * exact._double_factorial(2 * n - 1) * prod_h2 - g**2, rtol=1e-12
        )
        np.testing.assert_allclose(
            ev.rao_blackwell[0], spec.sw ** (2 * n) * exact._double_factorial(n - 1) ** 2 * prod_h2 - g**2, rtol=1e-12
        )


# ---------------------------------------------------------------- (c) N -> infinity


def _full_tensor(values, p, r):
    """A symmetric moment stored on multisets, as the full (P,)*r array."""
    idx = np.array(list(itertools.product(range(p), repeat=r)))
    return values[correlators.multiset_position(p, idx)].reshape((p,) * r)


def _rb_inverse_width_coefficient(spec, x, n):
    """lim N Var(RB) by the delta method: Wick_n(Kh) = Wick_n(K) + L(Kh - K) + ..., L linear,
    and N (Kh - K) has the single-neuron covariance of sw^2 h h^T, so the limit is
    sw^4 Var(sum_terms c h_a h_b) = sw^4 sum c c' (E[h_a h_b h_c h_d] - E[h_a h_b] E[h_c h_d])."""
    p = len(x)
    k = kernels.gp_kernel(spec, x)
    m = exact.neuron_moments(spec, x, (2, 4))
    m2, m4 = _full_tensor(m[2], p, 2), _full_tensor(m[4], p, 4)
    cov = m4 - m2[:, :, None, None] * m2[None, None]
    t = correlators.multisets(p, n)
    coef, first, second = [], [], []  # L's terms: coefficient (T,) on h_first h_second
    for matching in correlators.perfect_matchings(n):
        for j, (u, v) in enumerate(matching):
            others = [k[t[:, s], t[:, r]] for i, (s, r) in enumerate(matching) if i != j]
            coef.append(np.prod(others, axis=0))
            first.append(t[:, u])
            second.append(t[:, v])
    coef, first, second = np.array(coef), np.array(first), np.array(second)  # (terms, T)
    c = cov[first[:, None], second[:, None], first[None], second[None]]  # (terms, terms, T)
    return spec.sw**4 * np.einsum("it,jt,ijt->t", coef, coef, c)


@pytest.mark.slow
@pytest.mark.parametrize("name, sw, sb, d_in", [("gauss", 0.7, 0.6, 1), ("gauss", 1.0, 1.0, 2), ("relu", 1.0, 1.0, 2)])
@pytest.mark.parametrize("n", [4, 6])
def test_large_width_limits(name, sw, sb, d_in, n):
    """Var(RB) ~ c1 / N with c1 from the delta method; Var(plain) -> the GP's Wick_2n - Wick_n^2."""
    spec, x = NetworkSpec(name, d_in, sw=sw, sb=sb), paper_inputs(name, d_in)
    widths = np.array([1e7, 1e8])
    ev = estimator_variance.estimator_variances(spec, x, widths, n)
    k = kernels.gp_kernel(spec, x)[None]
    gp_var = (_isserlis(k, np.repeat(ev.tuples, 2, axis=1)) - _isserlis(k, ev.tuples) ** 2)[0]
    np.testing.assert_allclose(estimator_variance.gp_plain_variance(k[0], ev.tuples), gp_var, rtol=1e-12)
    c1 = _rb_inverse_width_coefficient(spec, x, n)
    scaled = widths[:, None] * ev.rao_blackwell
    # the relative 1/N^2 correction shrinks tenfold between the two widths
    err = np.abs(scaled / c1 - 1)
    assert np.all(err[1] < 1e-3) and np.all(err[1] <= 0.2 * err[0] + 1e-7), err
    rel = np.abs(ev.plain / gp_var - 1)
    assert np.all(rel[1] < 1e-3) and np.all(rel[1] <= 0.2 * rel[0] + 1e-9), rel
    assert np.all(ev.rao_blackwell[1] < 1e-3 * ev.plain[1])


# ---------------------------------------------------------------- interface


@pytest.mark.slow
def test_subset_of_multisets_matches_the_full_set():
    spec, x = NetworkSpec("gauss", 1), paper_inputs("gauss", 1)
    full = estimator_variance.estimator_variances(spec, x, WIDTHS, 6)
    pick = [0, 17, 200, 461]
    shuffled = full.tuples[pick][:, ::-1]  # any order within a row
    sub = estimator_variance.estimator_variances(spec, x, WIDTHS, 6, tuples=shuffled)
    for field in ("mean", "plain", "rao_blackwell"):
        np.testing.assert_allclose(getattr(sub, field), getattr(full, field)[:, pick], rtol=1e-13)


def test_errors_name_the_problem():
    spec, x = NetworkSpec("gauss", 1), paper_inputs("gauss", 1)
    with pytest.raises(ValueError, match="order n"):
        estimator_variance.estimator_variances(spec, x, WIDTHS, 3)
    with pytest.raises(ValueError, match="widths"):
        estimator_variance.estimator_variances(spec, x, [0.5], 4)
    with pytest.raises(ValueError, match="moments\\[8\\]"):
        estimator_variance.estimator_variances(spec, x, WIDTHS, 4, moments=exact.neuron_moments(spec, x, (2, 4, 6)))
    with pytest.raises(ValueError, match="zero-mean"):
        estimator_variance.estimator_variances(NetworkSpec("gauss", 1, mean_w0=0.1), x, WIDTHS, 4)
    with pytest.raises(ValueError, match="tuples"):
        estimator_variance.estimator_variances(spec, x, WIDTHS, 4, tuples=[[0, 1, 2, 6]])


def test_reduction_summary_rows():
    spec, x = NetworkSpec("gauss", 2), paper_inputs("gauss", 2)
    rows = estimator_variance.reduction_summary(spec, x, (2, 100), orders=(4,))
    assert [(r["n"], r["width"], r["n_elements"]) for r in rows] == [(4, 2, 35), (4, 100, 35)]
    # small widths: one neuron with an extreme log-normal unit dominates both variances, and the
    # factor is E[w^8] / E[w^4]^2 = 105 / 9 for w ~ N(0, 1)
    assert abs(rows[0]["true_reduction_median"] - 105 / 9) < 1e-4
    assert rows[0]["true_reduction_min"] <= rows[0]["true_reduction_median"] <= rows[0]["true_reduction_max"]


# ---------------------------------------------------------------- the workflow's table


@pytest.mark.slow
def test_estimator_variance_table_on_a_small_gauss_net_dataset():
    from nnqft import agreement, datasets, ensemble
    from nnqft.blocks import Sampling

    spec, x, widths = NetworkSpec("gauss", 2), paper_inputs("gauss", 2), [2, 20]
    sampling = Sampling(seed=5, n_networks=2000, n_blocks=10)
    means = ensemble.run_shard(spec, x, widths, sampling, ensemble="test/ev-table", blocks=range(10))
    ds = datasets.correlator_dataset(datasets.shard_dataset(means, widths, range(10), sampling.block_size), spec, x, 5)
    table = agreement.estimator_variance_table(ds, spec)
    assert list(table.columns) == [
        "n", "width", "n_elements", "true_reduction_min", "true_reduction_median", "estimated_reduction_min",
        "estimated_reduction_median", "stderr_ratio_plain_median", "stderr_ratio_rb_median", "rb_smaller_true",
    ]
    rows = [(r.n, r.width, r.n_elements) for r in table.itertuples()]
    assert rows == [(4, 2, 35), (4, 20, 35), (6, 2, 84), (6, 20, 84)]
    assert table["rb_smaller_true"].all() and (table["true_reduction_min"] > 11).all()
    ev = {n: estimator_variance.estimator_variances(spec, x, widths, n) for n in (4, 6)}
    for r in table.itertuples():
        i = widths.index(r.width)
        factor = (ds[f"G{r.n}_stderr"].values[i] / ds[f"G{r.n}_rb_stderr"].values[i]) ** 2
        np.testing.assert_allclose([r.estimated_reduction_min, r.estimated_reduction_median],
                                   [factor.min(), np.median(factor)], rtol=1e-12)
        np.testing.assert_allclose(r.true_reduction_median, np.median(ev[r.n].reduction[i]), rtol=1e-12)
        true_se = np.sqrt(ev[r.n].plain[i] / 2000)
        np.testing.assert_allclose(r.stderr_ratio_plain_median, np.median(ds[f"G{r.n}_stderr"].values[i] / true_se),
                                   rtol=1e-12)
    with pytest.raises(ValueError, match="sb=0.5"):
        agreement.estimator_variance_table(ds, NetworkSpec("gauss", 2, sb=0.5))
    with pytest.raises(ValueError, match="orders \\[8\\]"):
        agreement.estimator_variance_table(ds, spec, orders=(8,))
