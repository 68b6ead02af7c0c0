"""The anharmonic-oscillator stage's bookkeeping (docs/physics.md sec. 12): observables, extrapolations
against numpy's weighted polyfit, the summary table on synthetic sweeps with known limits, the
config's cross-key rules, and the replication verdicts."""

import copy

import numpy as np
import pandas as pd
import pytest
import yaml

from nnqft import config as nnqft_config
from nnqft import replication
from nnqft.fieldtheory import aho, aho_experiments as ax, aho_settings
from nnqft.settings import ConfigError

OBS = ax.Observables((0.0, 1.0, 2.0), ((0.0, 0.0, 0.0, 0.0), (0.5, 0.5, -0.5, -0.5)), (1.0, 2.0))


def test_observables_index_the_measured_times():
    np.testing.assert_allclose(OBS.times, [-1.0, -0.5, 0.0, 0.5, 1.0])
    np.testing.assert_array_equal(OBS.pairs, [[2, 2], [3, 1], [4, 0]])
    np.testing.assert_array_equal(OBS.quads, [[2, 2, 2, 2], [3, 3, 1, 1]])
    assert OBS.labels == ["G2(0)", "G2(1)", "G2(2)", "G4c(0,0,0,0)", "G4c(0.5,0.5,-0.5,-0.5)", "gap_eff(1,2)"]
    with pytest.raises(ValueError, match="gap_separations"):
        ax.Observables((0.0, 1.0), ((0, 0, 0, 0),), (1.0, 3.0)).check()


def test_exact_values_of_the_free_theory():
    """lambda -> 0: G2(s) = e^{-s}/2, G4_c = 0, gap_eff = m, in any box."""
    spec = aho.spectrum(32, 1.0, 0.0)
    values = ax.exact_values(spec, 3.0, OBS)
    np.testing.assert_allclose(values, [0.5, np.exp(-1) / 2, np.exp(-2) / 2, 0, 0, 1.0], atol=1e-14)
    np.testing.assert_allclose(ax.first_order_values(0.0, 1.0, 3.0, OBS), values, atol=1e-14)
    np.testing.assert_allclose(ax.line_values(spec, OBS), values, atol=1e-14)


def test_linear_extrapolation_against_weighted_polyfit():
    rng = np.random.default_rng(0)
    a2 = np.array([0.25, 0.125, 0.0625, 0.03125]) ** 2
    se = np.array([0.01, 0.02, 0.015, 0.03])
    y = 0.4 - 2.0 * a2 + rng.normal(scale=se)
    c0, c0_se, chi2 = ax.linear_extrapolation(a2[:, None], y, se)
    coef, cov = np.polyfit(a2, y, 1, w=1 / se, cov="unscaled")
    assert c0 == pytest.approx(coef[1], rel=1e-12) and c0_se == pytest.approx(np.sqrt(cov[1, 1]), rel=1e-10)
    assert chi2 == pytest.approx(np.sum(((np.polyval(coef, a2) - y) / se) ** 2) / 2, rel=1e-10)
    # two regulators, noiseless: the limit exactly; a regulator without spread is dropped
    inv_n, inv_c = np.array([0.04, 0.02, 0.01, 0.01, 0.01]), np.array([0.125, 0.125, 0.125, 0.25, 0.5])
    c0, _, chi2 = ax.linear_extrapolation(np.column_stack([inv_n, inv_c]), 1.5 + 3 * inv_n - 2 * inv_c, np.ones(5))
    assert c0 == pytest.approx(1.5, abs=1e-12) and chi2 == pytest.approx(0.0, abs=1e-20)
    c0, _, _ = ax.linear_extrapolation(np.column_stack([np.full(3, 0.1), [0.1, 0.2, 0.3]]), [1.1, 1.2, 1.3], np.ones(3))
    assert c0 == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("mass, cutoff", [(1.0, 2.0), (1.0, 8.0), (0.7, 5.0)])
