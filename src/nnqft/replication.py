"""The replication verdict of every testable claim of P1, P2 and P3, from the workflow's tables.

Each claim is one small function of the tables it rests on, returning one row: the paper's
statement and value, ours with its uncertainty, a verdict and the reason in one sentence, and
the files the evidence is in. Verdicts:

* ``reproduced``: our measurement agrees with the claim within the stated criterion;
* ``differs``: it does not (the reason says how, with numbers);
* ``untestable``: the tables needed are absent from this run (a stage switched off);
* ``invalid``: a number the verdict rests on is NaN or infinite (a numerical failure upstream):
  no verdict is given, and the reason names the table, the quantity and how many values. Non-finite
  values are never dropped silently; the only ones set aside are those a table documents as
  legitimate (a deviation slope that could not be fitted because the signal is below noise is NaN).

Criteria are fixed here, before looking at any particular run, and never tuned to a result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
from scipy import stats

from nnqft import activations

VERDICTS = ("reproduced", "differs", "untestable", "invalid")
Z_AGREE = 3.0  # |z| below this: agreement within errors
# A first-order EFT "predicts" Delta G4 when its test MAPE is below this (P1 quotes far smaller
# MAPEs, but its fit targets were raw 4-pt tensors, docs/physics.md sec. 9 defect 3).
MAPE_PREDICTS = 10.0


class InvalidEvidence(ValueError):
    """A non-finite number where a verdict needs a finite one; ``evaluate`` turns it into ``invalid``."""


def require_finite(values, what: str) -> np.ndarray:
    """``values`` as a float array, or InvalidEvidence naming ``what`` and the non-finite count."""
    a = np.asarray(values, dtype=np.float64).reshape(-1)
    bad = ~np.isfinite(a)
    if bad.any():
        raise InvalidEvidence(f"{int(bad.sum())} of {a.size} values of {what} are NaN or infinite "
                              f"({int(np.isnan(a).sum())} NaN); a numerical failure upstream, no verdict")
    return a


@dataclass(frozen=True)
class Claim:
    paper: str
    claim_id: str
    statement: str
    paper_value: str
    evidence: tuple[str, ...]  # table/figure file names under results/
    judge: Callable[[dict], tuple[str, str, str]]  # tables -> (our value, verdict, reason)


def _fmt(value, err=None, digits=3) -> str:
    return f"{value:.{digits}g}" if err is None else f"{value:.{digits}g} +- {err:.2g}"


# ---------------------------------------------------------------------------------------- P1
def _gp_limit(t):
    dev = t["deviation.csv"]
    rb = dev[(dev["estimator"] == "rao_blackwell") & (dev["quantity"].isin(["m2", "m4", "m6"]))]
    largest = rb[rb["width"] == rb["width"].max()]
    smallest = rb[rb["width"] == rb["width"].min()]
    require_finite(rb["m"], "deviation.csv m (Rao-Blackwell m2, m4, m6)")
    require_finite(largest["noise"], "deviation.csv noise")
    ratio = largest["m"].values / np.maximum(largest["noise"].values, 1e-300)
    shrink = np.median(largest["m"].values / smallest["m"].values)
    value = (f"at N = {int(rb['width'].max())}: m_n / noise <= {ratio.max():.2g}; "
             f"median m_n(N_max) / m_n(N_min) = {shrink:.2g}")
    ok = shrink < 0.1
    return value, "reproduced" if ok else "differs", (
        f"every m_n falls by a median factor {1 / shrink:.3g} across the width sweep"
        if ok else f"m_n falls by only a median factor {1 / shrink:.3g} across the sweep")


def _falloff(quantity: str, expected: float):
    def judge(t):
        slopes = t["deviation_slopes.csv"]
        rb = slopes[(slopes["quantity"] == quantity) & (slopes["estimator"] == "rao_blackwell")].dropna(subset=["slope"])
        if rb.empty:
            return "no width with the signal above noise", "untestable", "the deviation is below noise at every width"
        # A NaN slope is documented (no width with the signal above noise) and set aside above; a fitted
        # slope needs a finite error.
        z = (rb["slope"] - expected) / rb["slope_stderr"]
        require_finite(z, f"deviation_slopes.csv z-scores of the fitted {quantity} slopes")
        worst = rb.iloc[int(np.argmax(np.abs(z.values)))]
        value = (f"Rao-Blackwell slopes {rb['slope'].min():.3f} .. {rb['slope'].max():.3f} over {len(rb)} sweeps; "
                 f"worst {worst['activation']} d_in={worst['d_in']}: {_fmt(worst['slope'], worst['slope_stderr'])}")
        ok = bool(np.all(np.abs(z) < Z_AGREE))
        return value, "reproduced" if ok else "differs", (
            f"every slope within {Z_AGREE:g} standard errors of {expected:g}" if ok else
            f"{int(np.sum(np.abs(z) >= Z_AGREE))} of {len(rb)} slopes differ from {expected:g} by more than "
            f"{Z_AGREE:g} standard errors (max |z| {np.abs(z).max():.2g})")
    return judge


def _fit_row(t, activation, model="M1"):
    fits = t["eft_fits.csv"]
    sel = fits[(fits["activation"] == activation) & (fits["model"] == model)]
    return None if sel.empty else sel.iloc[0]


def _coupling_fit(activation: str):
    def judge(t):
        row = _fit_row(t, activation)
        if row is None:
            return "not run", "untestable", f"no {activation} fit in this configuration"
        require_finite([row["lambda0"], row["lambda0_stderr"], row["test_mape"]],
                       f"eft_fits.csv {activation} M1 lambda0, lambda0_stderr, test_mape")
        rep = t["eft_replicates_summary.csv"]
        rep = rep[rep["activation"] == activation].iloc[0]
        value = (f"lambda_0 = {_fmt(row['lambda0'], row['lambda0_stderr'])} (exact-data fit "
                 f"{_fmt(row['lambda0_exact_fit'])}); test MAPE {row['test_mape']:.3g}% (against exact "
                 f"{row['test_mape_vs_exact']:.3g}%), chi2/dof {row['test_chi2_dof']:.3g}; "
                 f"{rep['n_replicates']} replicate ensembles: mean {100 * rep['relative_bias']:+.2g}% against the "
                 f"exact-data fit ({rep['z_bias']:+.1f} sigma), spread / error {rep['spread_to_stderr']:.2f}, "
                 f"{100 * rep['frac_within_3se']:.0f}% within 3 errors")
        ok = row["test_mape"] < MAPE_PREDICTS
        caveat = "" if rep["unbiased"] else (
            f"; but its error understates the sampling distribution: {rep['n_replicates']} independent ensembles "
            f"are off by {100 * rep['relative_bias']:+.2g}% on average ({rep['z_bias']:+.0f} sigma of their mean)")
        return value, "reproduced" if ok else "differs", (
            f"one constant coupling fitted on train inputs predicts test Delta G4 to {row['test_mape']:.2g}% "
            f"(criterion < {MAPE_PREDICTS:g}%; chi2/dof {row['test_chi2_dof']:.2g} says how much is left)"
            if ok else f"the M1 prediction misses test Delta G4 by {row['test_mape']:.2g}% on average") + caveat
    return judge


# A nested model resolves its extra coupling when the train chi^2 drops by more than this
# (likelihood-ratio test, one degree of freedom, p = 0.001).
LRT_THRESHOLD = float(stats.chi2.isf(0.001, 1))


def _naturalness(t):
    """Constant lambda suffices for a translation-invariant GP (registry: Gauss-net); the others
    (P1: Erf, ReLU) resolve lambda(y)."""
    fits = t["eft_fits.csv"]
    drops = {}
    for activation in sorted(fits["activation"].unique()):
        m1, m2 = _fit_row(t, activation, "M1"), _fit_row(t, activation, "M2")
        drop = m1["train_chi2"] - m2["train_chi2"]
        if bool(m2["identifiable"]):
            require_finite([drop], f"eft_fits.csv {activation} train_chi2 of M1 and M2")
        drops[activation] = (drop, bool(m2["identifiable"]))
    value = "; ".join(f"{a}: train chi2 drop M1 -> M2 {d:.3g}" + ("" if ok else " (M2 not identifiable)")
                      for a, (d, ok) in drops.items())
    resolved = {a: ok and d > LRT_THRESHOLD for a, (d, ok) in drops.items()}
    expected = {a: not activations.activation(a).translation_invariant for a in drops}
    agree = resolved == expected
    return value, "reproduced" if agree else "differs", (
        "a y-dependent coupling is resolved (likelihood ratio, p < 0.001) exactly where the GP is not translation "
        "invariant" if agree else
        "the pattern differs: " + ", ".join(f"{a} {'resolves' if v else 'does not resolve'} lambda(y)"
                                           for a, v in resolved.items())
        + " (expected: only Erf and ReLU)")


def _beta_function(activation: str):
    """P1's beta = -d_in lambda, judged on the exponent of lambda(Lambda) as Lambda -> inf (both
    predictions are asymptotic); the straight line through P1's cutoffs is reported beside it."""
    def judge(t):
        rg = t["rg_slopes.csv"]
        sel = rg[rg["activation"] == activation]
        if sel.empty:
            return "not run", "untestable", f"no {activation} running coupling in this configuration"
        value = "; ".join(f"d_in={int(r.d_in)}: asymptotic {r.asymptotic_slope:.6f} +- {r.asymptotic_slope_stderr:.1g}, "
                          f"all cutoffs {r.range_slope + 0.0:.4f} +- {r.range_slope_stderr:.1g} (kernel degree {r.predicted_slope:g})"
                          for r in sel.itertuples())
        require_finite(sel["asymptotic_slope"], f"rg_slopes.csv {activation} asymptotic_slope")
        require_finite(sel["asymptotic_slope_stderr"], f"rg_slopes.csv {activation} asymptotic_slope_stderr")
        holds, prediction = sel["p1_claim_holds"].astype(bool), sel["prediction_holds"].astype(bool)
        curved = sel[~sel["range_p1_claim_holds"].astype(bool)]
        if holds.all():
            return value, "reproduced", (
                "beta = -d_in lambda as Lambda -> inf for every d_in" + ("" if curved.empty else
                "; over P1's cutoffs lambda(Lambda) is not yet a power law: the straight line misses -d_in at d_in = "
                + ", ".join(f"{int(r.d_in)} ({r.range_z_p1_claim:+.0f} sigma)" for r in curved.itertuples())))
        return value, "differs", (
            f"the exponent differs from -d_in at d_in = {', '.join(str(int(d)) for d in sel[~holds]['d_in'])}; "
            + (f"it is the kernel-degree prediction -(d_in + 4p) = {', '.join(f'{p:g}' for p in sel['predicted_slope'])}"
               if prediction.all() else "and from the kernel-degree prediction at d_in = "
               + ", ".join(str(int(d)) for d in sel[~prediction]["d_in"])))
    return judge


