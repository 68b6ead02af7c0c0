import numpy as np
import pandas as pd
import pytest

from nnqft import replication, rg

RNG = np.random.default_rng(3)


def test_consistent_with_zero_uses_a_family_wise_bound():
    assert replication.consistent_with_zero(RNG.normal(size=1000))
    assert not replication.consistent_with_zero(np.r_[RNG.normal(size=1000), 6.0])
    # One |z| = 3.5 is unremarkable among 400 z-scores but not on its own.
    assert replication.consistent_with_zero(np.r_[np.zeros(399), 3.5])
    assert not replication.consistent_with_zero([3.5])
    assert not replication.consistent_with_zero([])


def _slopes(values, errors, quantity="m4"):
    return pd.DataFrame(dict(activation="erf", d_in=range(1, len(values) + 1), quantity=quantity,
                             estimator="rao_blackwell", slope=values, slope_stderr=errors))


def _claim(claim_id):
    return next(c for c in replication.CLAIMS if c.claim_id == claim_id)


@pytest.mark.parametrize("slopes, verdict", [([-1.01, -0.98, -1.03], "reproduced"), ([-1.01, -0.8, -1.0], "differs")])
def test_falloff_verdict_follows_the_slope_errors(slopes, verdict):
    tables = {"deviation_slopes.csv": _slopes(slopes, [0.02, 0.02, 0.02]), "deviation.csv": pd.DataFrame()}
    row = replication.evaluate([_claim("P1-2 1/N falloff")], tables).iloc[0]
    assert row["verdict"] == verdict and "deviation_slopes.csv" in row["evidence"]


def test_missing_tables_make_a_claim_untestable():
    row = replication.evaluate([_claim("P1-7 six-point")], {}).iloc[0]
    assert row["verdict"] == "untestable" and "six_pt_summary.csv" in row["reason"]


def _rg(activation, slopes, predicted, range_slopes=None):
    d = np.arange(1, len(slopes) + 1)
    err = np.full(len(slopes), 1e-6)
    row = dict(activation=activation, d_in=d, predicted_slope=predicted, p1_claim_slope=-d, asymptotic_slope=slopes,
               asymptotic_slope_stderr=err, range_slope=slopes if range_slopes is None else range_slopes,
               range_slope_stderr=err)
    return pd.DataFrame([{**r, **rg.verdicts(r)} for r in pd.DataFrame(row).to_dict("records")])


def test_beta_function_verdict_names_the_kernel_degree_prediction():
    tables = {"rg_slopes.csv": pd.concat([_rg("erf", [-1.0, -2.0], [-1, -2], range_slopes=[-1.02, -2.0]),
                                          _rg("relu", [-5.0, -6.0], [-5, -6])])}
    rows = replication.evaluate([_claim("P1-6 beta Erf"), _claim("P1-6 beta ReLU"), _claim("P1-6 beta Gauss")], tables)
    assert list(rows["verdict"]) == ["reproduced", "differs", "untestable"]
    assert "misses -d_in at d_in = 1 (-20000 sigma)" in rows.iloc[0]["reason"]
    assert "-5, -6" in rows.iloc[1]["reason"]
    tables = {"rg_slopes.csv": _rg("relu", [-5.0, -6.0], [-5, -5])}
    row = replication.evaluate([_claim("P1-6 beta ReLU")], tables).iloc[0]
    assert row["verdict"] == "differs" and "kernel-degree prediction at d_in = 2" in row["reason"]


def _fits(drop_erf, drop_gauss, identifiable=True):
    rows = []
    for activation, drop in (("erf", drop_erf), ("gauss", drop_gauss)):
        rows.append(dict(activation=activation, model="M1", train_chi2=100.0 + drop, identifiable=True))
        rows.append(dict(activation=activation, model="M2", train_chi2=100.0, identifiable=identifiable))
    return pd.DataFrame(rows)


@pytest.mark.parametrize("drops, identifiable, verdict", [
    ((50.0, 1.0), True, "reproduced"),   # Erf resolves lambda(y), Gauss does not
    ((50.0, 50.0), True, "differs"),     # Gauss resolves it too
    ((50.0, 1.0), False, "differs"),     # degenerate design: nothing is resolved
])
def test_naturalness_is_a_likelihood_ratio_test(drops, identifiable, verdict):
    row = replication.evaluate([_claim("P1-5 naturalness")], {"eft_fits.csv": _fits(*drops, identifiable)}).iloc[0]
    assert row["verdict"] == verdict


def test_every_claim_links_a_file_and_ids_are_unique():
    ids = [c.claim_id for c in replication.CLAIMS]
    assert len(ids) == len(set(ids))
    for claim in replication.CLAIMS:
        assert any(name.endswith(".csv") for name in claim.evidence)
        assert any(name.endswith(".png") for name in claim.evidence), claim.claim_id


