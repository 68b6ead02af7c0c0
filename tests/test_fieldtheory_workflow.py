"""End to end: the field-theory stage's outputs from the shared ci run of the workflow."""

import pandas as pd
import pytest

pytestmark = pytest.mark.slow

TABLES = {
    "cosnet_propagator.csv": ["d", "parametrisation", "N", "m", "cutoff", "separation", "measured", "stderr", "exact"],
    "cosnet_connected4.csv": ["points", "estimator", "measured", "stderr", "exact", "z"],
    "cosnet_variance.csv": ["variance", "stderr", "exact"],
    "cosnet_variance_ratio.csv": ["ratio", "stderr", "exact"],
    "phi4_first_order.csv": ["lambda", "quantity", "measured", "stderr", "first_order", "z", "ess", "perturbative"],
    "phi4_ess.csv": ["lambda", "ess", "ess_fraction", "quadrature_rel_error"],
    "cluster_decomposition.csv": ["case", "N", "measured", "stderr", "exact", "exact_limit", "z"],
    "action_vertex.csv": ["theory", "points", "diameter", "measured", "stderr", "expected"],
    "action_summary.csv": ["recovered_lambda", "stderr", "offdiag_chi2_per_dof"],
    "action_conditioning.csv": ["spacing_factor", "condition_number"],
    "os_checks.csv": ["check", "measured", "stderr", "exact", "z"],
}


def test_tables_and_figures_exist_with_their_columns(ci_run_dir):
    for name, columns in TABLES.items():
        table = pd.read_csv(ci_run_dir / "results/tables" / name)
        assert len(table) > 0 and set(columns) <= set(table.columns), name
    for name in ("cosnet_propagator", "phi4_first_order", "cluster_decomposition", "action_vertex", "os_checks"):
        assert (ci_run_dir / "results/figures" / f"{name}.png").stat().st_size > 10_000


def test_ci_numbers_are_sane(ci_run_dir):
    tables = ci_run_dir / "results/tables"
    prop = pd.read_csv(tables / "cosnet_propagator.csv")
    assert prop["z"].abs().max() < 5
    assert (pd.read_csv(tables / "phi4_ess.csv")["quadrature_rel_error"] < 1e-6).all()
    plateaus = pd.read_csv(tables / "cluster_decomposition.csv")
    cos = plateaus[plateaus["case"] == "cosnet"]
    assert (cos["measured"] > 3 * cos["stderr"]).all() and (cos["z"].abs() < 5).all()
    ratio = pd.read_csv(tables / "cosnet_variance_ratio.csv")
    assert (ratio.loc[ratio["estimator"] == "rao_blackwell", "exact"] < 1).all()
    os_table = pd.read_csv(tables / "os_checks.csv")
    assert (os_table.loc[os_table["check"] == "reflection", "exact"] < 0).all()
