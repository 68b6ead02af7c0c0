"""Ensemble estimates against exact parameter-space values (docs/physics.md sec. 3, P3).

Two views of a correlator dataset that carries ``G{n}_exact``:

* ``zscore_summary``: per (n, width, estimator) the z-scores (estimate - exact) / stderr over all
  elements, summarised, with the variance reduction of the Rao-Blackwell estimator;
* ``cumulant_scaling``: rho_r(N) = N^(r/2-1) sum G_c^(r) / sum kappa_r(u), which is exactly 1 at
  every width for i.i.d. neurons (P3's cumulant scaling G_c^(r) ~ N^(1-r/2));
* ``estimator_variance_table``: the true variance-reduction factor Var(plain) / Var(Rao-Blackwell)
  (``nnqft.estimator_variance``) beside the estimated one, and how well each estimator's own
  standard error matches its true one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from nnqft import correlators, datasets, estimator_variance, estimators, networks
from nnqft.deviation import ESTIMATORS
from nnqft.networks import NetworkSpec

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


def estimator_variance_table(ds: xr.Dataset, spec: NetworkSpec, orders=(4, 6), *, moments: dict | None = None,
                             resolution: int | None = None) -> pd.DataFrame:
    """True against estimated variance reduction of the Rao-Blackwell estimator, per (n, width).

    True per-network variances come from ``estimator_variance.estimator_variances`` at the
    dataset's widths, inputs and index multisets; estimated ones from its batch-means standard
    errors. Over the elements (output units x multisets) of each (n, width), one row:

    * ``true_reduction_min/median``: Var(plain) / Var(RB), exact;
    * ``estimated_reduction_min/median``: (G{n}_stderr / G{n}_rb_stderr)^2;
    * ``stderr_ratio_plain/rb_median``: estimated stderr / true stderr, with the true stderr
      sqrt(Var / n_networks) of a mean over ``ds.attrs["n_networks"]`` networks (1 = honest);
    * ``rb_smaller_true``: true_reduction_min > 1.

    ``moments`` (neuron moments of every even order up to 2 max(orders)) default to
    ``estimator_variance.default_moments``, at ``resolution`` Gauss-Hermite nodes per dimension
    where it falls back to Gauss-Hermite (default: the activation's ``variance_resolution``, for
    Erf 32, cheaper than the default fallback; see ``nnqft.activations``). A Gauss rule is a
    genuine law, so the law of total variance, and Var(plain) >= Var(RB), hold exactly for it.
    """
    attrs = dict(activation=spec.activation, d_in=spec.d_in, sw=spec.sw, sb=spec.sb)
    for key, value in attrs.items():
        if key not in ds.attrs or ds.attrs[key] != value:
            raise ValueError(f"spec has {key}={value!r} but the dataset was made with {key}={ds.attrs.get(key)!r}")
    missing = [n for n in orders if f"G{n}_rb_stderr" not in ds]
    if missing:
        raise ValueError(f"orders {missing} are not in the dataset (it has {datasets.orders_of(ds)})")
    x = ds["x"].values
    widths = ds["width"].values
    n_networks = int(ds.attrs["n_networks"])
    if moments is None:
        resolution = resolution or networks.activation(spec.activation).moments.variance_resolution
        moments = estimator_variance.default_moments(spec, x, max(orders), resolution=resolution)
    rows = []
    for n in orders:
        ev = estimator_variance.estimator_variances(spec, x, widths, n, ds[f"t{n}_points"].values, moments=moments)
        se_plain, se_rb = ds[f"G{n}_stderr"].values, ds[f"G{n}_rb_stderr"].values  # (width, out, T)
        true_plain = np.sqrt(ev.plain / n_networks)[:, None, :]
        true_rb = np.sqrt(ev.rao_blackwell / n_networks)[:, None, :]
        true = np.broadcast_to(ev.reduction[:, None, :], se_plain.shape)
        estimated = (se_plain / se_rb) ** 2
        for i, width in enumerate(widths):
            rows.append(dict(
                n=n, width=int(width), n_elements=true[i].size,
                true_reduction_min=true[i].min(), true_reduction_median=np.median(true[i]),
                estimated_reduction_min=estimated[i].min(), estimated_reduction_median=np.median(estimated[i]),
                stderr_ratio_plain_median=np.median(se_plain[i] / true_plain[i]),
                stderr_ratio_rb_median=np.median(se_rb[i] / true_rb[i]),
                rb_smaller_true=bool(true[i].min() > 1),
            ))
    return pd.DataFrame(rows)