def _six_point(t):
    s = t["six_pt_summary.csv"]
    value = "; ".join(f"{r.activation}: |G6 - (GP + lambda)| / |G6 - GP| median {r.ratio_measured_median:.2g} "
                      f"(mean {r.ratio_measured_mean:.2g}, spread {r.ratio_measured_std:.2g}), improved "
                      f"{100 * r.frac_improved_measured:.0f}% of {r.n_multisets}" for r in s.itertuples())
    require_finite(s["ratio_measured_median"], "six_pt_summary.csv ratio_measured_median")
    ok = bool(np.all(s["ratio_measured_median"] < 1))
    return value, "reproduced" if ok else "differs", (
        "the lambda term moves G6 towards the measurement for most multisets at every fit width" if ok else
        "the lambda term does not move G6 towards the measurement for " +
        ", ".join(s[s["ratio_measured_median"] >= 1]["activation"]))


P1_CLAIMS = [
    Claim("P1", "P1-1 GP limit", "NGP correlators approach the GP ones as N grows", "qualitative",
          ("deviation.csv", "deviation_erf_d1.png"), _gp_limit),
    Claim("P1", "P1-2 1/N falloff", "the 4-pt deviation falls as 1/N", "slope -1 of log m_4 vs log N",
          ("deviation_slopes.csv", "deviation_erf_d1.png"), _falloff("m4", -1.0)),
    Claim("P1", "P1-3 6-pt connected 1/N^2", "the connected 6-pt function falls as 1/N^2", "slope -2",
          ("deviation_slopes.csv", "deviation_erf_d1.png"), _falloff("G6c", -2.0)),
    Claim("P1", "P1-4 fit Gauss", "constant quartic coupling fitted on train predicts test Delta G4 (Gauss-net)",
          "lambda_0 = 0.0046, test MAPE 0.0145, MSE 6.8e-10",
          ("eft_fits.csv", "eft_fits.png", "eft_replicates_summary.csv"), _coupling_fit("gauss")),
    Claim("P1", "P1-4 fit Erf", "constant quartic coupling fitted on train predicts test Delta G4 (Erf-net)",
          "lambda_0 = 0.039, test MAPE 0.030, MSE 8.3e-10",
          ("eft_fits.csv", "eft_fits.png", "eft_replicates_summary.csv"), _coupling_fit("erf")),
    Claim("P1", "P1-4 fit ReLU", "constant quartic coupling fitted on train predicts test Delta G4 (ReLU-net)",
          "lambda_0 = 6.2e-11, test MAPE 0.0035, MSE 7.6e-12",
          ("eft_fits.csv", "eft_fits.png", "eft_replicates_summary.csv"), _coupling_fit("relu")),
    Claim("P1", "P1-5 naturalness", "symmetry decides the couplings: constant lambda for Gauss-net, lambda(y) "
          "allowed for Erf/ReLU", "M2 improves Erf test MAPE 0.030 -> 0.0042, Gauss 0.0145 -> 0.0144",
          ("eft_fits.csv", "eft_fits.png"), _naturalness),
    Claim("P1", "P1-6 beta Erf", "beta(lambda) = -d_in lambda (Erf-net)", "slope -d_in",
          ("rg_slopes.csv", "rg_running.png"), _beta_function("erf")),
    Claim("P1", "P1-6 beta ReLU", "beta(lambda) = -d_in lambda (ReLU-net)", "slope -d_in",
          ("rg_slopes.csv", "rg_running.png"), _beta_function("relu")),
    Claim("P1", "P1-6 beta Gauss", "beta(lambda) = -d_in lambda (Gauss-net)", "slope -d_in",
          ("rg_slopes.csv", "rg_running.png"), _beta_function("gauss")),
    Claim("P1", "P1-7 six-point", "the 4-pt coupling predicts the 6-pt function", "single lambda suffices",
          ("six_pt.csv", "six_pt_summary.csv", "six_pt.png"), _six_point),
]

