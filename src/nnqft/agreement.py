"""Ensemble estimates against exact parameter-space values (science.md sec. 3, P3).

Two views of a correlator dataset that carries ``G{n}_exact``:

* ``zscore_summary``: per (n, width, estimator) the z-scores (estimate - exact) / stderr over all
  elements, summarised, with the variance reduction of the Rao-Blackwell estimator;
* ``cumulant_scaling``: rho_r(N) = N^(r/2-1) sum G_c^(r) / sum kappa_r(u), which is exactly 1 at
  every width for i.i.d. neurons (P3's cumulant scaling G_c^(r) ~ N^(1-r/2)).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from nnqft import correlators, datasets, estimators
from nnqft.deviation import ESTIMATORS

# Plain Monte Carlo of a heavy-tailed law under-estimates its mean in most finite samples and its
# error with it; a systematic mean z below this marks the case (Gauss-net: log-normal units).
HEAVY_TAIL_MEAN_Z = -1.0


def zscore_summary(ds: xr.Dataset) -> pd.DataFrame:
    rows = []
    for n in datasets.orders_of(ds):
        exact = ds[f"G{n}_exact"].values[:, None, :]  # (width, 1, T) against (width, out, T)
        se = {est: ds[f"G{n}{suffix}_stderr"].values for est, suffix in ESTIMATORS.items()}
        for est, suffix in ESTIMATORS.items():
            z = (ds[f"G{n}{suffix}"].values - exact) / se[est]
            for i, width in enumerate(ds["width"].values):
                zi = z[i].ravel()
                rows.append(dict(
                    n=n, width=int(width), estimator=est, n_elements=zi.size,
                    z_mean=zi.mean(), z_rms=np.sqrt(np.mean(zi**2)), z_max_abs=np.abs(zi).max(),
                    frac_within_3=np.mean(np.abs(zi) < 3),
                    variance_reduction=np.mean((se["plain"][i] / se["rao_blackwell"][i]) ** 2),
                    heavy_tail_flag=bool(est == "plain" and zi.mean() < HEAVY_TAIL_MEAN_Z),
                ))
    return pd.DataFrame(rows)


def zscores(ds: xr.Dataset, n: int) -> pd.DataFrame:
    """Every element's z-score of order n, long format (width, estimator, z) for plotting."""
    exact = ds[f"G{n}_exact"].values[:, None, :]
    frames = []
    for est, suffix in ESTIMATORS.items():
        z = (ds[f"G{n}{suffix}"].values - exact) / ds[f"G{n}{suffix}_stderr"].values
        width = np.broadcast_to(ds["width"].values[:, None, None], z.shape)
        frames.append(pd.DataFrame(dict(width=width.ravel(), estimator=est, z=z.ravel())))
    return pd.concat(frames, ignore_index=True)


def cumulant_scaling(ds: xr.Dataset) -> pd.DataFrame:
    """rho_r(N) for r = 4, 6: measured (both estimators, jackknife errors) and exact."""
    axis = ds["G2_block_mean"].get_axis_num("block")
    widths = ds["width"].values.astype(np.float64)
    n_points = ds.sizes["point"]
    rows = []
    for r in (4, 6):
        if f"G{r}_exact" not in ds:
            continue
        orders = [k for k in datasets.orders_of(ds) if k <= r]
        scale = widths ** (r / 2 - 1)
        # N-independent coefficient: N^(r/2-1) G_c^(r)_exact at any width.
        coef = ds[f"G{r}_connected_exact"].values[0] * scale[0]
        exact_rho = (ds[f"G{r}_connected_exact"].values * scale[:, None]).sum(-1) / coef.sum()
        for i, width in enumerate(widths):
            rows.append(dict(r=r, width=int(width), estimator="exact", rho=exact_rho[i], rho_stderr=0.0))
        for est, suffix in ESTIMATORS.items():
            moments = [ds[f"G{k}{suffix}_block_mean"].values for k in orders]

            def rho(*ms):
                gc = correlators.cumulants_from_moments(dict(zip(orders, ms)), n_points, r)
                return gc.sum(axis=(-2, -1)) * scale / (coef.sum() * gc.shape[-2])

            value, err = estimators.jackknife(rho, *moments, axis=axis)
            for i, width in enumerate(widths):
                rows.append(dict(r=r, width=int(width), estimator=est, rho=value[i], rho_stderr=err[i]))
    return pd.DataFrame(rows)
