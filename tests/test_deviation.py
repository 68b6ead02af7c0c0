"""Weighted fits of deviations against width, against scipy's curve_fit (an independent implementation)."""

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import curve_fit

from nnqft import deviation, ntk


def _reference(model, x, y, sigma, p0):
    """curve_fit with absolute errors, then widened by sqrt(chi2/dof) when that exceeds 1 (our rule)."""
    coef, cov = curve_fit(model, x, y, p0=p0, sigma=sigma, absolute_sigma=True)
    chi2_dof = np.sum(((y - model(x, *coef)) / sigma) ** 2) / (len(x) - len(coef))
    return coef, np.sqrt(np.diag(cov)) * np.sqrt(max(chi2_dof, 1.0)), chi2_dof


@pytest.mark.parametrize("noise", [0.3, 3.0])  # chi2/dof below and above 1
def test_inverse_width_terms_match_curve_fit(noise):
    n = np.array([4.0, 8.0, 16.0, 32.0, 64.0])
    sigma = 0.02 / n
    rng = np.random.default_rng(7)
    m = 0.01 / n - 0.014 / n**2 + noise * sigma * rng.standard_normal(len(n))
    got = deviation.inverse_width_terms(n, m, sigma)
    coef, err, chi2_dof = _reference(lambda w, b1, b2: b1 / w + b2 / w**2, n, m, sigma, (0.01, 0.0))
    np.testing.assert_allclose([got["b1"], got["b2"]], coef, rtol=1e-6)  # curve_fit iterates to ~1e-8
    np.testing.assert_allclose([got["b1_stderr"], got["b2_stderr"]], err, rtol=1e-6)
    assert got["b_chi2_dof"] == pytest.approx(chi2_dof, rel=1e-8)


def test_inverse_width_terms_recover_exact_coefficients_and_need_three_widths():
    n = np.array([4.0, 8.0, 16.0])
    got = deviation.inverse_width_terms(n, 0.0172 / n + 0.001 / n**2, np.full(3, 1e-4))
    assert got["b1"] == pytest.approx(0.0172, rel=1e-10) and got["b2"] == pytest.approx(0.001, rel=1e-8)
    assert np.isnan(deviation.inverse_width_terms(n[:2], 1 / n[:2], np.ones(2))["b1"])


def test_loglog_slope_matches_curve_fit_in_log_space():
    n = np.array([2.0, 5.0, 20.0, 100.0, 1000.0])
    rng = np.random.default_rng(3)
    m = 0.8 * n**-1.0 * (1 + 0.05 * rng.standard_normal(len(n)))
    stderr = 0.03 * m
    got = deviation.loglog_slope(n, m, stderr)
    sigma = stderr / (m * np.log(10))
    coef, err, chi2_dof = _reference(lambda x, a, s: a + s * x, np.log10(n), np.log10(m), sigma, (0.0, -1.0))
    np.testing.assert_allclose([got["intercept"], got["slope"]], coef, rtol=1e-8)
    assert got["slope_stderr"] == pytest.approx(err[1], rel=1e-6)
    assert got["chi2_dof"] == pytest.approx(chi2_dof, rel=1e-8)


def test_ntk_bias_rows_carry_the_two_term_fit_and_variance_rows_do_not():
    n = np.array([4, 8, 16, 32])
    bias = 0.01 / n - 0.014 / n**2
    table = pd.DataFrame(dict(activation="erf", depth=6, width=n, bias=bias, bias_stderr=0.02 * bias,
                              bias_resolved=True, relvar=2.6 / n, relvar_stderr=0.1 / n, relvar_cv=np.nan,
                              relvar_cv_stderr=np.nan, bias_cv=np.nan, bias_cv_stderr=np.nan, bias_cv_resolved=False))
    rows = ntk.slope_rows(table).set_index("quantity")
    assert rows.loc["bias", "b1"] == pytest.approx(0.01, rel=1e-8)
    assert rows.loc["bias", "b2"] == pytest.approx(-0.014, rel=1e-7)
    assert rows.loc["bias", "slope"] > -0.9  # the curvature pulls the log-log slope off -1
    assert np.isnan(rows.loc["relvar", "b1"])