# ---------------------------------------------------------------------------------------- P3
def consistent_with_zero(z) -> bool:
    """Are these z-scores consistent with N(0, 1) noise, family-wise at the 1% level (Bonferroni)?

    One |z| > 3 among hundreds of elements is expected; the bound grows with their number.
    A NaN or infinite z-score raises InvalidEvidence (the verdict is ``invalid``): it is never dropped.
    """
    z = np.abs(require_finite(z, "the z-scores"))
    return bool(z.size and z.max() < stats.norm.isf(0.005 / z.size))


def _z_value(z, what: str) -> str:
    z = np.abs(np.asarray(z, dtype=np.float64))
    return (f"{what}: {z.size} z-scores, max |z| {z.max():.2f} (1% family-wise bound "
            f"{stats.norm.isf(0.005 / z.size):.2f}), {100 * np.mean(z < 3):.1f}% within 3")


def _z_claim(table: str, select: Callable[[pd.DataFrame], pd.DataFrame], what: str):
    def judge(t):
        z = select(t[table])["z"]
        require_finite(z, f"{table} z ({what})")
        ok = consistent_with_zero(z)
        return _z_value(z, what), "reproduced" if ok else "differs", (
            f"{what} agree with the exact values within errors" if ok else
            f"{what} differ from the exact values beyond noise (max |z| {np.abs(z).max():.2f})")
    return judge


