"""Running of the quartic coupling with the cutoff (P1, science.md sec. 5).

Each cutoff Lambda defines its own constant coupling, the M1 fit lambda(Lambda) to the measured
Delta G4 with the box integral I_4(Lambda). P1 states beta(lambda) = d lambda / d log Lambda =
-d_in lambda. If the propagator grows like |y|^p at large |y|, I_4 ~ Lambda^(d_in + 4p) and the
slope of log|lambda| against log Lambda is -(d_in + 4p); a propagator that decays makes I_4
converge and lambda stop running (slope 0). We measure the slope and put both predictions beside it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from nnqft import eft, feynman
from nnqft.networks import NetworkSpec


def running_coupling(vertices: xr.Dataset, obs: eft.Observation) -> pd.DataFrame:
    """lambda(Lambda) with its standard error: the M1 fit at every cutoff of ``vertices``."""
    rows = []
    for cutoff in vertices["cutoff"].values:
        result = eft.fit(vertices.sel(cutoff=cutoff), "M1", obs)
        rows.append(dict(cutoff=float(cutoff), lambda0=result.couplings[0],
                         lambda0_stderr=np.sqrt(result.cov[0, 0])))
    return pd.DataFrame(rows)


def kernel_degree(spec: NetworkSpec, x, propagator: str = "K-sb2", scale: float = 1e6) -> float:
    """Growth exponent p of the propagator P(x, y) ~ |y|^p at large |y|, read off numerically.

    Measured along the directions of the inputs themselves (where a ReLU propagator is non-zero),
    between |y| = scale and 10 scale. NaN when the propagator decays (the box integrals converge).
    """
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    directions = x / np.linalg.norm(x, axis=1, keepdims=True)
    near = np.abs(feynman.propagator(spec, x, scale * directions, kind=propagator)).max()
    far = np.abs(feynman.propagator(spec, x, 10 * scale * directions, kind=propagator)).max()
    if far < 1e-200 or far < 1e-3 * near:
        return np.nan
    return float(np.round(np.log10(far / near), 3)) + 0.0  # + 0.0: no -0.0


def predicted_slope(spec: NetworkSpec, x, propagator: str = "K-sb2") -> float:
    """-(d_in + 4p) from the kernel degree, or 0 when the integrals converge."""
    p = kernel_degree(spec, x, propagator)
    return 0.0 if np.isnan(p) else -(spec.d_in + 4 * p)


# The Feynman-rule integrals are accurate to 1e-6 relative, so no slope is known better than this,
# even where lambda(Lambda) is an exact power law and the regression error vanishes (ReLU, d_in = 1).
SLOPE_STDERR_FLOOR = 1e-6


# The kernel-degree prediction is asymptotic: I_4 = A Lambda^k (1 + O(log Lambda / Lambda)) (for Erf the
# propagator approaches different constants for y -> +-inf, giving a log Lambda term). A straight-line
# fit over all cutoffs carries that pre-asymptotic curvature; the local slope between the two largest
# cutoffs is the asymptotic exponent to within this tolerance (the integrals are good to 1e-6).
ASYMPTOTIC_TOLERANCE = 1e-3


def slope(running: pd.DataFrame) -> dict:
    """Least-squares slope of log|lambda| against log Lambda, its standard error and R^2.

    The error is the regression's: it measures how far lambda(Lambda) is from a power law over
    the cutoffs (the statistical error of Delta G4 moves every lambda(Lambda) by nearly the same
    factor, hence hardly the slope).
    """
    ordered = running.sort_values("cutoff")
    log_cutoff, log_lambda = np.log(ordered["cutoff"].values), np.log(np.abs(ordered["lambda0"].values))
    fit = stats.linregress(log_cutoff, log_lambda)
    local = np.diff(log_lambda[-2:]) / np.diff(log_cutoff[-2:])
    # fmax: a coupling that does not run at all (converged integrals) has a NaN regression error.
    return dict(slope=fit.slope, slope_stderr=float(np.fmax(fit.stderr, SLOPE_STDERR_FLOOR)), r_squared=fit.rvalue**2,
                asymptotic_slope=float(local[0]))
