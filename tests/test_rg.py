"""Running of the quartic coupling: exponents against closed forms, errors against resampled data."""

import numpy as np
import pandas as pd
import pytest

from nnqft import eft, feynman, inputs, rg
from nnqft.networks import NetworkSpec

P1_CUTOFFS = [7.0, 10, 15, 20, 30, 40, 50, 70, 100, 200, 500, 1e3, 2e3, 5e3, 7e3, 1e4, 2e4, 4e4, 6e4, 8e4, 1e5]


def _running(spec, x, cutoffs, cov=None, coupling=0.1):
    """lambda(Lambda) for a Delta G4 made by the coupling ``coupling`` at Lambda = 100 (5% errors by default)."""
    vertices = feynman.vertex_integrals(spec, x, cutoffs, propagator="K-sb2", orders=(4,))
    delta = -24 * coupling * vertices["I4"].sel(cutoff=100.0).values
    obs = eft.Observation(delta, np.diag((0.05 * delta) ** 2) if cov is None else cov(delta))
    return vertices, obs, *rg.running_coupling(vertices, obs)


def test_relu_coupling_runs_as_an_exact_power_law_in_one_dimension():
    # ReLU (sb = 0) propagator x y / 2 for y > 0: I4 = prod x Lambda^5 / 80, so lambda ~ Lambda^-5 exactly.
    spec, x = NetworkSpec("relu", 1, sb=0.0), inputs.paper_inputs("relu", 1)
    cutoffs = [7.0, 30.0, 100.0, 1000.0, 3e3, 1e4, 3e4, 1e5]
    *_, running, factor = _running(spec, x, cutoffs)
    np.testing.assert_allclose(running["lambda0"], 0.1 * (100.0 / np.array(cutoffs)) ** 5, rtol=1e-6)
    line, asymptotic = rg.range_slope(running, factor), rg.asymptotic_slope(running, factor, 1000.0)
    assert line["range_slope"] == pytest.approx(-5.0, abs=1e-6) and line["range_r_squared"] == pytest.approx(1.0)
    assert asymptotic["asymptotic_slope"] == pytest.approx(-5.0, abs=1e-6)
    assert asymptotic["asymptotic_truncation"] < 1e-6 and asymptotic["n_asymptotic_cutoffs"] == 5
    # sampling errors move every lambda(Lambda) by the same factor: none reaches the slope
    assert line["range_slope_stderr"] == pytest.approx(rg.SLOPE_STDERR_FLOOR, rel=1e-3)
    assert rg.predicted_slope(spec, x) == -5.0


@pytest.mark.slow
@pytest.mark.parametrize("d_in", [1, 2, 3])
def test_erf_coupling_reaches_minus_d_in_only_asymptotically(d_in):
    # Erf (p = 0): I4 ~ Lambda^d_in, so lambda ~ Lambda^-d_in as Lambda -> inf. With sb != 0 the
    # propagator approaches its limits like 1/|y|, and over P1's cutoffs lambda(Lambda) is visibly curved.
    spec, x = NetworkSpec("erf", d_in), inputs.paper_inputs("erf", d_in)
    *_, running, factor = _running(spec, x, P1_CUTOFFS)
    asymptotic = rg.asymptotic_slope(running, factor, 1000.0)
    assert rg.predicted_slope(spec, x) == -d_in
    assert abs(asymptotic["asymptotic_slope"] + d_in) < 3 * asymptotic["asymptotic_slope_stderr"] < 3e-3
    local = rg.local_slopes(running)
    large = local[local["cutoff"] > 1000]["local_slope"].values + d_in
    assert np.all(np.diff(np.abs(large)) < 0) and abs(large[-1]) < 2e-3  # monotone approach to -d_in
    line = rg.range_slope(running, factor)
    assert abs(line["range_slope"] + d_in) > 3 * line["range_slope_stderr"] and line["range_r_squared"] < 1