def _exact_duality(t):
    table = t["exact_vs_ensemble.csv"]
    sel = table[table["activation"].isin(["erf", "relu"]) & table["n"].isin([4, 6])]
    fractions = {est: np.average(g["frac_within_3"], weights=g["n_elements"]) for est, g in sel.groupby("estimator")}
    require_finite(list(fractions.values()), "exact_vs_ensemble.csv frac_within_3")
    value = "; ".join(f"{est}: {100 * f:.2f}% of Erf/ReLU elements within 3 sigma" for est, f in fractions.items())
    ok = all(f >= 0.95 for f in fractions.values())
    return value, "reproduced" if ok else "differs", (
        "ensembles agree with the exact parameter-space correlators (>= 95% within 3 sigma, both estimators)"
        if ok else "fewer than 95% of elements agree with the exact correlators for some estimator")


def _cumulant_scaling(t):
    table = t["cumulant_scaling.csv"]
    sel = table[(table["estimator"] == "rao_blackwell") & table["activation"].isin(["erf", "relu"])]
    z = (sel["rho"] - 1.0) / sel["rho_stderr"]
    require_finite(z, "cumulant_scaling.csv (rho - 1) / rho_stderr")
    ok = consistent_with_zero(z)
    return _z_value(z, "N^(r/2-1) G_c^(r) / exact, r = 4, 6"), "reproduced" if ok else "differs", (
        "the connected r-point functions scale as N^(1 - r/2) at every width" if ok else
        "the measured cumulants depart from N^(1 - r/2) scaling beyond noise")


def _broken_independence(t):
    table = t["broken_independence.csv"]
    rb = table[table["estimator"] == "rao_blackwell"]
    require_finite(rb["z"], "broken_independence.csv z (Rao-Blackwell)")
    require_finite(rb[["value", "stderr"]], "broken_independence.csv value, stderr (Rao-Blackwell)")
    limit = table[(table["estimator"] == "exact") & np.isinf(table["width"])]
    widest = rb[rb["width"] == rb["width"].max()]
    correlated = widest[widest["eps"] > 0]
    signif = (correlated["value"] / correlated["stderr"]).min() if len(correlated) else np.nan
    value = (f"N = {int(rb['width'].max())}: " + "; ".join(f"eps = {r.eps:g}: {_fmt(r.value, r.stderr)} "
                                                             f"(exact {r.exact:.4g})" for r in widest.itertuples())
             + "; N = inf exact: " + ", ".join(f"{r.eps:g} -> {r.value:.3g}" for r in limit.itertuples()
                                              if r.eps in set(widest["eps"])))
    ok = consistent_with_zero(rb["z"]) and len(correlated) > 0 and signif > 5
    return value, "reproduced" if ok else "differs", (
        f"with correlated parameters the connected 4-pt stays non-zero at large N (>= {signif:.0f} sigma) and "
        "matches the exact limit; with eps = 0 it vanishes like 1/N" if ok else
        "the measured non-Gaussianity does not match the exact values, or is not resolved from zero")


def _locality(t):
    table = t["cluster_decomposition.csv"]
    cos = table[table["case"] == "cosnet"]
    decaying = table[table["case"] != "cosnet"]
    value = ("plateaus: " + "; ".join(f"{r.case} N={r.N:g}: {_fmt(r.measured, r.stderr)} (exact {r.exact:.3g})"
                                      for r in table.itertuples()))
    require_finite(table["z"], "cluster_decomposition.csv z")
    require_finite(table[["measured", "stderr"]], "cluster_decomposition.csv measured, stderr")
    ok = consistent_with_zero(table["z"]) and bool(np.all(cos["measured"] / cos["stderr"] > 5)) and \
        consistent_with_zero(decaying["measured"] / decaying["stderr"])
    return value, "reproduced" if ok else "differs", (
        "finite-N cos-nets violate cluster decomposition by an O(1/N) plateau; the N -> infinity limit and "
        "phi^4 decay to zero within errors" if ok else
        "the plateaus do not show the expected pattern (finite-N non-zero, the others zero) within errors")


def _action_vertex(t):
    table = t["action_summary.csv"]
    phi4 = table[table["theory"] == "phi4"]
    value = "; ".join(f"d={r['d']}: lambda {r['lambda']:g} -> {_fmt(r['recovered_lambda'], r['stderr'])}"
                      for _, r in phi4.iterrows())
    require_finite(phi4["z"], "action_summary.csv z of the phi4 rows")
    ok = consistent_with_zero(phi4["z"])
    return value, "reproduced" if ok else "differs", (
        "the coincident-point vertex reconstructed from G_c^(4) recovers the input lambda within errors" if ok else
        "the reconstructed vertex misses the input lambda beyond its errors")


def _reflection_positivity(t):
    table = t["os_checks.csv"]
    refl = table[table["check"] == "reflection"].sort_values(["d", "cutoff"])
    value = "; ".join(f"d={r.d} Lambda={r.cutoff:g}: min eigenvalue {_fmt(r.measured, r.stderr)} (exact {r.exact:.3g})"
                      for r in refl.itertuples())
    require_finite(refl[["exact", "measured"]], "os_checks.csv exact, measured of the reflection rows")
    negative = bool(np.any(refl["exact"] < 0))
    return value, "differs" if negative else "reproduced", (
        "a sharp momentum cutoff is not reflection positive: the exact and measured smallest eigenvalues are "
        "negative and shrink as Lambda grows (positivity only in the limit)" if negative else
        "G2(Theta x_i, x_j) is positive semi-definite at every cutoff")