def test_free_cutoff_error_against_quadrature(mass, cutoff):
    """G_Lambda(s) - e^{-m s}/(2m) = -(1/pi) int_Lambda^inf cos(p s)/(p^2 + m^2) dp: QUADPACK's Fourier
    integral (QAWF) for s > 0, (atan(Lambda/m) - pi/2)/(pi m) at s = 0."""
    from scipy import integrate

    s = np.array([0.0, 0.5, 1.0, 2.0, 3.0])
    tail = [integrate.quad(lambda p: 1 / (p**2 + mass**2), cutoff, np.inf, weight="cos", wvar=x, epsabs=1e-13)[0]
            for x in s[1:]]
    ref = [(np.arctan(cutoff / mass) - np.pi / 2) / (np.pi * mass)] + [-t / np.pi for t in tail]
    np.testing.assert_allclose(ax.free_cutoff_error(s, mass, cutoff), ref, rtol=0, atol=1e-11)


def test_free_cutoff_error_is_no_power_series_in_the_cutoff():
    """Why the network's G2 is corrected before extrapolation: on the default cutoffs 2, 4, 8 the free
    error of G2(1) misses a line in 1/Lambda by far more than the default run's errors (~5e-3)."""
    cutoffs = np.array([2.0, 4.0, 8.0])
    err = np.array([ax.free_cutoff_error([1.0], 1.0, c)[0] for c in cutoffs])
    _, _, chi2 = ax.linear_extrapolation(1 / cutoffs[:, None], err, np.full(3, 5e-3))
    assert chi2 > 4
    # at s = 0 it is -1/(pi m Lambda) + O(Lambda^-3): a line in 1/Lambda to 1e-3
    err0 = np.array([ax.free_cutoff_error([0.0], 1.0, c)[0] for c in cutoffs])
    np.testing.assert_allclose(err0, -1 / (np.pi * cutoffs) + 1 / (3 * np.pi * cutoffs**3), atol=2e-3)


def test_summary_table_extrapolates_synthetic_sweeps():
    labels = OBS.labels
    truth = np.arange(1.0, 1.0 + len(labels))
    exact = pd.DataFrame({"lambda": 1.0, "box": 3.0, "observable": labels, "exact": truth, "exact_line": truth,
                          "first_order": truth + 1})
    lat = pd.concat([pd.DataFrame({"method": "lattice", "lambda": 1.0, "box": 3.0, "spacing": a, "observable": labels,
                                   "value": truth + 5 * a**2, "stderr": 0.1}) for a in (0.5, 0.25, 0.125)])
    grid = ax.network_grid([10, 20, 40], [2.0, 4.0])
    assert grid == [(10, 4.0), (20, 4.0), (40, 2.0), (40, 4.0)]
    # measured = corrected + an oscillating cutoff error; only the corrected values are extrapolated
    net = pd.concat([pd.DataFrame({"method": "network_alpha0", "lambda": 1.0, "box": 3.0, "N": n, "cutoff": c,
                                   "observable": labels, "value": truth + 2 / n - 1 / c + np.sin(3 * c) / c**2,
                                   "stderr": 0.1, "corrected": truth + 2 / n - 1 / c, "corrected_stderr": 0.2})
                     for n, c in grid])
    table = ax.summary_table(exact, lat, [net])
    ext = table[table["setting"] == "extrapolated"]
    assert len(ext) == 2 * len(labels)
    np.testing.assert_allclose(ext["value"], np.tile(truth, 2), atol=1e-10)
    np.testing.assert_allclose(ext["corrected"], ext["value"], atol=0)
    per_run = table[table["setting"] == "N=40,Lambda=2"]
    np.testing.assert_allclose(per_run["value"] - per_run["corrected"], np.sin(6.0) / 4, atol=1e-14)
    np.testing.assert_allclose(table.loc[table["method"] == "lattice", "corrected"],
                               table.loc[table["method"] == "lattice", "value"], atol=0)
    np.testing.assert_allclose(ext["z"], 0.0, atol=1e-8)
    np.testing.assert_allclose(ext["z_first_order"], -1 / ext["stderr"], rtol=1e-8)
    assert set(table["kind"]) == {"G2", "G4c", "gap_eff"}
    assert (table["setting"] == "a=0.25").sum() == len(labels) and (table["setting"] == "N=40,Lambda=2").sum() == len(labels)


@pytest.fixture(scope="module")
def ci_config():
    return nnqft_config.validate(yaml.safe_load(open(nnqft_config.SCHEMA_PATH.parents[2] / "config" / "ci.yaml")))


