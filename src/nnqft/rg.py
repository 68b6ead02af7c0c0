"""Running of the quartic coupling with the cutoff (P1, docs/physics.md sec. 5).

Each cutoff Lambda defines its own constant coupling, the M1 fit lambda(Lambda) to the measured
Delta G4 with the box integral I_4(Lambda). P1 states beta(lambda) = d lambda / d log Lambda =
-d_in lambda. If the propagator grows like |y|^p at large |y|, I_4 ~ Lambda^(d_in + 4p) and the
slope of log|lambda| against log Lambda is -(d_in + 4p); a propagator that decays makes I_4
converge and lambda stop running (slope 0).

Both predictions are about the exponent as Lambda -> inf. We measure it by fitting the asymptotic
expansion over the large cutoffs, with sampling and truncation errors, and also P1's straight line
through all cutoffs, which carries the pre-asymptotic curvature of lambda(Lambda).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from nnqft import eft, feynman
from nnqft.networks import NetworkSpec


def running_coupling(vertices: xr.Dataset, obs: eft.Observation) -> tuple[pd.DataFrame, np.ndarray]:
    """lambda(Lambda) with its standard error (the M1 fit at every cutoff of ``vertices``), and a factor
    F (K, T) of the sampling covariance F F^T of log|lambda| over the K cutoffs.

    Every lambda(Lambda) is fitted to the same Delta G4, so their errors are almost fully correlated
    and nearly cancel in a slope; the covariance (delta method through the linear fit) says how much.
    A factor keeps the variance of a slope, |row F|^2, non-negative even where they cancel exactly.
    """
    rows, gradients = [], []
    for cutoff in vertices["cutoff"].values:
        result = eft.fit(vertices.sel(cutoff=cutoff), "M1", obs)
        rows.append(dict(cutoff=float(cutoff), lambda0=result.couplings[0],
                         lambda0_stderr=np.sqrt(result.cov[0, 0])))
        gradients.append(result.operator[0] / result.couplings[0])  # d log|lambda| / d Delta G4
    gradients = np.array(gradients)
    return pd.DataFrame(rows), gradients @ np.linalg.cholesky(obs.cov)


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
# even where lambda(Lambda) is an exact power law and has no sampling error in its slope (ReLU, d_in = 1).
SLOPE_STDERR_FLOOR = 1e-6


def _slope_operator(basis: np.ndarray) -> np.ndarray:
    """Row of the least-squares pseudo-inverse that reads the coefficient of log Lambda (column 1)."""
    scale = np.abs(basis).max(axis=0)
    return np.linalg.pinv(basis / scale)[1] / scale[1]


def _log_lambda(running: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return np.log(running["cutoff"].values), np.log(np.abs(running["lambda0"].values))


def range_slope(running: pd.DataFrame, log_factor: np.ndarray) -> dict:
    """P1's measurement: the straight line through log|lambda| against log Lambda over every cutoff.

    The error is the sampling error of that slope (with the integral-accuracy floor). The line is a
    fixed functional of lambda(Lambda); where lambda does not run as a pure power law over the
    cutoffs, the slope differs from the asymptotic exponent by more than this error, and R^2 < 1.
    """
    log_cutoff, log_lambda = _log_lambda(running)
    row = _slope_operator(np.column_stack([np.ones_like(log_cutoff), log_cutoff]))
    value = float(row @ log_lambda) + 0.0  # + 0.0: no -0.0
    resid = log_lambda - log_lambda.mean() - value * (log_cutoff - log_cutoff.mean())
    spread = np.sum((log_lambda - log_lambda.mean()) ** 2)
    runs = np.ptp(log_lambda) > 1e-9  # else R^2 would be a ratio of rounding errors
    return dict(range_slope=value, range_slope_stderr=float(np.hypot(np.linalg.norm(row @ log_factor), SLOPE_STDERR_FLOOR)),
                range_r_squared=float(1 - resid @ resid / spread) if runs else np.nan)


# The kernel-degree prediction is asymptotic. A propagator P(x, y) = P_inf(x, y/|y|) |y|^p (1 + c/|y| + ...)
# gives I_4 = A Lambda^k (1 + (a log Lambda + b) / Lambda + O(log^2 Lambda / Lambda^2)): the log comes from
# the 1/|y| term in d_in = 1 (Erf with sb != 0 approaches different constants as y -> +-inf), and
# log|lambda(Lambda)| has the same expansion. Fitting these terms over the large cutoffs extrapolates
# the exponent; the change made by the last, 1 / Lambda^2, term estimates the truncation error (it is
# the error of the fit complete to O(1 / Lambda), so it is conservative for the fit we report).
ASYMPTOTIC_TERMS = (
    lambda c: np.ones_like(c),
    np.log,
    lambda c: 1 / c,
    lambda c: np.log(c) / c,
    lambda c: 1 / c**2,
)


def asymptotic_slope(running: pd.DataFrame, log_factor: np.ndarray, min_cutoff: float) -> dict:
    """The exponent of lambda(Lambda) as Lambda -> inf, from the cutoffs >= ``min_cutoff``.

    Its standard error combines the sampling error, the truncation error of the asymptotic expansion
    and the integral-accuracy floor in quadrature.
    """
    cutoffs = running["cutoff"].values
    use = cutoffs >= min_cutoff
    if use.sum() < len(ASYMPTOTIC_TERMS):
        raise ValueError(f"the asymptotic fit needs {len(ASYMPTOTIC_TERMS)} cutoffs >= {min_cutoff:g}; "
                         f"have {sorted(cutoffs[use].tolist())}")
    log_lambda = _log_lambda(running)[1][use]
    basis = np.column_stack([term(cutoffs[use]) for term in ASYMPTOTIC_TERMS])
    row, lower = _slope_operator(basis), _slope_operator(basis[:, :-1])
    value = float(row @ log_lambda) + 0.0
    stat = np.linalg.norm(row @ log_factor[use])
    truncation = abs(value - float(lower @ log_lambda))
    return dict(asymptotic_slope=value, asymptotic_slope_stderr=float(np.sqrt(stat**2 + truncation**2 + SLOPE_STDERR_FLOOR**2)),
                asymptotic_stat_stderr=float(stat), asymptotic_truncation=truncation,
                asymptotic_min_cutoff=float(min_cutoff), n_asymptotic_cutoffs=int(use.sum()))


def local_slopes(running: pd.DataFrame) -> pd.DataFrame:
    """beta / lambda = d log|lambda| / d log Lambda between neighbouring cutoffs (at their geometric mean)."""
    ordered = running.sort_values("cutoff")
    log_cutoff, log_lambda = _log_lambda(ordered)
    return pd.DataFrame(dict(cutoff=np.exp((log_cutoff[1:] + log_cutoff[:-1]) / 2),
                             local_slope=np.diff(log_lambda) / np.diff(log_cutoff)))


def verdicts(row: dict) -> dict:
    """z-scores of the asymptotic and the all-cutoff slopes against the kernel-degree prediction and
    P1's -d_in, and whether each holds (|z| < 3)."""
    out = {}
    for claim, target in (("prediction", row["predicted_slope"]), ("p1_claim", row["p1_claim_slope"])):
        z = (row["asymptotic_slope"] - target) / row["asymptotic_slope_stderr"]
        z_range = (row["range_slope"] - target) / row["range_slope_stderr"]
        out |= {f"z_{claim}": z, f"{claim}_holds": bool(abs(z) < 3),
                f"range_z_{claim}": z_range, f"range_{claim}_holds": bool(abs(z_range) < 3)}
    return out
