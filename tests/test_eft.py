import numpy as np
import pytest
import xarray as xr

from nnqft import correlators, eft, feynman, inputs, kernels
from nnqft.blocks import Sampling
from nnqft.networks import NetworkSpec

RNG = np.random.default_rng(7)


def _random_kernel(p, rng):
    a = rng.normal(size=(p, p + 2))
    return a @ a.T / p


@pytest.mark.parametrize("n", [4, 6])
def test_wick_linear_term_is_the_odd_part_of_the_wick_sum(n):
    # W(K + eD) is a polynomial in e of degree n/2: (W(K+D) - W(K-D))/2 = L + [n = 6] W(D).
    k, d = _random_kernel(5, RNG), 0.3 * _random_kernel(5, RNG)
    t = correlators.multisets(5, n)
    odd = (correlators.gaussian_moments(k + d, t) - correlators.gaussian_moments(k - d, t)) / 2
    cubic = correlators.gaussian_moments(d, t) if n == 6 else 0.0
    np.testing.assert_allclose(correlators.wick_linear_term(k, d, t), odd - cubic, rtol=1e-12, atol=1e-12)


def test_control_variate_removes_exactly_the_linear_part():
    # Delta G4 per block: Wick4(K + D) - Wick4(K) - linear = sum over the 3 pairings of D D.
    p = 4
    k, d = _random_kernel(p, RNG), 0.2 * _random_kernel(p, RNG)
    rb = {2: (k + d)[tuple(correlators.multisets(p, 2).T)], 4: correlators.gaussian_moments(k + d, correlators.multisets(p, 4))}
    np.testing.assert_allclose(correlators.gp_deviation_blocks(rb, k, p, 4),
                               correlators.gaussian_moments(d, correlators.multisets(p, 4)), rtol=1e-12)


@pytest.fixture(scope="module")
def erf_width3():
    """20,000 Erf networks of width 3 on P1's six inputs, 40 blocks, with exact values."""
    spec, x = NetworkSpec("erf", 1), inputs.paper_inputs("erf", 1)
    return spec, x, eft.fit_dataset(spec, x, 3, Sampling(seed=11, n_networks=20000, n_blocks=40), "test/eft")


@pytest.mark.slow
def test_gp_deviation_estimator_is_unbiased_and_beats_rao_blackwell(erf_width3):
    spec, x, ds = erf_width3
    for n in (4, 6):
        obs, _ = eft.observed_deviation(ds, n, 3)
        truth = ds[f"G{n}_exact"].values[0] - ds[f"G{n}_gp"].values
        z = (obs.mean - truth) / np.sqrt(np.diag(obs.cov))
        assert np.abs(z).max() < 4.5 and abs(z.mean()) < 0.5, (n, z.mean(), np.abs(z).max())
        # Same networks, the plain Rao-Blackwell difference G_rb - G_gp: the control variate wins everywhere.
        assert np.all(np.diag(obs.cov) < ds[f"G{n}_rb_stderr"].values[0, 0] ** 2)


def test_shrunk_covariance_keeps_variances_and_is_positive_definite():
    blocks = RNG.normal(size=(30, 50)) * np.linspace(1, 1e3, 50)  # fewer blocks than elements
    cov = eft.shrunk_covariance(blocks)
    np.testing.assert_allclose(np.diag(cov), blocks.var(axis=0, ddof=1) / 30, rtol=1e-12)
    assert np.linalg.eigvalsh(cov).min() > 0


@pytest.mark.slow
def test_gls_matches_the_normal_equations_and_its_errors_cover():
    t, truth = 40, np.array([2.0, -3e-4])
    design = np.column_stack([RNG.normal(size=t), 1e4 * RNG.normal(size=t)])  # columns 4 decades apart
    a = RNG.normal(size=(t, t))
    cov = a @ a.T / t + np.eye(t)
    chol = np.linalg.cholesky(cov)
    zs = []
    for _ in range(400):
        y = design @ truth + chol @ RNG.normal(size=t)
        coef, coef_cov, identifiable, operator = eft.gls(design, y, cov)
        assert identifiable
        zs.append((coef - truth) / np.sqrt(np.diag(coef_cov)))
    inv = np.linalg.inv(cov)
    ref_cov = np.linalg.inv(design.T @ inv @ design)
    np.testing.assert_allclose(coef, ref_cov @ design.T @ inv @ y, rtol=1e-9)
    np.testing.assert_allclose(coef_cov, ref_cov, rtol=1e-9)
    np.testing.assert_allclose(operator @ cov @ operator.T, ref_cov, rtol=1e-9)  # the delta method's input
    zs = np.array(zs)
    assert np.all(np.abs(zs.mean(axis=0)) < 4 / np.sqrt(400)) and np.all(np.abs(zs.std(axis=0) - 1) < 0.1)


def test_metrics_of_the_gp_model_and_of_a_perfect_one():
    obs = eft.Observation(np.array([1.0, -2.0, 4.0]), np.diag([0.25, 1.0, 4.0]))
    m0 = eft.metrics(np.zeros(3), obs)
    assert m0["mape"] == 100.0 and m0["mse"] == pytest.approx(7.0) and m0["chi2_dof"] == pytest.approx(4.0)
    assert eft.metrics(obs.mean, obs, 1)["chi2_dof"] == 0.0


def _vertices(spec, x, cutoffs):
    return feynman.vertex_integrals(spec, x, cutoffs, propagator="K-sb2")


