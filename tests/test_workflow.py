"""End to end: the ci config through every rule in a scratch copy of the workflow."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

pytestmark = pytest.mark.slow


def test_correlator_dataset_contract(ci_run_dir):
    ds = xr.open_dataset(ci_run_dir / "results/correlators/erf_d1.nc", engine="h5netcdf")
    assert ds.sizes["t2"] == 21 and ds.sizes["t4"] == 126 and ds.sizes["t6"] == 462
    assert ds["x"].dims == ("point", "dim") and ds.sizes["point"] == 6
    for n in (2, 4, 6):
        for suffix in ("", "_stderr", "_background", "_rb", "_rb_stderr"):
            assert ds[f"G{n}{suffix}"].dims == ("width", "out", f"t{n}")
        assert ds[f"G{n}_gp"].dims == (f"t{n}",)
        assert ds[f"t{n}_points"].shape == (ds.sizes[f"t{n}"], n)
    for attr in ("config", "seed", "package_versions", "git_revision", "rule"):
        assert attr in ds.attrs
    assert ds.attrs["rule"] == "correlators" and ds.attrs["seed"] == 1


def test_relu_m4_is_five_over_n_at_every_width(ci_run_dir):
    ds = xr.open_dataset(ci_run_dir / "results/correlators/relu_d1.nc", engine="h5netcdf")
    gp = ds["G4_gp"]
    for est in ("G4", "G4_rb"):
        m4 = ds[est] / gp - 1
        z = (m4 - 5 / ds["width"]) / (ds[f"{est}_stderr"] / gp)
        assert float(np.abs(z).max()) < 4


def test_two_point_deviation_below_background(ci_run_dir):
    table = pd.read_csv(ci_run_dir / "results/tables/deviation.csv")
    m2 = table[(table["quantity"] == "m2") & (table["estimator"] == "plain")]
    assert len(m2) == 3 * 2 * 4
    assert np.all(m2["m"] < m2["background"])


def test_exact_values_agree_with_ensembles(ci_run_dir):
    ds = xr.open_dataset(ci_run_dir / "results/correlators/relu_d1.nc", engine="h5netcdf")
    np.testing.assert_allclose(ds["G4_exact"] / ds["G4_gp"] - 1, 5 / ds["width"] + 0 * ds["G4_gp"], rtol=1e-10)
    table = pd.read_csv(ci_run_dir / "results/tables/exact_vs_ensemble.csv")
    assert set(table["activation"]) == {"erf", "gauss", "relu"} and set(table["n"]) == {2, 4, 6}
    smooth = table[table["activation"] != "gauss"]
    assert smooth["frac_within_3"].mean() > 0.9
    scaling = pd.read_csv(ci_run_dir / "results/tables/cumulant_scaling.csv")
    assert np.allclose(scaling[scaling["estimator"] == "exact"]["rho"], 1.0, rtol=1e-9)


def test_broken_independence_survives_infinite_width(ci_run_dir):
    table = pd.read_csv(ci_run_dir / "results/tables/broken_independence.csv")
    measured = table[table["estimator"] == "rao_blackwell"]
    assert np.abs(measured["z"]).max() < 4
    inf = table[(table["estimator"] == "exact") & np.isinf(table["width"])]
    np.testing.assert_allclose(inf["value"], inf["eps"] ** 2, atol=1e-12)


def test_slopes_table_and_report(ci_run_dir):
    slopes = pd.read_csv(ci_run_dir / "results/tables/deviation_slopes.csv")
    assert set(slopes["quantity"]) == {"m2", "m4", "m6", "G6c"}
    assert slopes["n_widths"].between(0, 4).all()
    figures = sorted(p.name for p in (ci_run_dir / "results/figures").glob("deviation_*.png"))
    assert len(figures) == 6
    html = (ci_run_dir / "report.html").read_text()
    for name in ("deviation_slopes.csv", "deviation_relu_d1.png", "exact_vs_ensemble.png",
                 "cumulant_scaling.png", "broken_independence.png"):
        assert name in html, name


def test_report_landing_page_has_no_rst_errors(ci_run_dir):
    # docutils reports broken markup as "System Message" blocks inside the page.
    assert "System Message" not in (ci_run_dir / "report.html").read_text()


def test_eft_stage_tables(ci_run_dir):
    tables = ci_run_dir / "results/tables"
    fits = pd.read_csv(tables / "eft_fits.csv")
    assert set(fits["model"]) == {"M0", "M1", "M2", "M3"} and set(fits["activation"]) == {"erf", "gauss", "relu"}
    m1 = fits[fits["model"] == "M1"]
    # The measured coupling agrees with the same fit to the exact Delta G4 (sampling error only).
    assert np.all(np.abs(m1["lambda0_z_exact"]) < 4)
    assert np.all(fits[fits["model"] == "M0"]["test_mape"] == 100.0)
    rg = pd.read_csv(tables / "rg_slopes.csv")
    relu1 = rg[(rg["activation"] == "relu") & (rg["d_in"] == 1)].iloc[0]
    assert relu1["range_slope"] == pytest.approx(-5.0, abs=1e-6) and relu1["prediction_holds"]
    assert not relu1["p1_claim_holds"]
    # Erf: the exponent as Lambda -> inf is -d_in = the kernel-degree prediction (p = 0)
    erf = rg[rg["activation"] == "erf"]
    assert erf["prediction_holds"].all() and np.all(erf["predicted_slope"] == -erf["d_in"])
    replicates = pd.read_csv(tables / "eft_replicates_summary.csv")
    assert set(replicates["activation"]) == {"erf", "gauss", "relu"} and np.all(replicates["n_replicates"] == 2)
    # The summary restates the per-replicate table: the spread of its lambda_0 and its coverage.
    per_replicate = pd.read_csv(tables / "eft_replicates.csv").groupby("activation")
    summary_by = replicates.set_index("activation")
    spread = per_replicate["lambda0"].std(ddof=1).reindex(summary_by.index)
    coverage = per_replicate["z_exact"].apply(lambda z: np.mean(np.abs(z) < 3)).reindex(summary_by.index)
    assert np.allclose(spread, summary_by["lambda0_spread"], rtol=1e-12)
    assert np.array_equal(coverage, summary_by["frac_within_3se"])
    six = pd.read_csv(tables / "six_pt_summary.csv")
    assert np.all(six["n_multisets"] == 462)
    summary = pd.read_csv(tables / "replication_summary.csv")
    assert set(summary["verdict"]) <= {"reproduced", "differs", "untestable"}
    assert summary["claim"].is_unique and summary["evidence"].str.len().min() > 0
    html = (ci_run_dir / "report.html").read_text()
    for name in ("eft_fits.csv", "rg_running.png", "six_pt.png", "eft_replicates.png", "replication_summary.csv"):
        assert name in html, name