def _aho_extrapolated(t, method_prefix: str) -> pd.DataFrame:
    """Extrapolated G2 and G4_c rows of aho.csv for one kind of sampler (gap_eff is reported, not judged:
    it is NaN where the decay sinks below the noise)."""
    table = t["aho.csv"]
    return table[(table["setting"] == "extrapolated") & table["method"].str.startswith(method_prefix)
                 & table["kind"].isin(["G2", "G4c"])]


def _aho_network(t):
    rows = _aho_extrapolated(t, "network")
    parts, agree, beyond = [], [], []
    for lam, g in rows.groupby("lambda"):
        z = require_finite(g["z"], f"aho.csv z of the extrapolated network rows at lambda = {lam:g}")
        zf = np.abs(require_finite(g["z_first_order"], f"aho.csv z_first_order at lambda = {lam:g}"))
        chi2 = require_finite(g["chi2_dof"], f"aho.csv chi2_dof of the network extrapolations at lambda = {lam:g}")
        ok = consistent_with_zero(z)
        agree.append(ok)
        beyond.append(ok and not consistent_with_zero(zf))
        # the fits' chi^2 says whether a miss is the extrapolation model's (large) or the theory's
        parts.append(f"lambda={lam:g}: {'agrees' if ok else 'differs'} (max |z| {np.abs(z).max():.2f} over {z.size}; "
                     f"first order max |z| {zf.max():.1f}; extrapolation chi2/dof max {chi2.max():.1f})")
    ok = bool(agree) and all(agree)
    reason = ("the extrapolated network values agree with the exact oscillator at every coupling"
              + (", including couplings where first-order theory is excluded" if any(beyond) else
                 ", but first-order theory is not excluded at any of them (no test beyond perturbation theory)")
              if ok else
              "the extrapolated network values differ from the exact oscillator at lambda = "
              + ", ".join(f"{lam:g}" for lam, a in zip(sorted(rows["lambda"].unique()), agree) if not a))
    return "; ".join(parts), "reproduced" if ok else "differs", reason


def _aho_lattice(t):
    rows = _aho_extrapolated(t, "lattice")
    samplers = pd.concat([t["aho_lattice_samplers.csv"], t["aho_network_samplers.csv"]], ignore_index=True)
    z = require_finite(rows["z"], "aho.csv z of the extrapolated lattice rows")
    rate = require_finite(samplers["ess_per_second"], "ESS per second of the aho samplers")
    lattice_rate = np.median(rate[(samplers["method"] == "lattice").to_numpy()])
    network_rate = np.median(rate[(samplers["method"] != "lattice").to_numpy()])
    ok = consistent_with_zero(z)
    return (_z_value(z, "lattice after a -> 0") + f"; median ESS/s lattice {lattice_rate:.3g}, network {network_rate:.3g}",
            "reproduced" if ok else "differs",
            ("lattice HMC of the same action agrees with the exact answer after a -> 0 at every coupling, "
             if ok else "lattice HMC after a -> 0 differs from the exact answer beyond noise, ")
            + f"at {lattice_rate / network_rate:.3g} times the network sampler's effective samples per second")


P3_CLAIMS = [
    Claim("P3", "P3-1 exact duality", "finite-N correlators are exact polynomials in 1/N of single-neuron moments",
          "analytic", ("exact_vs_ensemble.csv", "exact_vs_ensemble.png"), _exact_duality),
    Claim("P3", "P3-2 cumulant scaling", "connected r-pt functions scale as N^(1 - r/2) for i.i.d. neurons",
          "analytic", ("cumulant_scaling.csv", "cumulant_scaling.png"), _cumulant_scaling),
    Claim("P3", "P3-3 broken independence", "correlated parameters keep non-Gaussianity at infinite width",
          "analytic", ("broken_independence.csv", "broken_independence.png"), _broken_independence),
    Claim("P3", "P3-4 free scalar", "a cos-net reproduces the free scalar propagator at any width",
          "analytic", ("cosnet_propagator.csv", "cosnet_propagator.png"),
          _z_claim("cosnet_propagator.csv", lambda d: d, "cos-net G2 against the exact cutoff propagator")),
    Claim("P3", "P3-4 finite-N 4-pt", "the finite-N cos-net connected 4-pt function is the parameter-space one",
          "analytic", ("cosnet_connected4.csv", "cosnet_propagator.png"),
          _z_claim("cosnet_connected4.csv", lambda d: d[d["estimator"] == "rao_blackwell"],
                   "cos-net G4_c (Rao-Blackwell) against parameter space")),
    Claim("P3", "P3-5 phi^4", "deforming the parameter density by exp(-lambda/4! int phi^4) gives phi^4 theory",
          "first-order perturbation theory", ("phi4_first_order.csv", "phi4_first_order.png"),
          _z_claim("phi4_first_order.csv", lambda d: d[d["perturbative"].astype(bool)],
                   "phi^4 connected 4-pt and 2-pt shift (perturbative couplings) against first order")),
    Claim("P3", "P3-6 locality", "cluster decomposition fails at finite N (plateau O(1/N)), holds at N = inf and "
          "for phi^4", "analytic", ("cluster_decomposition.csv", "cluster_decomposition.png"), _locality),
    Claim("P3", "P3-7 action", "the quartic vertex read from connected correlators is local for phi^4 and "
          "recovers lambda", "analytic", ("action_summary.csv", "action_vertex.png"), _action_vertex),
    Claim("P3", "P3-8 Euclidean invariance", "cos-net correlators are invariant under rotations and translations",
          "analytic", ("os_checks.csv", "os_checks.png"),
          _z_claim("os_checks.csv", lambda d: d[d["check"].str.startswith("euclidean")],
                   "G2 and G4 at transformed minus original points")),
    Claim("P3", "P3-8 reflection positivity", "the cos-net free scalar is reflection positive",
          "expected for a unitary free scalar", ("os_checks.csv", "os_checks.png"), _reflection_positivity),
    Claim("P3", "P3-9 beyond perturbation theory", "an NN field theory reproduces interacting phi^4 beyond "
          "perturbation theory (d = 1, against the exact anharmonic oscillator)", "not claimed (issue 15)",
          ("aho.csv", "aho_propagators.png"), _aho_network),
    Claim("P3", "P3-9 lattice anchor", "lattice Monte Carlo of the same action reproduces the exact answer, "
          "and its cost per effective sample sets the practitioner's baseline", "standard practice",
          ("aho.csv", "aho_lattice_samplers.csv", "aho_network_samplers.csv", "aho_cost.png"), _aho_lattice),
]

