"""Datasets on disk: provenance attributes, atomic writes that refuse non-finite values, and
reads that fail with one clear message.

Every float in a dataset or table written here must be finite: a NaN or an infinity on the write
path means a numerical failure upstream (float32 overflow or underflow, a division by zero, a
diverging integral), and it stops the job with an error naming the variable or column, the file
and the likely cause. Values that are legitimately non-finite are allowed explicitly, never by
default: ``allow_nonfinite`` at the call, or ``TABLE_NONFINITE`` below for the workflow's tables,
each column with the reason it may hold NaN or inf.
"""

from __future__ import annotations

import datetime
import fnmatch
import os
import re
import subprocess
from importlib import metadata
from pathlib import Path

import numpy as np
import xarray as xr
import yaml

_PACKAGES = ("nnqft", "jax", "jaxlib", "numpy", "scipy", "xarray", "pandas")


def _git_revision() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
            cwd=Path(__file__).resolve().parent,
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()
        return out.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def provenance(config: dict, rule: str) -> dict:
    """Attributes that make a dataset traceable: the config part its rule read (``nnqft.params``), the
    seed where it has one, versions, git, rule."""
    versions = {}
    for pkg in _PACKAGES:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = "absent"
    return {
        "config": yaml.safe_dump(config, sort_keys=True),
        "package_versions": ", ".join(f"{k}={v}" for k, v in versions.items()),
        "git_revision": _git_revision(),
        "rule": rule,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        # Only outputs of random streams have a seed (exact values do not depend on it).
        **({"seed": int(config["seed"])} if "seed" in config else {}),
    }


class NonFiniteError(ValueError):
    """A NaN or infinity about to be written; the message names the variable, the file and the cause."""


class UnreadableDatasetError(OSError):
    """A dataset file that cannot be read (truncated, corrupt, not NetCDF); names the file and the fix."""


