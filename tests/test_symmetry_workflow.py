"""End to end: the symmetry stage's outputs from the shared ci run of the workflow."""

import pandas as pd
import pytest

pytestmark = pytest.mark.slow

TABLES = {
    "symmetry_invariance.csv": ["test", "group", "dim", "width", "n_pt", "case", "control", "mu", "n_z", "z_mean",
                                "z_std", "ks_p", "sigma", "detected", "expected", "passes"],
    "symmetry_power.csv": ["test", "mu", "n_networks", "n_pt", "sigma_mean", "power", "false_positive"],
    "symmetry_training.csv": ["target", "k", "mu", "n_seeds", "acc_mean", "acc_std", "delta_mean", "delta_sem"],
    "symmetry_training_effects.csv": ["target", "region", "delta_mean", "delta_sem", "t", "p", "effect"],
}


def test_tables_and_figures_exist_with_their_columns(ci_run_dir):
    for name, columns in TABLES.items():
        table = pd.read_csv(ci_run_dir / "results/tables" / name)
        assert len(table) > 0 and set(columns) <= set(table.columns), name
    for name in ("symmetry_invariance", "symmetry_training"):
        assert (ci_run_dir / "results/figures" / f"{name}.png").stat().st_size > 10_000
    assert "symmetry_invariance.csv" in (ci_run_dir / "report.html").read_text(errors="ignore")


def test_ci_invariance_and_controls(ci_run_dir):
    table = pd.read_csv(ci_run_dir / "results/tables/symmetry_invariance.csv")
    assert set(table["test"]) == {"output_rotation", "input_rotation", "translation"}
    null = table[(table["expected"] == "consistent") & (table["reference"] == "invariance")]
    assert not null["detected"].any() and (null["ks_p"] > 1e-3).all()
    joint = table[table["control"] & (table["n_pt"] == "2+4") & (table["width"] == 50)]
    assert len(joint) == 2 and joint["detected"].all()
    training = pd.read_csv(ci_run_dir / "results/tables/symmetry_training.csv")
    assert len(training) == 2 * 2 * 3
    # No symmetry breaking (k = 0 or mu = 0) trains the same networks: one accuracy per target.
    unbroken = training[(training["k"] == 0) | (training["mu"] == 0)]
    assert (unbroken.groupby("target")["acc_mean"].nunique() == 1).all()