@pytest.mark.parametrize("unbiased", [True, False])
def test_coupling_fit_row_reports_the_replicate_check(unbiased):
    fits = pd.DataFrame([dict(activation="gauss", model="M1", lambda0=-0.00501, lambda0_stderr=1.1e-4,
                              lambda0_exact_fit=-0.00535, test_mape=1.0, test_mape_vs_exact=2.0, test_chi2_dof=0.5)])
    rep = pd.DataFrame([dict(activation="gauss", n_replicates=20, relative_bias=-0.081, z_bias=-17.6,
                             spread_to_stderr=1.05, frac_within_3se=0.3, unbiased=unbiased)])
    tables = {"eft_fits.csv": fits, "eft_replicates_summary.csv": rep}
    row = replication.evaluate([_claim("P1-4 fit Gauss")], tables).iloc[0]
    assert row["verdict"] == "reproduced" and "20 replicate ensembles: mean -8.1% against" in row["ours"]
    assert ("understates the sampling distribution" in row["reason"]) != unbiased
    assert "eft_replicates_summary.csv" in row["evidence"]


# ------------------------------------------------------------------ non-finite numbers: "invalid", never dropped


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_z_scores_are_not_dropped(bad):
    with pytest.raises(replication.InvalidEvidence, match=r"1 of 1001 values of the z-scores are NaN or infinite"):
        replication.consistent_with_zero(np.r_[RNG.normal(size=1000), bad])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_non_finite_z_score_makes_the_claim_invalid_with_the_reason(bad):
    z = np.r_[RNG.normal(size=50), bad]
    tables = {"cosnet_propagator.csv": pd.DataFrame(dict(z=z))}
    row = replication.evaluate([_claim("P3-4 free scalar")], tables).iloc[0]
    assert row["verdict"] == "invalid"
    assert "1 of 51 values of cosnet_propagator.csv z" in row["reason"] and "NaN or infinite" in row["reason"]
    # the same z-scores, finite, give a verdict
    tables = {"cosnet_propagator.csv": pd.DataFrame(dict(z=z[:-1]))}
    assert replication.evaluate([_claim("P3-4 free scalar")], tables).iloc[0]["verdict"] == "reproduced"


def test_falloff_sets_aside_unfitted_slopes_but_not_a_non_finite_error():
    tables = {"deviation_slopes.csv": _slopes([-1.01, np.nan, -1.0], [0.02, np.nan, 0.02]), "deviation.csv": pd.DataFrame()}
    row = replication.evaluate([_claim("P1-2 1/N falloff")], tables).iloc[0]
    assert row["verdict"] == "reproduced" and "over 2 sweeps" in row["ours"]  # NaN slope: below noise, documented
    tables["deviation_slopes.csv"] = _slopes([-1.01, -0.99, -1.0], [0.02, 0.0, 0.02])  # zero error: z = inf
    row = replication.evaluate([_claim("P1-2 1/N falloff")], tables).iloc[0]
    assert row["verdict"] == "invalid" and "deviation_slopes.csv z-scores of the fitted m4 slopes" in row["reason"]


def test_broken_independence_with_an_infinite_z_is_invalid():
    table = pd.DataFrame(dict(estimator=["rao_blackwell", "rao_blackwell", "exact"], eps=[0.0, 0.5, 0.5],
                              width=[100.0, 100.0, np.inf], value=[0.0, 0.3, 0.3], stderr=[0.01, 0.01, 0.0],
                              exact=[0.0, 0.3, 0.3], z=[0.1, np.inf, np.nan]))
    row = replication.evaluate([_claim("P3-3 broken independence")], {"broken_independence.csv": table}).iloc[0]
    assert row["verdict"] == "invalid" and "broken_independence.csv z (Rao-Blackwell)" in row["reason"]
    table.loc[1, "z"] = 0.2  # the exact rows' z (NaN) is not part of the verdict
    row = replication.evaluate([_claim("P3-3 broken independence")], {"broken_independence.csv": table}).iloc[0]
    assert row["verdict"] == "reproduced"


def test_coupling_fit_with_a_nan_mape_is_invalid():
    fits = pd.DataFrame([dict(activation="gauss", model="M1", lambda0=-0.005, lambda0_stderr=1e-4,
                              lambda0_exact_fit=-0.005, test_mape=np.nan, test_mape_vs_exact=2.0, test_chi2_dof=0.5)])
    rep = pd.DataFrame([dict(activation="gauss", n_replicates=20, relative_bias=0.0, z_bias=0.0,
                             spread_to_stderr=1.0, frac_within_3se=1.0, unbiased=True)])
    row = replication.evaluate([_claim("P1-4 fit Gauss")], {"eft_fits.csv": fits, "eft_replicates_summary.csv": rep}).iloc[0]
    assert row["verdict"] == "invalid" and "test_mape" in row["reason"]
    assert "invalid" in replication.VERDICTS