# Table columns that may legitimately hold non-finite values: table file name (a glob) -> column
# (a glob) -> (which values: "nan", "inf" or "nan inf"; why[; only in the rows where these columns
# have these values: {column: [values]}, or a list of such conditions, any one of which]).
# Found by running the ci config and reading the code that builds each table; anything else
# non-finite stops the write.
TABLE_NONFINITE: dict[str, dict[str, tuple]] = {
    **{name: {col: ("nan", "gap_eff rows where the measured G2 at the larger separation is not positive "
                           "(decay below noise)", {"kind": ["gap_eff"]})
              for col in ("value", "stderr", "corrected", "corrected_stderr", "z", "z_first_order", "chi2_dof")}
       for name in ("aho.csv", "lattice_values.csv", "network_*_values.csv")},
    "broken_independence.csv": {
        "width": ("inf", "rows of the exact N = infinity limit", {"estimator": ["exact"]}),
    },
    "cluster_decomposition.csv": {
        "N": ("inf", "rows of the N = infinity Gaussian field", {"case": ["gaussian"]}),
    },
    "cluster_curves.csv": {
        "N": ("inf", "rows of the N = infinity Gaussian field", {"case": ["gaussian"]}),
    },
    "action_summary.csv": {
        "stderr": ("nan", "cos-net rows: no input coupling, their vertex is judged off the diagonal", {"theory": ["cosnet"]}),
        "z": ("nan", "cos-net rows: no input coupling, their vertex is judged off the diagonal", {"theory": ["cosnet"]}),
    },
    "deviation.csv": {
        "background": ("nan", "exact rows and connected G6c rows: P1's chunk background is of measured moments only",
                       [{"estimator": ["exact"]}, {"quantity": ["G6c"]}]),
        "noise": ("nan", "exact rows: an exact value has no noise", {"estimator": ["exact"]}),
    },
    "rg_slopes.csv": {
        "kernel_degree": ("nan", "Gauss-net: its propagator decays, the integrals converge and have no degree",
                          {"activation": ["gauss"]}),
        "range_r_squared": ("nan", "Gauss-net: lambda(Lambda) does not run over the cutoffs, R^2 is undefined",
                            {"activation": ["gauss"]}),
    },
    "eft_fits.csv": {
        "cutoff": ("inf", "Gauss-net fits at an infinite cutoff (eft.cutoffs.gauss)", {"activation": ["gauss"]}),
        "lambda*": ("nan", "couplings of a model that is not identifiable: only a combination is determined",
                    {"identifiable": [False]}),
    },
    "action_conditioning.csv": {
        "condition_number": ("inf", "a propagator matrix whose smallest eigenvalue is <= 0 (too fine a lattice)"),
    },
    "os_checks.csv": {
        "naive_min_eigenvalue": ("nan", "only the reflection rows have a naive smallest eigenvalue"),
        "naive_stderr": ("nan", "only the reflection rows have a naive smallest eigenvalue"),
    },
    "invariance_*.csv": {
        "exact_sigma": ("nan", "only rows with a known (exact) breaking have it"),
        "*_rel_breaking": ("nan", "only rows with a known (exact) breaking have it"),
        "noise_rel": ("nan", "only rows with a known (exact) breaking have it"),
    },
    "symmetry_invariance.csv": {
        "exact_sigma": ("nan", "only rows with a known (exact) breaking have it"),
        "*_rel_breaking": ("nan", "only rows with a known (exact) breaking have it"),
        "noise_rel": ("nan", "only rows with a known (exact) breaking have it"),
    },
    "symmetry_training.csv": {
        "delta_t": ("nan", "no t statistic where the accuracy change is zero by construction (k = 0 or mu = 0)",
                    [{"k": [0]}, {"mu": [0.0]}]),
    },
    "symmetry_training_effects.csv": {
        "k": ("nan", "the 'all broken' rows pool every k"),
        "mu": ("nan", "the 'all broken' rows pool every mu"),
    },
    "deviation_slopes.csv": {
        "slope": ("nan", "no slope where fewer than two widths have the signal above noise", {"n_widths": [0, 1]}),
        "slope_stderr": ("nan", "no slope where fewer than two widths have the signal above noise",
                         {"n_widths": [0, 1]}),
        "intercept": ("nan", "no slope where fewer than two widths have the signal above noise", {"n_widths": [0, 1]}),
        "chi2_dof": ("nan", "no chi2/dof for a fit of fewer than three widths", {"n_widths": [0, 1, 2]}),
        "expected_slope": ("nan", "m2 rows: no finite-width law is predicted for m2", {"quantity": ["m2"]}),
    },
}

_ACTIVATIONS = ("erf", "gauss", "relu")


def _nonfinite_counts(values) -> tuple[int, int, int, int]:
    """(NaN, +inf, -inf, total) of a float or complex array; zeros for other dtypes."""
    a = np.asarray(values)
    if a.dtype.kind not in "fc":
        return 0, 0, 0, a.size
    if a.dtype.kind == "c":
        a = np.concatenate([a.real.ravel(), a.imag.ravel()])
    return int(np.isnan(a).sum()), int(np.isposinf(a).sum()), int(np.isneginf(a).sum()), a.size


def _describe(name: str, kind: str, counts, path: Path) -> str:
    nan, pos, neg, total = counts
    parts = [f"{n} {what}" for n, what in ((nan, "NaN"), (pos, "+inf"), (neg, "-inf")) if n]
    return f"{kind} {name!r} of {path} has {', '.join(parts)} among {total} values"


def _config_of(attrs) -> dict:
    try:
        cfg = yaml.safe_load(attrs.get("config", "")) if isinstance(attrs.get("config"), str) else None
    except yaml.YAMLError:
        cfg = None
    return cfg if isinstance(cfg, dict) else {}


def _activation_of(attrs, path: Path) -> str | None:
    """The activation a dataset is about: its attrs, its ensemble name, or its file path."""
    for text in (attrs.get("activation"), attrs.get("ensemble"), str(path)):
        if isinstance(text, str):
            for token in re.split(r"[^a-z0-9]+", text.lower()):
                if token in _ACTIVATIONS:
                    return token
    return None