# ---------------------------------------------------------------------------------------- P2
def _invariance(t):
    table = t["symmetry_invariance.csv"]
    inv = table[table["expected"] == "consistent"]
    require_finite(inv[["ks_p", "z_std"]], "symmetry_invariance.csv ks_p, z_std of the invariance tests")
    passes = inv["passes"].astype(bool)
    value = (f"{len(inv)} invariance tests (output SO(d_out), input SO(d_in), translations; widths "
             f"{', '.join(str(w) for w in sorted(inv['width'].unique()))}): KS p >= {inv['ks_p'].min():.2g}, "
             f"z std {inv['z_std'].min():.2f} .. {inv['z_std'].max():.2f}, {int(passes.sum())} pass")
    ok = bool(passes.all())
    return value, "reproduced" if ok else "differs", (
        "under invariant parameter densities every correlator test is consistent with N(0, 1) z-scores" if ok else
        "invariance fails for " + ", ".join(f"{r.test} N={r.width} n={r.n_pt}" for r in inv[~passes].itertuples()))


def _controls(t):
    table = t["symmetry_invariance.csv"]
    controls = table[table["expected"] == "detected"]
    require_finite(controls["sigma"], "symmetry_invariance.csv sigma of the controls")
    detected = controls["detected"].astype(bool)
    value = "; ".join(f"{test} {case} (mu = {', '.join(f'{m:g}' for m in sorted(g['mu'].unique()))}, N = "
                      f"{g['width'].min()}-{g['width'].max()}): {g['sigma'].min():.1f}-{g['sigma'].max():.1f} sigma"
                      for (test, case), g in controls.groupby(["test", "case"], sort=False))
    ok = bool(len(controls) and detected.all())
    return value, "reproduced" if ok else "differs", (
        "every non-invariant control density is detected" if ok else
        f"{int((~detected).sum())} of {len(controls)} controls are not detected at this ensemble size")


def _training(t):
    effects = t["symmetry_training_effects.csv"]
    broken = effects[effects["region"].str.startswith("all broken")].set_index("target")
    require_finite(broken["delta_mean"], "symmetry_training_effects.csv delta_mean of the 'all broken' rows")
    value = "; ".join(f"{target}: accuracy change {_fmt(r.delta_mean, r.delta_sem)} (p = {r.p:.2g}, {r.effect})"
                      for target, r in broken.iterrows())
    per_mu = effects[~effects["region"].str.startswith("all broken")]
    for target, grp in per_mu.groupby("target"):
        best = grp.loc[grp["delta_mean"].idxmax()]
        value += (f"; {target} per mu ({best['region'].split(',')[0]}): helps at {int((grp['effect'] == 'helps').sum())}, "
                  f"hurts at {int((grp['effect'] == 'hurts').sum())} of {len(grp)} mu values, best {best['region']}: "
                  f"{_fmt(best['delta_mean'], best['delta_sem'])}")
    observed = {target: r.effect for target, r in broken.iterrows()}
    ok = observed.get("one_cold") == "helps" and observed.get("one_hot") == "hurts"
    return value, "reproduced" if ok else "differs", (
        "breaking the output symmetry helps when it points to the ground truth (one-cold) and hurts otherwise"
        if ok else f"averaged over the broken grid the effects are {observed} (expected one_cold helps, one_hot "
        "hurts); the per-mu rows show where it holds")


P2_CLAIMS = [
    Claim("P2", "P2-1 invariance", "correlators of networks with invariant parameter densities are invariant",
          "invariant within RMS", ("symmetry_invariance.csv", "symmetry_invariance.png"), _invariance),
    Claim("P2", "P2-2 breaking detected", "a non-invariant parameter density breaks the symmetry detectably",
          "visible in RMS", ("symmetry_invariance.csv", "symmetry_invariance.png"), _controls),
    Claim("P2", "P2-3 training", "symmetry breaking helps training only towards the ground truth",
          "one-cold helps, one-hot hurts (Fashion-MNIST)",
          ("symmetry_training_effects.csv", "symmetry_training.csv", "symmetry_training.png"), _training),
]

# ---------------------------------------------------------------------------------------- NTK
# docs/physics.md sec. 11. Criteria fixed from the issue before any run: slopes within 0.15 (NTK bias)
# and 0.2 (trained mean) of -1; agreement within 3 errors at the largest width (1024 for the kernel).
NTK_BIAS_SLOPE_TOL = 0.15
NTK_TRAINING_SLOPE_TOL = 0.2
NTK_AGREEMENT_WIDTH = 1024


