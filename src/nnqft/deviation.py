"""P1's deviation of NGP correlators from the GP, m_n = |G - G_GP| / G_GP, and its falloff with N.

P1 plots the element average of m_n against the width with the "background", the same
average of the chunk noise. We keep both and add a jackknife error of the average, then fit
log10 m_n = a + s log10 N by weighted least squares over the widths where the signal is
above noise (see ``slope_rows``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from nnqft import correlators, datasets, estimators

ESTIMATORS = {"plain": "", "rao_blackwell": "_rb"}


def _mean_abs_relative(g, gp):
    """Element average (over out and multisets) of |g - gp| / |gp|; leading axes kept."""
    return np.mean(np.abs(g - gp) / np.abs(gp), axis=(-2, -1))


def deviation_table(ds: xr.Dataset) -> pd.DataFrame:
    """One row per (n, estimator, width): m_n with jackknife error, background and noise levels."""
    axis = ds["G2_block_mean"].get_axis_num("block")
    rows = []
    for n in datasets.orders_of(ds):
        gp = ds[f"G{n}_gp"].values
        background = np.mean(ds[f"G{n}_background"].values / np.abs(gp), axis=(-2, -1))
        for est, suffix in ESTIMATORS.items():
            bm = ds[f"G{n}{suffix}_block_mean"].values
            m, m_err = estimators.jackknife(lambda g: _mean_abs_relative(g, gp), bm, axis=axis)
            noise = np.mean(ds[f"G{n}{suffix}_stderr"].values / np.abs(gp), axis=(-2, -1))
            for i, width in enumerate(ds["width"].values):
                rows.append(dict(n=n, estimator=est, width=int(width), m=m[i], m_stderr=m_err[i],
                                 background=background[i], noise=noise[i]))
        if f"G{n}_exact" in ds:
            exact = np.mean(np.abs(ds[f"G{n}_exact"].values - gp) / np.abs(gp), axis=-1)
            rows += [dict(n=n, estimator="exact", width=int(w), m=v, m_stderr=0.0)
                     for w, v in zip(ds["width"].values, exact)]
    return pd.DataFrame(rows)


def connected_table(ds: xr.Dataset, n: int = 6) -> pd.DataFrame:
    """Element average of |G_c^(n)| / G_GP^(n) per width, with a jackknife error."""
    gp = ds[f"G{n}_gp"].values
    axis = ds["G2_block_mean"].get_axis_num("block")
    orders = [k for k in (2, 4, 6) if k <= n]
    n_points = ds.sizes["point"]
    rows = []
    for est, suffix in ESTIMATORS.items():
        moments = [ds[f"G{k}{suffix}_block_mean"].values for k in orders]

        def stat(*ms):
            gc = correlators.cumulants_from_moments(dict(zip(orders, ms)), n_points, n)
            return np.mean(np.abs(gc) / np.abs(gp), axis=(-2, -1))

        value, err = estimators.jackknife(stat, *moments, axis=axis)
        noise = np.mean(ds[f"G{n}_connected{suffix}_stderr"].values / np.abs(gp), axis=(-2, -1))
        for i, width in enumerate(ds["width"].values):
            rows.append(dict(n=n, estimator=est, width=int(width), m=value[i], m_stderr=err[i], noise=noise[i]))
    if f"G{n}_connected_exact" in ds:
        exact = np.mean(np.abs(ds[f"G{n}_connected_exact"].values) / np.abs(gp), axis=-1)
        rows += [dict(n=n, estimator="exact", width=int(w), m=v, m_stderr=0.0)
                 for w, v in zip(ds["width"].values, exact)]
    return pd.DataFrame(rows)


def weighted_least_squares(design: np.ndarray, y: np.ndarray, sigma: np.ndarray):
    """Fit y = design @ coef with independent errors sigma: (coef, standard errors, chi2/dof).

    The standard errors are scaled by sqrt(chi2/dof) when that exceeds 1, so a poor fit widens
    rather than hides them; chi2/dof is NaN (and no scaling) without degrees of freedom.
    """
    wdesign = design / sigma[:, None]
    coef, *_ = np.linalg.lstsq(wdesign, y / sigma, rcond=None)
    cov = np.linalg.inv(wdesign.T @ wdesign)
    dof = len(y) - design.shape[1]
    chi2 = float(np.sum(((y - design @ coef) / sigma) ** 2))
    chi2_dof = chi2 / dof if dof > 0 else np.nan
    scale = np.sqrt(max(chi2_dof, 1.0)) if dof > 0 else 1.0
    return coef, np.sqrt(np.diag(cov)) * scale, chi2_dof


def loglog_slope(widths, m, m_stderr) -> dict:
    """Weighted least-squares fit of log10 m = a + s log10 N, errors propagated to log space.

    Returns slope, its standard error (``weighted_least_squares``), intercept and chi2/dof. Needs
    two or more points.
    """
    widths, m, m_stderr = (np.asarray(v, dtype=np.float64) for v in (widths, m, m_stderr))
    nan = dict(slope=np.nan, slope_stderr=np.nan, intercept=np.nan, chi2_dof=np.nan)
    if len(widths) < 2:
        return nan
    y = np.log10(m)
    sigma = m_stderr / (m * np.log(10))
    design = np.column_stack([np.ones_like(y), np.log10(widths)])
    coef, stderr, chi2_dof = weighted_least_squares(design, y, sigma)
    return dict(slope=coef[1], slope_stderr=stderr[1], intercept=coef[0], chi2_dof=chi2_dof)


def inverse_width_terms(widths, m, m_stderr) -> dict:
    """Weighted fit of m = b1 / N + b2 / N^2: the leading coefficient and the next order, with errors
    (``weighted_least_squares``) and chi2/dof. Needs three or more points (one degree of freedom);
    NaN otherwise. A log-log slope off -1 with a resolved b2 is curvature, not another power."""
    widths, m, m_stderr = (np.asarray(v, dtype=np.float64) for v in (widths, m, m_stderr))
    if len(widths) < 3:
        return dict(b1=np.nan, b1_stderr=np.nan, b2=np.nan, b2_stderr=np.nan, b_chi2_dof=np.nan)
    coef, stderr, chi2_dof = weighted_least_squares(np.column_stack([1 / widths, 1 / widths**2]), m, m_stderr)
    return dict(b1=coef[0], b1_stderr=stderr[0], b2=coef[1], b2_stderr=stderr[1], b_chi2_dof=chi2_dof)


EXPECTED_SLOPE = {"m2": np.nan, "m4": -1.0, "m6": -1.0, "G6c": -2.0}


# A measured deviation counts as resolved above this many of its errors (also the NTK stage's criterion).
NOISE_FACTOR = 3.0


def slope_rows(table: pd.DataFrame, quantity: str) -> list[dict]:
    """Fit the slope of each estimator over the widths where the signal is above noise.

    Above noise means m > 3 x the element-averaged relative standard error of that estimator:
    pure noise gives m of about 0.8 x that level, so such widths carry a real deviation.
    """
    rows = []
    for est, grp in table[table["estimator"] != "exact"].groupby("estimator", sort=False):
        above = grp[grp["m"] > NOISE_FACTOR * grp["noise"]]
        fit = loglog_slope(above["width"], above["m"], above["m_stderr"])
        rows.append(dict(quantity=quantity, estimator=est, **fit, n_widths=len(above),
                         widths=" ".join(str(w) for w in above["width"]),
                         expected_slope=EXPECTED_SLOPE[quantity]))
    return rows