def _likely_cause(activations, cfg: dict) -> str:
    """A guess at the cause from the activation(s) and the config snapshot, or a generic hint."""
    if activations and not cfg:  # a table: its rows name the activation but not the scales or dtype
        return (f"likely cause: a numerical failure upstream for activation {', '.join(activations)}: overflow or "
                f"underflow at the configured scales (architectures.<activation>.sw, .sb) and sampling_dtype, a "
                f"division by a zero error, or a fit without data")
    dtype = cfg.get("sampling_dtype", "float32")
    scales = []
    for name in activations:
        arch = (cfg.get("architectures") or {}).get(name)
        if isinstance(arch, dict) and all(isinstance(arch.get(k), (int, float)) for k in ("sw", "sb")):
            scales.append(f"activation {name} at sw={float(arch['sw']):g}, sb={float(arch['sb']):g}")
        else:
            scales.append(f"activation {name} (see architectures.{name}.sw and .sb)")
    if scales:
        return (f"likely cause: {dtype} overflow/underflow for {'; '.join(scales)} (sampling_dtype {dtype}); "
                f"scales far from 1 overflow or underflow the sampled networks: use scales nearer 1"
                + (" or sampling_dtype: float64" if dtype == "float32" else ""))
    return ("likely cause: a numerical failure upstream (overflow or underflow of the sampling dtype, a division "
            "by zero, an empty selection, a diverging integral); check the inputs and the config scales")


def check_finite_dataset(ds: xr.Dataset, path, allow_nonfinite=()) -> None:
    """Raise NonFiniteError if a float variable or coordinate of ``ds`` (other than those named in
    ``allow_nonfinite``) holds NaN or inf."""
    path = Path(path)
    problems = []
    for name, var in list(ds.data_vars.items()) + list(ds.coords.items()):
        if name in allow_nonfinite:
            continue
        counts = _nonfinite_counts(var.values)
        if any(counts[:3]):
            problems.append(_describe(str(name), "variable" if name in ds.data_vars else "coordinate", counts, path))
    if problems:
        activation = _activation_of(ds.attrs, path)
        cause = _likely_cause([activation] if activation else [], _config_of(ds.attrs))
        raise NonFiniteError("refusing to write non-finite values: " + "; ".join(problems) + f". {cause}. "
                             "Nothing was written.")


def table_allowances(path) -> dict[str, tuple[str, str]]:
    """The columns (globs) of this table that may hold non-finite values, from TABLE_NONFINITE:
    column -> (which values, why)."""
    name = Path(path).name
    out: dict[str, tuple[str, str]] = {}
    for pattern, columns in TABLE_NONFINITE.items():
        if fnmatch.fnmatchcase(name, pattern):
            out.update(columns)
    return out


def _allowed(df, column: str, explicit, registered: dict) -> tuple[np.ndarray, np.ndarray, set[str]]:
    """Per row: may this column hold NaN, may it hold inf; and the kinds allowed anywhere."""
    n = len(df)
    if column in explicit:
        return np.ones(n, dtype=bool), np.ones(n, dtype=bool), {"nan", "inf"}
    nan_ok, inf_ok, kinds = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool), set()
    for pattern, (which, _why, *when) in registered.items():
        if not fnmatch.fnmatchcase(column, pattern):
            continue
        conditions = (when[0] if isinstance(when[0], list) else [when[0]]) if when else [{}]
        rows = np.zeros(n, dtype=bool)
        for condition in conditions:
            match = np.ones(n, dtype=bool)
            for key, values in condition.items():
                match &= df[key].isin(values).to_numpy() if key in df.columns else False
            rows |= match
        kinds |= set(which.split())
        nan_ok |= rows & ("nan" in which.split())
        inf_ok |= rows & ("inf" in which.split())
    return nan_ok, inf_ok, kinds


