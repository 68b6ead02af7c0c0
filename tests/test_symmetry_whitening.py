"""Step-down whitening: against least squares, null calibration, dependence, detection."""

import numpy as np
import pytest
from scipy import stats

from nnqft.symmetry import whitening


def lstsq_intercept_t(y, j, kept):
    """Reference: OLS of y_j on [1, y_kept] with numpy, t of the intercept."""
    x = np.column_stack([np.ones(len(y))] + [y[:, i] for i in kept])
    beta, *_ = np.linalg.lstsq(x, y[:, j], rcond=None)
    resid = y[:, j] - x @ beta
    dof = len(y) - x.shape[1]
    cov = resid @ resid / dof * np.linalg.inv(x.T @ x)
    return beta[0] / np.sqrt(cov[0, 0]), dof


def test_stepdown_matches_least_squares_and_the_one_sample_t_test():
    rng = np.random.default_rng(0)
    y = rng.normal(size=(40, 6)) @ rng.normal(size=(6, 6)) + 0.3
    t, dof, kept = whitening.stepdown_tstats(y)
    assert list(kept) == list(range(6))
    assert t[0] == pytest.approx(stats.ttest_1samp(y[:, 0], 0.0).statistic, rel=1e-10)
    for j in range(6):
        ref, ref_dof = lstsq_intercept_t(y, j, list(range(j)))
        assert t[j] == pytest.approx(ref, rel=1e-8) and dof[j] == ref_dof


def test_dependent_columns_are_dropped():
    rng = np.random.default_rng(1)
    y = rng.normal(size=(30, 3))
    y = np.column_stack([y, y[:, 0] - 2 * y[:, 2] + 1.0, y[:, 1] + 1e-6 * rng.normal(size=30),
                         y[:, 0] + 0.05 * rng.normal(size=30)])
    _, _, kept = whitening.stepdown_tstats(y)
    assert list(kept) == [0, 1, 2]  # exact, 1e-6 and 5% residuals are below the default 10%
    _, _, kept = whitening.stepdown_tstats(y, rtol=1e-3)
    assert list(kept) == [0, 1, 2, 5]


@pytest.mark.slow
def test_null_zscores_are_independent_standard_normals_for_any_covariance():
    """Correlated Gaussian rows (condition number ~30), zero mean: z pooled over replicas is
    N(0, 1) and z_i, z_j are uncorrelated (exact theory: any threshold for dropping columns)."""
    rng = np.random.default_rng(2)
    r, b, reps = 8, 30, 400
    a = rng.normal(size=(r, r)) @ np.diag(np.logspace(0, -1.5, r))
    zs = np.array([whitening.stepdown_zscores(rng.normal(size=(b, r)) @ a.T, rtol=1e-9) for _ in range(reps)])
    assert zs.shape == (reps, r)
    assert stats.kstest(zs.ravel(), "norm").pvalue > 1e-3
    corr = np.corrcoef(zs.T)
    assert np.abs(corr - np.eye(r)).max() < 4.5 / np.sqrt(reps)
    chi2 = (zs**2).sum(axis=1)
    assert stats.kstest(chi2, stats.chi2(r).cdf).pvalue > 1e-3


def test_a_mean_shift_is_detected_and_extremes_stay_finite():
    rng = np.random.default_rng(3)
    y = rng.normal(size=(50, 5)) + np.array([0.0, 0.0, 1.5, 0.0, 0.0])
    summary = whitening.summarize(whitening.stepdown_zscores(y))
    assert summary["detected"] and summary["sigma"] > 5 and summary["n_z"] == 5
    huge = whitening.stepdown_zscores(rng.normal(size=(50, 3)) * 1e-3 + 10.0)
    # t ~ 1e5 for the first column; a shift common to all columns is largely explained by the
    # first one in the later regressions, so only the first z is huge.
    assert np.all(np.isfinite(huge)) and huge[0] > 25 and whitening.summarize(huge)["sigma"] > 5


def test_t_to_z_and_chi2_significance():
    t = np.array([-3.0, -0.5, 0.0, 0.7, 2.5])
    np.testing.assert_allclose(whitening.t_to_z(t, 12), stats.norm.ppf(stats.t.cdf(t, 12)), rtol=1e-9, atol=1e-12)
    big = whitening.t_to_z(np.array([1e3, 1e6, 1e9]), 40)
    assert np.all(np.isfinite(big)) and np.all(np.diff(big) > 0)
    assert whitening.t_to_z(np.array([-1e6]), 40)[0] == pytest.approx(-big[1])
    assert whitening.chi2_log_sf(30.0, 10) == pytest.approx(stats.chi2.logsf(30.0, 10))
    assert np.isfinite(whitening.chi2_log_sf(1e6, 10))
    assert whitening.sigma_from_log_p(np.log(stats.norm.sf(3.0))) == pytest.approx(3.0, rel=1e-9)


def test_contrasts_group_sums_and_random_weights():
    rng = np.random.default_rng(4)
    d = rng.normal(size=(20, 2, 5))
    w = np.ones((2, 1, 5))
    y = whitening.contrasts(d, [np.array([0, 3])], 1, random_weights=w)
    s = d.std(axis=0, ddof=1)
    assert y.shape == (20, 4)
    np.testing.assert_allclose(y[:, 0], d[:, 0, 0] / s[0, 0] + d[:, 0, 3] / s[0, 3])
    np.testing.assert_allclose(y[:, 3], (d[:, 1] / s[1]).sum(axis=1))
    m = whitening.marginal_summary(d)
    assert m["n_marginal"] == 10
