"""Non-Gaussianity from broken independence (P3): a network family whose output weights share a
random scale s, s^2 = 1 + eps * (+-1) (``NetworkSpec.shared_scale_eps``).

f = s g with g the i.i.d. network and s independent of g, so every moment is exact:
G^(n)_eps(N) = E[s^n] G^(n)(N). With E[s^2] = 1 and E[s^4] = 1 + eps^2 the connected 4-pt is
(1 + eps^2) G4_c(N) + eps^2 sum_3 K K: it survives N -> infinity whenever eps > 0.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import xarray as xr

from nnqft import correlators, estimators, exact
from nnqft.networks import NetworkSpec


def exact_connected(spec: NetworkSpec, x, widths, eps_values, n: int = 4) -> np.ndarray:
    """Exact connected n-pt (E, W, T_n) of the shared-scale family; widths may include np.inf.

    The i.i.d. moments are computed once; each eps only rescales them by E[s^k].
    """
    iid = dataclasses.replace(spec, shared_scale_eps=0.0)
    orders = tuple(range(2, n + 1, 2))
    full = exact.exact_correlators(iid, x, widths, orders)
    out = []
    for eps in eps_values:
        family = dataclasses.replace(spec, shared_scale_eps=float(eps))
        moments = {k: family.scale_moment(k) * full[f"G{k}"] for k in orders}
        out.append(correlators.cumulants_from_moments(moments, len(x), n))
    return np.stack(out)


def relative_connected(g4c, g4_gp):
    """Scalar measure of non-Gaussianity: sum over elements of G4_c / sum of G4_GP."""
    return np.sum(g4c, axis=-1) / np.sum(g4_gp)


def summary(datasets_by_eps: dict[float, xr.Dataset], spec: NetworkSpec, x, n_grid: int = 21) -> pd.DataFrame:
    """Measured (plain, Rao-Blackwell; jackknife errors) and exact relative connected 4-pt.

    One row per (eps, width, estimator). Estimator "exact" is also given at width = inf and on
    ``n_grid`` equally spaced eps in [0, max eps], so that its curve can be drawn.
    """
    rows = []
    n_points = len(x)
    widths = next(iter(datasets_by_eps.values()))["width"].values.astype(np.float64)
    all_widths = np.append(widths, np.inf)
    gp = next(iter(datasets_by_eps.values()))["G4_gp"].values
    measured_eps = sorted(datasets_by_eps)
    grid = np.union1d(np.linspace(0.0, max(measured_eps), n_grid), measured_eps)
    exact_grid = relative_connected(exact_connected(spec, x, all_widths, grid), gp)  # (E, W + 1)
    for eps_value, values in zip(grid, exact_grid):
        rows += [dict(eps=eps_value, width=w, estimator="exact", value=v, stderr=0.0, exact=v, z=0.0)
                 for w, v in zip(all_widths, values)]
    for eps, ds in datasets_by_eps.items():
        exact_values = exact_grid[np.searchsorted(grid, eps)]
        axis = ds["G2_block_mean"].get_axis_num("block")
        for suffix, est in (("", "plain"), ("_rb", "rao_blackwell")):
            def stat(g2, g4):
                gc = correlators.cumulants_from_moments({2: g2, 4: g4}, n_points, 4)
                return relative_connected(gc.mean(axis=-2), gp)

            value, err = estimators.jackknife(
                stat, ds[f"G2{suffix}_block_mean"].values, ds[f"G4{suffix}_block_mean"].values, axis=axis)
            for i, width in enumerate(widths):
                rows.append(dict(eps=eps, width=width, estimator=est, value=value[i], stderr=err[i],
                                 exact=exact_values[i], z=(value[i] - exact_values[i]) / err[i]))
    return pd.DataFrame(rows)
