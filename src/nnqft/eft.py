"""P1's Wilsonian EFT of the finite-width output distribution: coupling fits and predictions.

To first order in the couplings (docs/physics.md sec. 4) the 4-pt deviation from the GP is linear in
them, Delta G4 = sum_c g_c X_c, with design columns X_c the Feynman-rule integrals of
``nnqft.feynman`` per unit coupling. Models (nested):

    M0  none (the GP)          M1  constant lambda_0          M2  lambda_0 + lambda_2 y^2
    M3  M2 + lambda_NL int int f(x)^2 f(y)^2

A fit is generalised least squares with the covariance of the measured Delta G4 estimated from
block means (Ledoit-Wolf shrinkage of the block correlation matrix: with 126 multisets and ~100
blocks the sample covariance is singular). Couplings are fitted on the *train* inputs and
predicted on *test* inputs measured on independent networks; the same fit to the exact Delta G4
(parameter-space duality) separates sampling error from model error.

Delta G4 is measured with ``correlators.gp_deviation_blocks`` (Rao-Blackwell with a control
variate), whose noise is O(1/N) instead of the O(N^-1/2) of G4 - G4_GP from plain moments.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
import xarray as xr
from scipy import linalg, special

from nnqft import correlators, datasets, ensemble, exact, feynman, inputs
from nnqft.blocks import Sampling
from nnqft.networks import NetworkSpec

MODELS = {
    "M0": (),
    "M1": ("lambda0",),
    "M2": ("lambda0", "lambda2"),
    "M3": ("lambda0", "lambda2", "lambda_nl"),
}
COUPLINGS = MODELS["M3"]


class Observation(NamedTuple):
    """A measured correlator deviation: its estimate (T,) and the covariance of that estimate (T, T)."""

    mean: np.ndarray
    cov: np.ndarray


class Fit(NamedTuple):
    names: tuple
    couplings: np.ndarray  # (k,)
    cov: np.ndarray  # (k, k)
    identifiable: bool
    # (k, T): couplings = operator @ Delta G4. The fit is linear in the data, so this carries the
    # sampling error of Delta G4 into anything computed from the couplings (delta method).
    operator: np.ndarray


def shrunk_covariance(block_values: np.ndarray) -> np.ndarray:
    """Covariance of the mean of equal blocks (B, T): Ledoit-Wolf on the standardised blocks.

    Shrinking the *correlation* matrix towards the identity keeps each element's own variance and
    only regularises the correlations, which is what a singular B < T sample covariance needs.
    """
    b = np.asarray(block_values, dtype=np.float64)
    scale = b.std(axis=0, ddof=1)
    if np.any(scale <= 0):
        raise ValueError("an element has zero variance over blocks; its covariance cannot be estimated")
    # Imported here: scikit-learn (with scipy.stats) doubles the start-up of every EFT job, most of
    # which (the ensembles, the vertices) never shrink a covariance.
    from sklearn.covariance import ledoit_wolf

    corr, _ = ledoit_wolf((b - b.mean(axis=0)) / scale, assume_centered=True)
    return corr * np.outer(scale, scale) * len(b) / (len(b) - 1) / len(b)


def exact_values(spec: NetworkSpec, x: np.ndarray, width: int) -> xr.Dataset:
    """The exact correlators of one width (``datasets.exact_dataset``)."""
    return datasets.exact_dataset(exact.exact_correlators(spec, x, [width]), [width], x)


def ensemble_name(activation: str, split: str) -> str:
    """Stable name of an EFT ensemble: split "train", "test" or "replicate<r>" (further independent
    train ensembles). Distinct names key distinct random streams, hence independent networks."""
    return f"eft/{activation}/{split}"


def split_inputs(activation: str, split: str, train_factor: float) -> np.ndarray:
    """The inputs of an EFT ensemble: replicates are measured on the train inputs."""
    return inputs.fit_inputs(activation, "train" if split.startswith("replicate") else split, train_factor)


def fit_vertices(spec: NetworkSpec, x: np.ndarray, cutoff: float, propagator: str) -> xr.Dataset:
    """The order-4 Feynman-rule integrals (I4, I4_y2, J, K4) of the EFT fits at one cutoff; the
    cutoff stays as a scalar coordinate."""
    return feynman.vertex_integrals(spec, x, [cutoff], propagator=propagator, orders=(4,)).isel(cutoff=0)


def vertices_for(vertices: xr.Dataset, ds: xr.Dataset, vertices_path: str) -> xr.Dataset:
    """``vertices`` after checking they were computed for this ensemble's network and inputs: a
    theory product and an ensemble made from different configs must not be joined silently."""
    same_net = all(vertices.attrs[k] == ds.attrs[k] for k in ("activation", "sw", "sb"))
    if not same_net or not np.array_equal(vertices["x"].values, ds["x"].values):
        raise ValueError(f"{vertices_path} holds integrals for {vertices.attrs['activation']} "
                         f"(sw={vertices.attrs['sw']}, sb={vertices.attrs['sb']}) at x = "
                         f"{vertices['x'].values.ravel().tolist()}, but ensemble {ds.attrs.get('ensemble')} is "
                         f"{ds.attrs['activation']} (sw={ds.attrs['sw']}, sb={ds.attrs['sb']}) at x = "
                         f"{ds['x'].values.ravel().tolist()}; rerun the workflow so both come from one config")
    return vertices


def fit_dataset(spec: NetworkSpec, x: np.ndarray, width: int, sampling: Sampling, name: str,
                exact_correlators: xr.Dataset | None = None) -> xr.Dataset:
    """One EFT ensemble: block means of every moment at one width, with the exact correlators.

    ``name`` keys every random stream, so two names give independent networks. Background chunks =
    blocks: the EFT stage uses batch-means errors, P1's chunk noise is not needed. Pass
    ``exact_correlators`` (``exact_values``) when many ensembles share the inputs and width.
    """
    means = ensemble.run_shard(spec, x, [width], sampling, ensemble=name, blocks=range(sampling.n_blocks))
    blocks = datasets.shard_dataset(means, [width], range(sampling.n_blocks), sampling.block_size)
    exact_ds = exact_values(spec, x, width) if exact_correlators is None else exact_correlators
    return datasets.correlator_dataset(blocks, spec, x, sampling.n_blocks, exact=exact_ds)


def exact_deviation(ds: xr.Dataset) -> np.ndarray:
    """The exact Delta G4 = G4 - G4_GP of a one-width dataset (parameter-space duality)."""
    return ds["G4_exact"].values[0] - ds["G4_gp"].values


def observed_deviation(ds: xr.Dataset, n: int, width: int) -> tuple[Observation, np.ndarray]:
    """Delta G^(n) of output 0 at one width of a correlator dataset, and its per-block values (B, T)."""
    n_points = ds.sizes["point"]
    gp_kernel = correlators.symmetric_matrix(ds["G2_gp"].values, n_points)
    rb = {k: ds[f"G{k}_rb_block_mean"].sel(width=width).isel(out=0).values for k in (2, n)}
    blocks = correlators.gp_deviation_blocks(rb, gp_kernel, n_points, n)
    return Observation(blocks.mean(axis=0), shrunk_covariance(blocks)), blocks


def design_matrix(vertices: xr.Dataset, model: str) -> np.ndarray:
    """The (T4, k) design of a 4-pt model at one cutoff: Delta G4 per unit of each coupling."""
    if model not in MODELS:
        raise ValueError(f"unknown coupling model {model!r}; have {sorted(MODELS)}")
    tuples = vertices["t4_points"].values
    columns = {
        "lambda0": lambda: feynman.lambda_term_g4(vertices["I4"].values),
        "lambda2": lambda: feynman.lambda2_term_g4(vertices["I4_y2"].values),
        "lambda_nl": lambda: feynman.nonlocal_term_g4(vertices["J"].values, tuples),
    }
    return np.column_stack([columns[c]() for c in MODELS[model]] or [np.zeros((len(tuples), 0))])


# Whitened, unit-norm design columns with a singular-value ratio below this are degenerate: the
# couplings are not identifiable (e.g. ReLU with sb = 0 on a ray, where every vertex is prod x_i
# times a cutoff power, so lambda_0 and lambda_2 enter only in one combination).
IDENTIFIABLE_RCOND = 1e-8


def gls(design: np.ndarray, y: np.ndarray, cov: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool, np.ndarray]:
    """Generalised least squares: coefficients, their covariance (X^T C^-1 X)^-1, whether they are
    identifiable, and the (k, T) operator A with coefficients = A y.

    Columns are whitened by the Cholesky factor of C and scaled to unit norm before the
    pseudo-inverse, so couplings that differ by many orders of magnitude (lambda_2 multiplies y^2 up
    to Lambda^2) are fitted as accurately as the data allow. A degenerate design gives the
    minimum-norm solution (its predictions are still the least-squares ones), not identifiable.
    """
    if design.shape[1] == 0:
        return np.zeros(0), np.zeros((0, 0)), True, np.zeros((0, len(y)))
    chol = linalg.cholesky(cov, lower=True)
    xw = linalg.solve_triangular(chol, design, lower=True)
    norm = np.linalg.norm(xw, axis=0)
    sv = np.linalg.svd(xw / norm, compute_uv=False)
    pinv = np.linalg.pinv(xw / norm, rcond=IDENTIFIABLE_RCOND)
    operator = linalg.solve_triangular(chol, pinv.T, lower=True, trans="T").T / norm[:, None]
    coef_cov = (pinv @ pinv.T) / np.outer(norm, norm)
    return operator @ y, coef_cov, bool(sv.min() > IDENTIFIABLE_RCOND * sv.max()), operator


def fit(vertices: xr.Dataset, model: str, obs: Observation) -> Fit:
    return Fit(MODELS[model], *gls(design_matrix(vertices, model), obs.mean, obs.cov))


def predict(vertices: xr.Dataset, result: Fit) -> np.ndarray:
    """Delta G4 (T4,) of fitted couplings on the inputs of ``vertices``."""
    design = design_matrix(vertices, _model_of(result.names))
    return design @ result.couplings if design.shape[1] else np.zeros(design.shape[0])


def _model_of(names: tuple) -> str:
    return next(m for m, c in MODELS.items() if c == tuple(names))


def metrics(prediction: np.ndarray, obs: Observation, n_fitted: int = 0) -> dict:
    """MAPE (%), MSE and chi^2/dof (with its p-value) of a Delta G4 prediction against a measurement."""
    resid = obs.mean - prediction
    chi2 = float(resid @ linalg.solve(obs.cov, resid, assume_a="pos"))
    dof = len(resid) - n_fitted
    return dict(
        mape=100 * float(np.mean(np.abs(resid) / np.abs(obs.mean))),
        mse=float(np.mean(resid**2)),
        chi2=chi2,
        chi2_dof=chi2 / dof,
        chi2_pvalue=float(special.chdtrc(dof, chi2)),  # the chi^2 survival function
    )


def fit_rows(train_vertices: xr.Dataset, test_vertices: xr.Dataset, train: Observation, test: Observation,
             exact_train: np.ndarray, exact_test: np.ndarray) -> tuple[list[dict], dict[str, np.ndarray]]:
    """One row per model: couplings with errors, the same fit to the exact Delta G4, train/test metrics.

    ``test_mape_vs_exact`` compares the test prediction with the exact (noise-free) test Delta G4:
    the model error of the fitted couplings, free of the test ensemble's sampling error.
    Also returns each model's Delta G4 prediction on the test inputs.
    """
    rows, test_predictions = [], {}
    for model, names in MODELS.items():
        measured = fit(train_vertices, model, train)
        exact = fit(train_vertices, model, Observation(exact_train, train.cov))
        row = dict(model=model, identifiable=measured.identifiable)
        for c in COUPLINGS:
            i = names.index(c) if c in names else None
            if i is None:
                row[c] = row[f"{c}_stderr"] = row[f"{c}_exact_fit"] = row[f"{c}_z_exact"] = 0.0
            elif not measured.identifiable:  # only a combination is determined: no value to report
                row[c] = row[f"{c}_stderr"] = row[f"{c}_exact_fit"] = row[f"{c}_z_exact"] = np.nan
            else:
                row[c], row[f"{c}_stderr"] = measured.couplings[i], np.sqrt(measured.cov[i, i])
                row[f"{c}_exact_fit"] = exact.couplings[i]
                row[f"{c}_z_exact"] = (row[c] - row[f"{c}_exact_fit"]) / row[f"{c}_stderr"]
        for split, vertices, obs, k in (("train", train_vertices, train, len(names)), ("test", test_vertices, test, 0)):
            prediction = predict(vertices, measured)
            for key, value in metrics(prediction, obs, k).items():
                row[f"{split}_{key}"] = value
        row["test_mape_vs_exact"] = 100 * float(np.mean(np.abs(exact_test - prediction) / np.abs(exact_test)))
        test_predictions[model] = prediction
        rows.append(row)
    return rows, test_predictions


def six_point_table(test_vertices: xr.Dataset, gp_kernel: np.ndarray, lambda0: float, measured: Observation,
                    gp: np.ndarray, exact: np.ndarray) -> pd.DataFrame:
    """P1's six-point prediction on all multisets: G6 measured vs GP, GP + lambda_0 term, exact.

    ``measured`` is Delta G6 (estimate, covariance); ``gp`` and ``exact`` are G6_GP and exact G6.
    """
    n_points = len(gp_kernel)
    tuples = correlators.multisets(n_points, 6)
    lam_term = lambda0 * feynman.lambda_term_g6(gp_kernel, test_vertices["I4"].values, n_points)
    table = pd.DataFrame({"multiset": [" ".join(map(str, t)) for t in tuples.tolist()]})
    table["G6_gp"] = gp
    table["G6_measured"] = gp + measured.mean
    table["G6_stderr"] = np.sqrt(np.diag(measured.cov))
    table["G6_gp_lambda"] = gp + lam_term
    table["G6_exact"] = exact
    return table


def six_point_summary(table: pd.DataFrame) -> dict:
    """Does the lambda term move G6 towards the measurement (and the exact value)?

    ratio = |G6_ref - (GP + lambda term)| / |G6_ref - GP| per multiset: below 1 where it helps.
    """
    out = {}
    for ref in ("measured", "exact"):
        ratio = np.abs(table[f"G6_{ref}"] - table["G6_gp_lambda"]) / np.abs(table[f"G6_{ref}"] - table["G6_gp"])
        out[f"ratio_{ref}_mean"] = float(ratio.mean())
        out[f"ratio_{ref}_median"] = float(ratio.median())
        out[f"ratio_{ref}_std"] = float(ratio.std())
        out[f"frac_improved_{ref}"] = float(np.mean(ratio < 1))
    z = (table["G6_measured"] - table["G6_exact"]) / table["G6_stderr"]
    out["measured_vs_exact_max_abs_z"] = float(np.abs(z).max())
    return out


def replicate_check(lambda0: np.ndarray, stderr: np.ndarray, exact_fit: np.ndarray) -> dict:
    """Does the standard error of lambda_0 describe its sampling distribution? R independent ensembles.

    ``spread_to_stderr`` (replicate standard deviation / median reported error) should be near 1;
    ``relative_bias`` = replicate mean / exact-data fit - 1 (negative: smaller in magnitude);
    ``z_bias`` is the replicate mean minus the exact-data fit in units of the mean's own error, so a
    bias that every single fit hides inside its error shows up here; ``frac_within_3se`` is the
    coverage of the reported errors (0.997 for Gaussian errors). Heavy-tailed networks (Gauss-net)
    have estimates whose typical value is not their mean: unbiased fails while the spread looks right.
    """
    lam, se, ref = (np.asarray(a, dtype=np.float64) for a in (lambda0, stderr, exact_fit))
    if len(lam) < 2:
        raise ValueError(f"a replicate check needs at least 2 ensembles, got {len(lam)}")
    mean, spread = lam.mean(), lam.std(ddof=1)
    truth = float(np.median(ref))
    z_bias = (mean - truth) / (spread / np.sqrt(len(lam)))
    return dict(n_replicates=len(lam), lambda0_mean=mean, lambda0_mean_stderr=spread / np.sqrt(len(lam)),
                lambda0_spread=spread, stderr_median=float(np.median(se)), spread_to_stderr=spread / np.median(se),
                lambda0_exact_fit=truth, relative_bias=mean / truth - 1, z_bias=z_bias,
                unbiased=bool(abs(z_bias) < 3), frac_within_3se=float(np.mean(np.abs(lam - ref) < 3 * se)))