@pytest.mark.parametrize("overrides, key", [
    (dict(boxes=[1.0]), "aho.boxes"),
    (dict(lattice={"spacings": [0.3]}), "aho.lattice.spacings"),
    (dict(network={"box": 5.0}), "aho.network.box"),
    (dict(gap_separations=[2.0, 1.0]), "aho.gap_separations"),
    (dict(chains={"n_chains": 4, "n_warmup": 10, "n_samples": 12, "n_steps": 4, "step_size": 0.1,
                  "target_acceptance": 0.8, "blocks_per_chain": 5}), "aho.chains"),
])
def test_cross_key_rules_name_the_key(ci_config, overrides, key):
    aho_settings.check(ci_config)  # the ci block itself passes
    cfg = copy.deepcopy(ci_config)
    for k, v in overrides.items():
        cfg["aho"][k] = {**cfg["aho"][k], **v} if isinstance(v, dict) else v
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        aho_settings.check(cfg)


def _aho_tables(network_shift: float):
    rows = []
    for lam in (0.1, 100.0):
        for method in ("lattice", "network_alpha0"):
            shift = network_shift if method.startswith("network") and lam == 100.0 else 0.0
            rows.append(dict(method=method, **{"lambda": lam}, box=3.0, observable="G2(0)", kind="G2",
                             setting="extrapolated", value=0.4 + shift, stderr=0.01, exact=0.4, first_order=0.2,
                             z=shift / 0.01, z_first_order=20.0, chi2_dof=1.5 + lam))
    samplers = pd.DataFrame({"method": ["lattice"], "ess_per_second": [100.0]})
    return {"aho.csv": pd.DataFrame(rows), "aho_lattice_samplers.csv": samplers,
            "aho_network_samplers.csv": pd.DataFrame({"method": ["network_alpha0"], "ess_per_second": [10.0]})}


def test_replication_verdicts_per_coupling():
    claims = [c for c in replication.CLAIMS if c.claim_id.startswith("P3-9")]
    good = replication.evaluate(claims, _aho_tables(0.0))
    assert list(good["verdict"]) == ["reproduced", "reproduced"]
    assert "first-order theory is excluded" in good["reason"][0] and "10 times" in good["reason"][1]
    bad = replication.evaluate(claims, _aho_tables(0.1))
    assert bad["verdict"][0] == "differs" and "lambda = 100" in bad["reason"][0]
    assert "lambda=0.1: agrees" in bad["ours"][0] and "lambda=100: differs" in bad["ours"][0]
    assert "chi2/dof max 1.6)" in bad["ours"][0] and "chi2/dof max 101.5)" in bad["ours"][0]


@pytest.mark.slow  # matplotlib and seaborn imports: seconds
def test_figures_draw_every_coupling_and_method():
    from nnqft.fieldtheory import aho_figures

    labels = OBS.labels
    exact = pd.concat([pd.DataFrame({"lambda": lam, "box": 3.0, "observable": labels, "exact": 1.0 + np.arange(6.0),
                                     "exact_line": 1.0, "first_order": 0.5}) for lam in (1.0, 10.0)])
    lat = pd.concat([pd.DataFrame({"method": "lattice", "lambda": lam, "box": 3.0, "spacing": a, "observable": labels,
                                   "value": 1.0 + np.arange(6.0) + a, "stderr": 0.1})
                     for lam in (1.0, 10.0) for a in (0.5, 0.25)])
    net = pd.concat([pd.DataFrame({"method": "network_alpha0", "lambda": lam, "box": 3.0, "N": 10, "cutoff": c,
                                   "observable": labels, "value": 1.0 + np.arange(6.0), "stderr": 0.1,
                                   "corrected": 1.0 + np.arange(6.0), "corrected_stderr": 0.1})
                     for lam in (1.0, 10.0) for c in (2.0, 4.0)])
    table = ax.summary_table(exact, lat, [net])
    samplers = pd.concat([
        lat.drop_duplicates(["lambda", "spacing"])[["method", "lambda", "box", "spacing"]].assign(seconds=1.0),
        net.drop_duplicates(["lambda", "cutoff"])[["method", "lambda", "box", "N", "cutoff"]].assign(seconds=2.0)])
    fig = aho_figures.propagators(table)
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) >= 2
    fig = aho_figures.cost(table, samplers)
    # one error-bar series per method and coupling, one point per run
    assert len(fig.axes) == 2 and all(len(a.containers) == 2 for a in fig.axes)
    assert sum(len(c.lines[0].get_xdata()) for a in fig.axes for c in a.containers) == 8
