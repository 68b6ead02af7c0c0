"""CI's reproducibility check: the ci run equals the golden record (nnqft.golden; `make golden`)."""

import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nnqft import golden

RECORD = Path(__file__).resolve().parent / "golden"


@pytest.mark.slow
def test_ci_run_equals_the_golden_record(ci_run_dir):
    differences = golden.compare(ci_run_dir / "results", RECORD)
    same_minor, versions = golden.same_jax_minor(RECORD)
    if differences and not same_minor:  # an upgrade: a visible, reviewed event, not a red CI
        warnings.warn(f"{versions}\n{golden.report(differences)}")
        return
    assert not differences, f"{versions}\n{golden.report(differences)}"


def small_results(root: Path, value: float) -> Path:
    """A results tree with one table and one dataset, ``value`` in both."""
    import xarray as xr

    (root / "tables").mkdir(parents=True)
    (root / "correlators").mkdir()
    pd.DataFrame(dict(name=["a", "b"], n=[1, 2], x=[0.1, value])).to_csv(root / "tables" / "t.csv", index=False)
    xr.Dataset({"G2": ("w", np.array([1.0, value]))}, attrs={"created": str(value)}).to_netcdf(
        root / "correlators" / "d.nc", engine="h5netcdf")
    return root


def test_a_moved_number_fails_with_a_readable_diff_and_rewriting_the_record_passes(tmp_path):
    record = tmp_path / "record"
    said = golden.write(small_results(tmp_path / "a", 1 / 3), record)
    assert len(said) == 3 and golden.write(tmp_path / "a", record) == []  # unchanged: nothing rewritten
    assert golden.compare(small_results(tmp_path / "same", 1 / 3), record) == []
    # A relative change of 1e-14 is floating-point order, not a result: it passes.
    assert golden.compare(small_results(tmp_path / "rounding", (1 / 3) * (1 + 1e-14)), record) == []
    moved = small_results(tmp_path / "moved", 0.34)
    differences = [str(d) for d in golden.compare(moved, record)]
    assert differences[0].startswith("tables/t.csv: 1 cells differ, largest relative difference 0.0196")
    assert "row 1 x: 0.34 (recorded 0.3333333333333333)" in differences[0]
    assert differences[1].startswith("correlators/d.nc: G2: sum 1.34 (recorded 1.3333333333333333)")
    assert "make golden" in golden.report([golden.Difference("x", "y")])
    golden.write(moved, record)
    assert golden.compare(moved, record) == []


def test_missing_and_extra_outputs_are_differences(tmp_path):
    record = tmp_path / "record"
    golden.write(small_results(tmp_path / "a", 0.5), record)
    other = small_results(tmp_path / "b", 0.5)
    shutil.move(other / "tables" / "t.csv", other / "tables" / "u.csv")
    assert {str(d) for d in golden.compare(other, record)} == {"tables/t.csv: not in this run",
                                                               "tables/u.csv: not in the record"}


def test_the_record_is_small():
    size = sum(p.stat().st_size for p in RECORD.rglob("*") if p.is_file())
    assert 0 < size < 1_000_000


def test_missing_cells_of_text_columns_are_equal_in_both():
    old = pd.DataFrame(dict(widths=["2 5", np.nan], passes=[True, np.nan]))
    new = pd.DataFrame(dict(widths=["2 5", np.nan], passes=[True, np.nan]))
    assert golden.compare_table("t.csv", new, old) == []
    new.loc[1, "widths"] = "5"
    assert "row 1 widths: '5'" in str(golden.compare_table("t.csv", new, old)[0])


def test_wall_clock_measurements_are_not_compared_but_everything_else_is():
    old = pd.DataFrame({"z": [1.0], "seconds": [0.2], "ess_per_second": [30.0],
                        "ours": ["max |z| 1.36; median ESS/s lattice 2.9e+04"], "reason": ["max |z| 1.36"]})
    timed = old.assign(seconds=0.3, ess_per_second=20.0, ours="max |z| 1.36; median ESS/s lattice 3.6e+04")
    assert golden.compare_table("t.csv", timed, old) == []
    moved = old.assign(reason="max |z| 1.37")
    assert "reason" in str(golden.compare_table("t.csv", moved, old))