def test_fits_recover_couplings_planted_in_exact_model_data():
    # Data made by the M2 model itself: M1 misses lambda_2, M2 and M3 recover both, within errors.
    spec = NetworkSpec("erf", 1)
    train = _vertices(spec, inputs.fit_inputs("erf", "train"), [100.0]).isel(cutoff=0)
    test = _vertices(spec, inputs.fit_inputs("erf", "test"), [100.0]).isel(cutoff=0)
    planted = {"lambda0": 0.04, "lambda2": -4e-4}

    def model_data(v):
        return sum(value * eft.design_matrix(v, "M2")[:, i] for i, value in enumerate(planted.values()))

    y_train, y_test = model_data(train), model_data(test)
    cov = np.diag((0.01 * np.abs(y_train)) ** 2)
    rows, predictions = eft.fit_rows(train, test, eft.Observation(y_train, cov),
                                     eft.Observation(y_test, np.diag((0.01 * np.abs(y_test)) ** 2)), y_train, y_test)
    np.testing.assert_allclose(predictions["M2"], y_test, rtol=1e-6)
    by_model = {r["model"]: r for r in rows}
    assert by_model["M0"]["test_mape"] == 100.0
    for model in ("M2", "M3"):
        r = by_model[model]
        assert r["lambda0"] == pytest.approx(0.04, rel=1e-6) and r["lambda2"] == pytest.approx(-4e-4, rel=1e-6)
        assert r["test_mape"] < 1e-6 and r["test_mape_vs_exact"] < 1e-6
        assert r["lambda0_exact_fit"] == pytest.approx(r["lambda0"])
    assert by_model["M1"]["test_chi2_dof"] > 100 * by_model["M2"]["test_chi2_dof"]


def test_degenerate_designs_are_flagged_not_reported():
    # ReLU (sb = 0) on a ray: I4 and I4_y2 are both prod x_i times a power of the cutoff, so only
    # one combination of lambda_0 and lambda_2 is determined.
    spec = NetworkSpec("relu", 1, sb=0.0)
    v = _vertices(spec, inputs.fit_inputs("relu", "train"), [100.0]).isel(cutoff=0)
    y = -24 * 1e-10 * v["I4"].values
    obs = eft.Observation(y, np.diag((0.05 * y) ** 2))
    assert eft.fit(v, "M1", obs).identifiable and not eft.fit(v, "M2", obs).identifiable
    rows, predictions = eft.fit_rows(v, v, obs, obs, y, y)
    m2 = next(r for r in rows if r["model"] == "M2")
    assert np.isnan(m2["lambda0"]) and np.isnan(m2["lambda2_stderr"]) and not m2["identifiable"]
    np.testing.assert_allclose(predictions["M2"], y, rtol=1e-8)  # the prediction is still the best fit


def test_six_point_summary_measures_the_move_towards_the_reference():
    spec = NetworkSpec("erf", 1)
    x = inputs.fit_inputs("erf", "test")
    k = kernels.gp_kernel(spec, x)
    vertices = _vertices(spec, x, [100.0]).isel(cutoff=0)
    gp = correlators.gaussian_moments(k, correlators.multisets(6, 6))
    lam_term = feynman.lambda_term_g6(k, vertices["I4"].values, 6)
    # The reference is exactly GP + 1.0 x the lambda term: lambda0 = 0.5 closes half the gap everywhere.
    ref = gp + lam_term
    measured = eft.Observation(lam_term, np.diag(np.full(len(gp), 1e-30)))
    table = eft.six_point_table(vertices, k, 0.5, measured, gp, ref)
    summary = eft.six_point_summary(table)
    assert summary["ratio_measured_mean"] == pytest.approx(0.5) and summary["frac_improved_exact"] == 1.0
    assert len(table) == 462


def test_replicate_check_finds_a_bias_that_each_fit_hides_in_its_error():
    rng = np.random.default_rng(12)
    truth, se = -0.005, 1e-4
    honest = eft.replicate_check(rng.normal(truth, se, 400), np.full(400, se), np.full(400, truth))
    assert honest["unbiased"] and abs(honest["spread_to_stderr"] - 1) < 0.14  # 4 sigma of a 400-draw std
    assert honest["frac_within_3se"] > 0.98
    # every replicate 2 errors off in the same direction: each fit alone looks fine (|z| < 3)
    shifted = eft.replicate_check(rng.normal(truth + 2 * se, se, 20), np.full(20, se), np.full(20, truth))
    assert not shifted["unbiased"] and shifted["z_bias"] > 3
    assert shifted["relative_bias"] == pytest.approx(-2 * se / abs(truth), rel=0.5)  # -4%: smaller
    with pytest.raises(ValueError, match="at least 2"):
        eft.replicate_check([1.0], [0.1], [1.0])


def test_fit_vertices_are_the_order_four_integrals_at_the_cutoff_and_refuse_another_ensemble():
    spec = NetworkSpec("erf", 1, sw=1.0, sb=1.0)
    x = eft.split_inputs("erf", "train", 0.7)
    vertices = eft.fit_vertices(spec, x, 20.0, "K-sb2")
    direct = feynman.vertex_integrals(spec, x, [20.0], propagator="K-sb2", orders=(4,))
    assert float(vertices["cutoff"]) == 20.0 and "I6" not in vertices
    for name in ("I4", "I4_y2", "J", "K4"):
        np.testing.assert_array_equal(vertices[name].values, direct[name].values[0])
    ensemble = xr.Dataset(coords={"x": vertices["x"]},
                          attrs=dict(activation="erf", sw=1.0, sb=1.0, ensemble="eft/erf/train"))
    assert eft.vertices_for(vertices, ensemble, "v.nc") is vertices
    moved = ensemble.assign_coords(x=ensemble["x"] * 1.01)
    with pytest.raises(ValueError, match=r"v.nc holds integrals for erf .* ensemble eft/erf/train"):
        eft.vertices_for(vertices, moved, "v.nc")
    with pytest.raises(ValueError, match="sw=1.1"):
        eft.vertices_for(vertices, ensemble.assign_attrs(sw=1.1), "v.nc")
