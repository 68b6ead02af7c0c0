"""Independent z-scores from correlated block means: step-down whitening, and their summaries.

An invariance test compares R.G with G on the same networks, so the statistic is the
difference, and its error comes from the spread of that difference over equal blocks of
networks (batch means). Its components (every multiset, component and transform) are strongly
correlated, so their marginal z-scores are not independent and a goodness-of-fit test on them
would be wrong. Here a set of contrasts y (B blocks x r contrasts) is turned into r independent
z-scores by **step-down (sequential-regression) whitening**:

    t_j = intercept / stderr in the least-squares regression of y_j on [1, y_1 .. y_{j-1}]

over the B blocks. If the block means are i.i.d. Gaussian with mean zero (the null hypothesis),
y_j given y_1..y_{j-1} is Gaussian with mean beta . y_<j and no intercept, so t_j has Student's
t law with B - j degrees of freedom *whatever the earlier columns are*: t_j is independent of
t_1..t_{j-1}. Mapping each through its own t distribution onto N(0, 1) gives exactly i.i.d.
standard normal z-scores under the null, for any covariance and without inverting a covariance
estimate. sum_j z_j^2 is then chi-square with r degrees of freedom. Under a broken symmetry the
intercepts mu_j - beta . mu_<j are non-zero and the z-scores shift.

Columns that are (nearly) linear in the earlier ones are dropped: exactly dependent ones (e.g.
contrasts whose sum is an invariant, like the trace of a rotated 2-pt function) and nearly
dependent ones, whose residual keeps less than ``DEPENDENCE_RTOL`` of their spread. In those
near-null directions the Gaussian part of the block means cancels and their heavy-tailed,
skewed part (Gauss-net's log-normal hidden units) dominates, so the t law fails: measured on
Gauss-net translations at N = 5, keeping residuals down to 1e-3 of the spread inflated the
null z-scores' std to 1.4; at 0.1 it is 1.07 (output and input rotations are calibrated at
either threshold).
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from nnqft import estimators

# A column is dropped when its residual norm is below this fraction of its centred norm.
DEPENDENCE_RTOL = 0.1


def stepdown_tstats(y, rtol: float = DEPENDENCE_RTOL):
    """Step-down t-statistics of the hypothesis E[y] = 0 for rows y (B, r) i.i.d.

    Returns (t, dof, kept): t (m,), degrees of freedom (m,), and the indices (m,) of the columns
    kept (dependent columns are dropped). By Frisch-Waugh-Lovell, with M the residual maker of
    the kept earlier columns (no intercept): intercept = (M1 . My) / |M1|^2, its variance
    s^2 / |M1|^2, and RSS = |My|^2 - (M1 . My)^2 / |M1|^2.
    """
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 2:
        raise ValueError(f"expected block means of shape (B, r), got {y.shape}")
    n_blocks = y.shape[0]
    ones = np.ones(n_blocks)
    basis = np.zeros((n_blocks, 0))
    t, dof, kept = [], [], []
    for j in range(y.shape[1]):
        col = y[:, j]
        resid = col - basis @ (basis.T @ col)
        resid = resid - basis @ (basis.T @ resid)  # second Gram-Schmidt pass for stability
        one = ones - basis @ (basis.T @ ones)
        one = one - basis @ (basis.T @ one)
        nu = n_blocks - 1 - basis.shape[1]
        c1 = one @ one
        centred = col - col.mean()
        scale = centred @ centred
        cross = one @ resid
        rss = resid @ resid - cross**2 / c1 if c1 > 0 else 0.0
        if nu < 1 or scale <= 0 or c1 <= 0 or rss <= rtol**2 * scale:
            continue
        t.append((cross / c1) / np.sqrt(rss / nu / c1))
        dof.append(nu)
        kept.append(j)
        basis = np.column_stack([basis, resid / np.linalg.norm(resid)])
    return np.array(t), np.array(dof, dtype=np.int64), np.array(kept, dtype=np.int64)


def _t_logsf(t, dof):
    """log P(T_dof > t) for t >= 0, with the power-law tail where scipy underflows."""
    logp = stats.t.logsf(t, dof)
    bad = ~np.isfinite(logp)
    if np.any(bad):
        nu, tb = dof[bad].astype(np.float64), t[bad]
        log_c = special.gammaln((nu + 1) / 2) - special.gammaln(nu / 2) - 0.5 * np.log(nu * np.pi)
        logp[bad] = log_c + (nu - 1) / 2 * np.log(nu) - nu * np.log(tb)
    return logp


def t_to_z(t, dof) -> np.ndarray:
    """Map t-statistics onto standard-normal quantiles with equal tail probability (exact),
    in log space, so that |t| of 1e6 still gives a finite z."""
    t = np.asarray(t, dtype=np.float64)
    dof = np.broadcast_to(np.asarray(dof), t.shape)
    z = -special.ndtri_exp(_t_logsf(np.abs(t), dof))
    return np.where(t < 0, -z, z)


def chi2_log_sf(x, dof) -> float:
    """log P(chi2_dof > x), with the leading asymptotic term where scipy underflows."""
    logp = float(stats.chi2.logsf(x, dof))
    if not np.isfinite(logp):
        logp = (dof / 2 - 1) * np.log(x / 2) - x / 2 - special.gammaln(dof / 2)
    return logp


def sigma_from_log_p(log_p: float) -> float:
    """One-sided Gaussian equivalent of a p-value given as its logarithm: P(Z > sigma) = p."""
    return float(-special.ndtri_exp(min(log_p, np.log1p(-1e-16))))


def stepdown_zscores(y, rtol: float = DEPENDENCE_RTOL) -> np.ndarray:
    """Independent N(0, 1) z-scores under E[y] = 0 for block means y (B, r) (see module doc)."""
    t, dof, _ = stepdown_tstats(y, rtol)
    return t_to_z(t, dof)


def summarize(z, detection_sigma: float = 5.0) -> dict:
    """Goodness of fit of z-scores to N(0, 1) and the chi-square significance of their sum.

    ``sigma`` is the one-sided Gaussian equivalent of P(chi2_r > sum z^2); the symmetry is
    ``detected`` (broken) when sigma exceeds ``detection_sigma``.
    """
    z = np.asarray(z, dtype=np.float64)
    if z.size < 1:
        raise ValueError("no z-scores to summarize")
    chi2 = float(np.sum(z**2))
    log_p = chi2_log_sf(chi2, z.size)
    sigma = sigma_from_log_p(log_p)
    return {
        "n_z": int(z.size),
        "z_mean": float(z.mean()),
        "z_std": float(z.std(ddof=1)) if z.size > 1 else float("nan"),
        "ks_p": float(stats.kstest(z, "norm").pvalue),
        "chi2": chi2,
        "dof": int(z.size),
        "log10_p": log_p / np.log(10),
        "sigma": sigma,
        "detected": bool(sigma > detection_sigma),
    }


def marginal_summary(diff_blocks) -> dict:
    """Marginal z = mean / batch-means stderr of every component of block means (B, ...).

    These are correlated, so only descriptive: count, mean, std and max |z|.
    """
    diff_blocks = np.asarray(diff_blocks, dtype=np.float64)
    mean, stderr = estimators.mean_and_stderr(diff_blocks.reshape(diff_blocks.shape[0], -1))
    ok = stderr > 0
    z = mean[ok] / stderr[ok]
    return {
        "n_marginal": int(z.size),
        "marginal_z_mean": float(z.mean()),
        "marginal_z_std": float(z.std(ddof=1)),
        "marginal_max_abs_z": float(np.abs(z).max()),
    }


def contrasts(diff_blocks, groups=(), n_random: int = 0, *, random_weights=None, spread=None) -> np.ndarray:
    """Contrasts of block-mean differences (B, K, T), per transform k, for step-down whitening.

    Each component is first divided by its spread over blocks (inverse-noise weighting; pass
    ``spread`` (K, T) to apply the weights of another data set, e.g. to a known mean). Then,
    for each transform: one **group sum** per index array in ``groups`` (components whose
    breaking adds coherently, e.g. G_{i..i} over all input multisets), and ``n_random``
    **random contrasts** with the fixed weights ``random_weights`` (K, n_random, T) (Gaussian,
    drawn from a keyed stream by the caller). Returns (B, K * (len(groups) + n_random)).
    """
    diff_blocks = np.asarray(diff_blocks, dtype=np.float64)
    if diff_blocks.ndim != 3:
        raise ValueError(f"expected differences (B, K, T), got {diff_blocks.shape}")
    b, k, t = diff_blocks.shape
    spread = diff_blocks.std(axis=0, ddof=1) if spread is None else np.asarray(spread, dtype=np.float64)
    w = diff_blocks * np.where(spread > 0, 1.0 / np.where(spread > 0, spread, 1.0), 0.0)
    parts = [w[:, :, np.asarray(g)].sum(axis=-1)[..., None] for g in groups]
    if n_random:
        a = np.asarray(random_weights, dtype=np.float64)
        if a.shape != (k, n_random, t):
            raise ValueError(f"random_weights has shape {a.shape}, expected {(k, n_random, t)}")
        parts.append(np.einsum("kct,bkt->bkc", a, w))
    if not parts:
        raise ValueError("need at least one group or one random contrast")
    return np.concatenate(parts, axis=-1).reshape(b, -1)