def _ntk_one_over_n(t):
    fl, slopes = t["ntk_fluctuations.csv"], t["ntk_slopes.csv"]
    require_finite(fl["bias2"], "ntk_fluctuations.csv bias2")
    one_layer = fl[fl["depth"] == 1]
    deep_bias = slopes[slopes["quantity"].isin(["bias", "bias_cv"]) & (slopes["against"] == "width")
                       & (slopes["depth"] >= 2)]
    # the control-variate estimator's fit where there is one (same mean as the plain one, less noise)
    deep_bias = (deep_bias.sort_values("quantity").groupby(["activation", "depth"], sort=True).tail(1)
                 .sort_values(["activation", "depth"]))
    fitted = deep_bias.dropna(subset=["slope"])
    at = fl[(fl["width"] == NTK_AGREEMENT_WIDTH) & (fl["depth"] <= 4)]
    problems = []
    if one_layer["bias_resolved"].any():
        problems.append(f"a bias at L = 1 (widths {sorted(one_layer[one_layer['bias_resolved']]['width'])})")
    if len(fitted) < len(deep_bias) or fitted.empty:
        problems.append(f"{len(deep_bias) - len(fitted)} of {len(deep_bias)} depths >= 2 with < 2 resolved widths")
    off = fitted[np.abs(fitted["slope"] + 1) > NTK_BIAS_SLOPE_TOL]
    if len(off):
        problems.append(f"{len(off)} bias slopes off -1 by more than {NTK_BIAS_SLOPE_TOL}")
    if at.empty:
        problems.append(f"no width {NTK_AGREEMENT_WIDTH} in the sweep")
    elif at["bias_resolved"].any():
        problems.append(f"a resolved bias at n = {NTK_AGREEMENT_WIDTH} for depths <= 4")
    value = ("; ".join(f"{r.activation} L={r.depth:g} {r.quantity}: {_fmt(r.slope, r.slope_stderr)} ({r.points})"
                       for r in fitted.itertuples()) +
             f"; L = 1 bias resolved at {int(one_layer['bias_resolved'].sum())} of {len(one_layer)} widths")
    return value, "differs" if problems else "reproduced", (
        "; ".join(problems) if problems else
        f"no bias at L = 1, the L >= 2 bias falls as 1/n within {NTK_BIAS_SLOPE_TOL}, and the mean at "
        f"n = {NTK_AGREEMENT_WIDTH} agrees with the analytic NTK for L <= 4")


def _ntk_kernel_regression(t):
    tr, slopes = t["ntk_training.csv"], t["ntk_training_slopes.csv"]
    largest = tr[tr["width"] == tr["width"].max()]
    require_finite(largest[["mean_max_abs_z", "var_ratio", "var_ratio_stderr"]], "ntk_training.csv at the largest width")
    mean_slopes = slopes[slopes["quantity"] == "mean_deviation"].dropna(subset=["slope"])
    problems = []
    if (largest["mean_max_abs_z"] >= Z_AGREE).any():
        problems.append(f"the trained mean differs from kernel regression at n = {int(tr['width'].max())} "
                        f"(max |z| {largest['mean_max_abs_z'].max():.2g})")
    var_z = (largest["var_ratio"] - 1) / largest["var_ratio_stderr"]
    if (np.abs(var_z) >= Z_AGREE).any():
        problems.append(f"the variance differs from the NTK-GP's at n = {int(tr['width'].max())}")
    if mean_slopes.empty and not problems:
        return (f"n = {int(tr['width'].max())}: max |z| of the mean {largest['mean_max_abs_z'].max():.2g}",
                "untestable", "agreement at the largest width, but the mean deviation is resolved at fewer than "
                "two widths: no 1/n slope to judge")
    if mean_slopes.empty:
        problems.append("no slope of the mean deviation (resolved at fewer than two widths)")
    elif (np.abs(mean_slopes["slope"] + 1) > NTK_TRAINING_SLOPE_TOL).any():
        problems.append(f"mean-deviation slopes off -1 by more than {NTK_TRAINING_SLOPE_TOL}")
    value = (f"n = {int(tr['width'].max())}: max |z| of the mean {largest['mean_max_abs_z'].max():.2g}, "
             f"variance ratio {', '.join(_fmt(r.var_ratio, r.var_ratio_stderr) for r in largest.itertuples())}; "
             "mean-deviation slopes " + ", ".join(f"t={r.step}: {_fmt(r.slope, r.slope_stderr)} ({r.widths})"
                                                  for r in mean_slopes.itertuples()))
    return value, "differs" if problems else "reproduced", (
        "; ".join(problems) if problems else
        "at the largest width the trained ensemble is kernel regression with the NTK (mean and variance), "
        f"and its deviation falls as 1/n within {NTK_TRAINING_SLOPE_TOL}")


NTK_CLAIMS = [
    Claim("NTK", "NTK-1 kernel regression", "training is kernel regression at infinite width",
          "Lee et al. 2019; PDLT O(1/n) corrections",
          ("ntk_training.csv", "ntk_training_slopes.csv", "ntk_training.png"), _ntk_kernel_regression),
    Claim("NTK", "NTK-2 finite width 1/n", "finite width corrections scale as 1/n",
          "PDLT: NTK mean shift O(1/n) for L >= 2, none at L = 1",
          ("ntk_fluctuations.csv", "ntk_slopes.csv", "ntk_fluctuations.png"), _ntk_one_over_n),
]