def test_asymptotic_fit_recovers_a_planted_exponent_with_its_corrections():
    # log|lambda| = c - k log L + (a log L + b) / L + e log^2 L / L^2: the fit leaves out the last term,
    # and the truncation error it reports covers it.
    cutoffs = np.array(P1_CUTOFFS)
    for k, a, b, e in [(1.0, 0.4, -2.0, 0.0), (2.0, -3.0, 5.0, 5.0), (3.0, 1.0, 1.0, -20.0)]:
        log_lambda = 0.3 - k * np.log(cutoffs) + (a * np.log(cutoffs) + b) / cutoffs + e * np.log(cutoffs) ** 2 / cutoffs**2
        running = pd.DataFrame(dict(cutoff=cutoffs, lambda0=np.exp(log_lambda)))
        fit = rg.asymptotic_slope(running, np.zeros((len(cutoffs), 1)), 100.0)
        assert abs(fit["asymptotic_slope"] + k) < 3 * fit["asymptotic_slope_stderr"]
        if e == 0:
            assert fit["asymptotic_slope"] == pytest.approx(-k, abs=1e-9)


@pytest.mark.slow
def test_slope_errors_match_the_spread_of_refits_to_resampled_data():
    # Delta method against Monte Carlo: refit lambda(Lambda) to 400 draws of Delta G4 from its law.
    rng = np.random.default_rng(3)
    spec, x = NetworkSpec("erf", 1), inputs.paper_inputs("erf", 1)

    def correlated(delta):  # 20% errors, correlated
        a = rng.normal(size=(len(delta), len(delta)))
        s = a @ a.T / len(delta) + np.eye(len(delta))
        scale = 0.2 * np.abs(delta) / np.sqrt(np.diag(s))
        return s * np.outer(scale, scale)

    # from 30 up: at Lambda = 7 this noise makes lambda uncertain by 46%, beyond the delta method
    cutoffs = [30.0, 100.0, 1000.0, 3e3, 1e4, 3e4, 1e5]
    vertices, obs, running, factor = _running(spec, x, cutoffs, cov=correlated)
    predicted_line = rg.range_slope(running, factor)["range_slope_stderr"]
    predicted_asymptotic = rg.asymptotic_slope(running, factor, 1000.0)["asymptotic_stat_stderr"]
    assert predicted_line > 10 * rg.SLOPE_STDERR_FLOOR  # the noise is visible above the floor
    lines, asymptotics = [], []
    for draw in rng.multivariate_normal(obs.mean, obs.cov, size=400):
        refit, _ = rg.running_coupling(vertices, eft.Observation(draw, obs.cov))
        lines.append(rg.range_slope(refit, factor)["range_slope"])
        asymptotics.append(rg.asymptotic_slope(refit, factor, 1000.0)["asymptotic_slope"])
    # the standard deviation of 400 normal draws is known to 3.5%; 4 sigma
    assert np.std(lines, ddof=1) / predicted_line == pytest.approx(1.0, abs=0.14)
    assert np.std(asymptotics, ddof=1) / predicted_asymptotic == pytest.approx(1.0, abs=0.14)


def test_verdicts_compare_both_slopes_with_both_claims():
    row = dict(predicted_slope=-5.0, p1_claim_slope=-1, asymptotic_slope=-5.000001, asymptotic_slope_stderr=1e-6,
               range_slope=-5.1, range_slope_stderr=0.01)
    v = rg.verdicts(row)
    assert v["z_prediction"] == pytest.approx(-1.0) and v["prediction_holds"] and not v["p1_claim_holds"]
    assert v["range_z_prediction"] == pytest.approx(-10.0) and not v["range_prediction_holds"]


def test_kernel_degree_of_each_activation():
    x = inputs.paper_inputs("erf", 1)
    assert rg.kernel_degree(NetworkSpec("erf", 1), x) == 0.0
    assert rg.kernel_degree(NetworkSpec("relu", 1, sb=0.0), inputs.paper_inputs("relu", 1)) == 1.0
    assert np.isnan(rg.kernel_degree(NetworkSpec("gauss", 1), 0.01 * x))
    assert rg.kernel_degree(NetworkSpec("gauss", 1), 0.01 * x, propagator="K") == 0.0
    assert rg.predicted_slope(NetworkSpec("erf", 3), inputs.paper_inputs("erf", 3)) == -3.0