def check_finite_table(df, path, allow_nonfinite=()) -> None:
    """Raise NonFiniteError if a numeric column of ``df`` holds NaN or inf, except where allowed:
    ``allow_nonfinite`` (column names, at the call), ``df.attrs["allow_nonfinite"]`` (set by the
    function that built the table), or TABLE_NONFINITE (by table name; only the kinds listed there)."""
    path = Path(path)
    explicit = set(allow_nonfinite) | set(df.attrs.get("allow_nonfinite", ()))
    registered = table_allowances(path)
    problems, rows = [], np.zeros(len(df), dtype=bool)
    for name in df.columns:
        column = df[name]
        if column.dtype.kind not in "fc":
            continue
        values = column.to_numpy()
        nan_ok, inf_ok, kinds = _allowed(df, str(name), explicit, registered)
        bad = (np.isnan(values) & ~nan_ok) | (np.isinf(values) & ~inf_ok)
        if bad.any():
            counts = _nonfinite_counts(values[bad])
            problems.append(_describe(str(name), "column", counts[:3] + (len(values),), path)
                            + (f" (allowed only as {' or '.join(sorted(kinds))} in the "
                               f"{'; '.join(w for p, (_, w, *_) in registered.items() if fnmatch.fnmatchcase(str(name), p))})"
                               if kinds else ""))
            rows |= bad
    if problems:
        activations = []
        if "activation" in df.columns:
            activations = sorted({str(a) for a in df.loc[rows, "activation"] if str(a) in _ACTIVATIONS})
        first = df.loc[rows].head(3)
        key_columns = [c for c in first.columns if first[c].dtype.kind not in "fc"][:6]
        example = first[key_columns].to_dict("records") if key_columns else []
        raise NonFiniteError(
            "refusing to write non-finite values: " + "; ".join(problems)
            + (f" (first rows: {example})" if example else "") + f". {_likely_cause(activations, {})}. "
            "If the value is legitimate (a slope that could not be fitted, an infinite width), allow the column "
            "with allow_nonfinite=(column,) or in nnqft.io.TABLE_NONFINITE, with the reason. Nothing was written."
        )


def atomic_write(path, write) -> None:
    """Write through a temporary sibling and rename, so an interrupted job never leaves a partial file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_netcdf(ds: xr.Dataset, path, *, allow_nonfinite=()) -> None:
    """Write atomically, after checking that every float variable and coordinate is finite
    (``allow_nonfinite``: names that may hold NaN/inf)."""
    check_finite_dataset(ds, path, allow_nonfinite)
    atomic_write(path, lambda tmp: ds.to_netcdf(tmp, engine="h5netcdf"))


def read_netcdf(path) -> xr.Dataset:
    """Load a dataset fully into memory (and close the file).

    A missing, truncated or corrupt file raises UnreadableDatasetError naming the file and the fix
    (delete it; Snakemake regenerates it with the rule that writes it) instead of an h5netcdf traceback.
    """
    path = Path(path)
    if not path.exists():
        raise UnreadableDatasetError(f"dataset {path} does not exist; run the rule that writes it "
                                     f"(snakemake {path}) or the whole workflow")
    try:
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            return ds.load()
    except Exception as exc:  # h5py/h5netcdf raise OSError, ValueError, KeyError... for a bad file
        size = path.stat().st_size
        raise UnreadableDatasetError(
            f"dataset {path} ({size} bytes) cannot be read: it is truncated, corrupt or not a NetCDF4 file "
            f"({type(exc).__name__}: {exc}). Delete it and rerun: `rm {path}` then snakemake again, which "
            f"regenerates it with the rule that writes it (or `snakemake --forcerun {path}`)."
        ) from exc


def write_table(df, path, *, allow_nonfinite=()) -> None:
    """CSV written atomically, like the datasets, after checking that every numeric column is finite
    except those allowed (``allow_nonfinite``, ``df.attrs["allow_nonfinite"]``, TABLE_NONFINITE)."""
    check_finite_table(df, path, allow_nonfinite)
    atomic_write(path, lambda tmp: df.to_csv(tmp, index=False))