CLAIMS = P1_CLAIMS + P2_CLAIMS + P3_CLAIMS + NTK_CLAIMS


def evaluate(claims: list[Claim], tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per claim; a claim whose tables are missing is ``untestable``, one whose numbers are
    NaN or infinite where its verdict needs them is ``invalid`` (the reason names them)."""
    rows = []
    for claim in claims:
        needed = [f for f in claim.evidence if f.endswith(".csv")]
        missing = [f for f in needed if f not in tables]
        if missing:
            ours, verdict, reason = "", "untestable", f"tables not produced in this run: {', '.join(missing)}"
        else:
            try:
                ours, verdict, reason = claim.judge(tables)
            except InvalidEvidence as exc:
                ours, verdict, reason = "", "invalid", str(exc)
        rows.append(dict(paper=claim.paper, claim=claim.claim_id, statement=claim.statement,
                         paper_value=claim.paper_value, ours=ours, verdict=verdict, reason=reason,
                         evidence=", ".join(claim.evidence)))
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------- deep networks
# PDLT (Roberts, Yaida, Hanin, arXiv:2106.10165) on deep networks, docs/physics.md sec. 10.
SMALL_DEPTH_OVER_WIDTH = 1 / 16  # "L/n small": cells with L/n at most this
THEORY_HOLDS_SHARE = 0.9  # the 1/n theory holds when this share of the small-L/n cells agree within errors


def _deep_small_ratio(t):
    cells = t["deep_agreement.csv"]
    small = cells[cells["depth_over_width"] <= SMALL_DEPTH_OVER_WIDTH]
    if small.empty:
        return "", "untestable", f"no (L, n) cell with L/n <= {SMALL_DEPTH_OVER_WIDTH:g} in this run"
    require_finite(small["max_abs_z_theory"], "deep_agreement.csv max_abs_z_theory (L/n small)")
    share = float(small["theory_holds"].mean())
    large = cells[cells["depth_over_width"] > SMALL_DEPTH_OVER_WIDTH]
    value = (f"{share:.0%} of {len(small)} cells with L/n <= {SMALL_DEPTH_OVER_WIDTH:g} within {Z_AGREE:g} errors "
             f"on every class; {large['theory_holds'].mean():.0%} of {len(large)} cells with larger L/n")
    ok = share >= THEORY_HOLDS_SHARE
    return value, "reproduced" if ok else "differs", (
        f"at small L/n the 1/n prediction agrees with the ensembles in >= {THEORY_HOLDS_SHARE:.0%} of the cells"
        if ok else f"only {share:.0%} of the small-L/n cells agree (criterion {THEORY_HOLDS_SHARE:.0%}); "
        "deep_agreement.csv lists the failing cells")


def _deep_expansion_parameter(t):
    """Weighted fit of log breakdown = c_point + a log L + b log(1/n) over resolved cells (the diagonal
    connected 4-pt); L/n is the expansion parameter when a = b (PDLT: breakdown ~ L/n)."""
    table = t["deep_finite_width.csv"]
    cells = table[(table["n_pt"] == 4) & (table["multiset_class"] == "4")]
    require_finite(cells["breakdown"], "deep_finite_width.csv breakdown (4-pt, class 4)")
    resolved = cells[(cells["breakdown"] > Z_AGREE * cells["breakdown_stderr"]) & (cells["breakdown"] > 0)]
    if resolved["depth"].nunique() < 2 or resolved["width"].nunique() < 2:
        return "", "untestable", "fewer than two depths or widths with a resolved breakdown of the 1/n theory"
    points = sorted(resolved["point"].unique())
    design = np.column_stack([np.log(resolved["depth"]), -np.log(resolved["width"])]
                             + [(resolved["point"] == p).to_numpy(float) for p in points])
    y = np.log(resolved["breakdown"].to_numpy())
    w = (resolved["breakdown"] / resolved["breakdown_stderr"]).to_numpy() ** 2
    cov = np.linalg.pinv(design.T @ (w[:, None] * design))
    coef = cov @ design.T @ (w * y)
    chi2 = float(np.sum(w * (y - design @ coef) ** 2))
    scale = max(1.0, chi2 / max(len(y) - design.shape[1], 1))  # inflate by chi^2/dof where the model is rough
    a, b = coef[:2]
    err = np.sqrt(scale * (cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]))
    z = (a - b) / err
    value = (f"breakdown ~ L^{_fmt(a, np.sqrt(scale * cov[0, 0]))} n^-{_fmt(b, np.sqrt(scale * cov[1, 1]))} "
             f"over {len(y)} resolved cells; a - b = {_fmt(a - b, err)} ({z:+.1f} sigma)")
    ok = abs(z) < Z_AGREE and b > 0
    return value, "reproduced" if ok else "differs", (
        "the breakdown depends on depth and width only through L/n within errors"
        if ok else "the exponents of L and 1/n differ: L/n alone does not govern the breakdown here")


DEEP_CLAIMS = [
    Claim("PDLT", "PDLT-1 1/n theory at small L/n", "the leading 1/n theory describes deep networks when L/n is small",
          "agreement for n >~ 20 (ntk-unlimited)", ("deep_agreement.csv", "deep_finite_width.png"), _deep_small_ratio),
    Claim("PDLT", "PDLT-2 expansion parameter L/n", "the expansion parameter of deep networks is L/n",
          "breakdown governed by L/n", ("deep_finite_width.csv", "deep_breakdown.png"), _deep_expansion_parameter),
]
CLAIMS = CLAIMS + DEEP_CLAIMS
