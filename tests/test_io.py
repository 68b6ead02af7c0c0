"""Writes refuse non-finite values by name; reads of a broken file fail with one clear message;
every write (dataset, table, figure) is atomic."""

import os
import re

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml

from nnqft import datasets, exact, io, plots
from nnqft.networks import NetworkSpec


def _dataset(**values):
    ds = xr.Dataset({name: (("width", "t2"), np.asarray(v, dtype=np.float64)) for name, v in values.items()},
                    coords={"width": [2, 5]})
    return ds


def _leftovers(directory):
    return sorted(p.name for p in directory.iterdir() if ".tmp" in p.name)


def test_write_netcdf_round_trips_finite_data(tmp_path):
    ds = _dataset(G2=[[1.0, 2.0], [3.0, 4.0]])
    io.write_netcdf(ds, tmp_path / "ok.nc")
    np.testing.assert_array_equal(io.read_netcdf(tmp_path / "ok.nc")["G2"].values, ds["G2"].values)
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("bad, kind", [(np.nan, "1 NaN"), (np.inf, "1 +inf"), (-np.inf, "1 -inf")])
def test_write_netcdf_refuses_a_non_finite_variable_by_name(tmp_path, bad, kind):
    ds = _dataset(G2=[[1.0, 2.0], [3.0, 4.0]], G4_stderr=[[1.0, bad], [3.0, 4.0]])
    path = tmp_path / "bad.nc"
    with pytest.raises(io.NonFiniteError, match=re.escape(f"variable 'G4_stderr' of {path} has {kind} among 4 values")) as err:
        io.write_netcdf(ds, path)
    assert "G2" not in str(err.value)  # only the offending variable is named
    assert not path.exists() and _leftovers(tmp_path) == []


def test_write_netcdf_checks_coordinates_and_allows_named_variables(tmp_path):
    ds = _dataset(G2=[[1.0, 2.0], [3.0, 4.0]]).assign_coords(x=("t2", [0.1, np.nan]))
    with pytest.raises(io.NonFiniteError, match=r"coordinate 'x'"):
        io.write_netcdf(ds, tmp_path / "c.nc")
    ds = _dataset(G2=[[1.0, np.nan], [3.0, 4.0]])
    io.write_netcdf(ds, tmp_path / "allowed.nc", allow_nonfinite=("G2",))
    assert np.isnan(io.read_netcdf(tmp_path / "allowed.nc")["G2"].values[0, 1])


def test_gauss_net_overflow_is_named_with_its_activation_and_scales(tmp_path):
    """The user's case: Gauss-net at sw = 1e6 overflows; the exact dataset written for it names the
    variable, the file and the activation with its scales (read from the provenance config)."""
    spec = NetworkSpec("gauss", 1, 1, sw=1e6, sb=1.0)
    x = np.array([[-0.01], [-0.006]])
    with np.errstate(all="ignore"):
        ds = datasets.exact_dataset(exact.exact_correlators(spec, x, [2, 3]), [2, 3], x)
    config = {"sampling_dtype": "float32", "architectures": {"gauss": {"sw": 1e6, "sb": 1.0}}}
    ds.attrs.update(config=yaml.safe_dump(config), rule="exact_correlators")
    path = tmp_path / "exact" / "gauss_d1.nc"
    with pytest.raises(io.NonFiniteError) as err:
        io.write_netcdf(ds, path)
    message = str(err.value)
    assert "variable 'G4_exact'" in message and str(path) in message
    assert "float32 overflow/underflow for activation gauss at sw=1e+06, sb=1" in message
    assert not path.exists()


def test_write_table_refuses_a_non_finite_column_by_name(tmp_path):
    df = pd.DataFrame(dict(activation=["erf", "gauss"], d_in=[1, 1], z=[0.5, -np.inf], m=[1.0, 2.0]))
    path = tmp_path / "exact_zscores.csv"
    with pytest.raises(io.NonFiniteError, match=re.escape(f"column 'z' of {path} has 1 -inf among 2 values")) as err:
        io.write_table(df, path)
    message = str(err.value)
    assert "'activation': 'gauss'" in message and "numerical failure upstream for activation gauss" in message
    assert "'m'" not in message
    assert not path.exists() and _leftovers(tmp_path) == []


def test_table_allowances_are_explicit_of_one_kind_and_in_their_rows(tmp_path):
    # broken_independence.csv may hold width = inf in the exact rows (the N = infinity limit), nothing else.
    table = pd.DataFrame(dict(eps=[0.0, 0.5], estimator=["rao_blackwell", "exact"], width=[100.0, np.inf],
                              value=[0.1, 0.2]))
    path = tmp_path / "broken_independence.csv"
    io.write_table(table, path)
    assert pd.read_csv(path)["width"].iloc[1] == np.inf
    with pytest.raises(io.NonFiniteError, match=r"column 'width'.*1 NaN.*allowed only as inf in the rows of the exact N"):
        io.write_table(table.assign(width=[100.0, np.nan]), path)
    with pytest.raises(io.NonFiniteError, match=r"column 'width'.*1 \+inf"):  # inf in a measured row
        io.write_table(table.assign(width=[np.inf, np.inf]), path)
    with pytest.raises(io.NonFiniteError, match=r"column 'value'"):
        io.write_table(table.assign(value=[0.1, np.inf]), path)
    # The same column in another table is not allowed.
    with pytest.raises(io.NonFiniteError, match=r"column 'width'"):
        io.write_table(table, tmp_path / "deviation.csv")
    # At the call, or from the function that built the table.
    io.write_table(table, tmp_path / "other.csv", allow_nonfinite=("width",))
    table.attrs["allow_nonfinite"] = ("width",)
    io.write_table(table, tmp_path / "other2.csv")


def test_unidentifiable_couplings_may_be_nan_only_in_their_rows(tmp_path):
    fits = pd.DataFrame(dict(activation=["erf", "erf"], model=["M1", "M2"], identifiable=[True, False],
                             cutoff=[100.0, 100.0], lambda0=[0.04, np.nan], lambda2_stderr=[0.0, np.nan]))
    io.write_table(fits, tmp_path / "eft_fits.csv")
    with pytest.raises(io.NonFiniteError, match=r"column 'lambda0' .* 1 NaN"):
        io.write_table(fits.assign(lambda0=[np.nan, np.nan]), tmp_path / "eft_fits.csv")


def test_every_table_allowance_gives_kinds_and_a_reason():
    for pattern, columns in io.TABLE_NONFINITE.items():
        for column, (kinds, why, *when) in columns.items():
            assert set(kinds.split()) <= {"nan", "inf"} and kinds.split(), (pattern, column)
            assert len(why) > 10, (pattern, column)
            conditions = [] if not when else when[0] if isinstance(when[0], list) else [when[0]]
            for condition in conditions:
                assert all(isinstance(v, list) for v in condition.values()), (pattern, column)
    assert io.table_allowances("results/symmetry/invariance_translation.csv")["noise_rel"][0] == "nan"
    assert io.table_allowances("results/tables/six_pt.csv") == {}


def test_deviation_background_may_be_nan_in_exact_or_connected_rows_only(tmp_path):
    table = pd.DataFrame(dict(quantity=["m4", "m4", "G6c"], estimator=["plain", "exact", "plain"], width=[2, 2, 2],
                              m=[0.1, 0.1, 0.1], background=[0.01, np.nan, np.nan], noise=[0.01, np.nan, 0.02]))
    io.write_table(table, tmp_path / "deviation.csv")
    with pytest.raises(io.NonFiniteError, match=r"column 'background' .* 1 NaN"):
        io.write_table(table.assign(background=np.nan), tmp_path / "deviation.csv")
    with pytest.raises(io.NonFiniteError, match=r"column 'noise' .* 1 NaN"):
        io.write_table(table.assign(noise=[0.01, np.nan, np.nan]), tmp_path / "deviation.csv")


def test_unfitted_slopes_may_be_nan_but_not_inf(tmp_path):
    slopes = pd.DataFrame(dict(activation=["erf"], quantity=["m4"], n_widths=[1], slope=[np.nan], slope_stderr=[np.nan]))
    io.write_table(slopes, tmp_path / "deviation_slopes.csv")
    with pytest.raises(io.NonFiniteError, match=r"column 'slope_stderr'"):
        io.write_table(slopes.assign(slope=[-1.0], slope_stderr=[np.inf]), tmp_path / "deviation_slopes.csv")
    with pytest.raises(io.NonFiniteError, match=r"column 'slope' .*1 NaN"):  # four widths: a slope was due
        io.write_table(slopes.assign(n_widths=[4]), tmp_path / "deviation_slopes.csv")


def test_a_truncated_dataset_gives_one_clear_error(tmp_path):
    path = tmp_path / "erf_d1.nc"
    io.write_netcdf(_dataset(G2=np.arange(4.0).reshape(2, 2)), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(io.UnreadableDatasetError) as err:
        io.read_netcdf(path)
    message = str(err.value)
    assert str(path) in message and "truncated, corrupt or not a NetCDF4 file" in message
    assert f"rm {path}" in message and "regenerates it" in message


def test_a_non_netcdf_or_missing_file_gives_the_same_clear_error(tmp_path):
    path = tmp_path / "text.nc"
    path.write_text("not a dataset")
    with pytest.raises(io.UnreadableDatasetError, match="cannot be read"):
        io.read_netcdf(path)
    with pytest.raises(io.UnreadableDatasetError, match="does not exist"):
        io.read_netcdf(tmp_path / "absent.nc")


def test_an_interrupted_write_leaves_the_old_file_and_no_partial_one(tmp_path):
    path = tmp_path / "t.csv"
    io.write_table(pd.DataFrame(dict(a=[1.0])), path)

    def crash(tmp):
        tmp.write_text("partial")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        io.atomic_write(path, crash)
    assert path.read_text().splitlines() == ["a", "1.0"] and _leftovers(tmp_path) == []


def test_figures_are_written_atomically(tmp_path):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    path = tmp_path / "figures" / "f.png"
    plots.save(fig, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and _leftovers(path.parent) == []
    assert not plt.fignum_exists(fig.number)  # closed
    # A failing write (unknown format) leaves the previous figure untouched and no temporary file.
    before = path.read_bytes()
    fig, ax = plt.subplots()
    bad = path.with_suffix(".notaformat")
    bad.write_bytes(b"old")
    with pytest.raises(ValueError):
        plots.save(fig, bad)
    assert bad.read_bytes() == b"old" and path.read_bytes() == before and _leftovers(path.parent) == []
    assert os.listdir(path.parent) and not plt.fignum_exists(fig.number)
