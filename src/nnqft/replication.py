"""The replication verdict of every testable claim of P1, P2 and P3, from the workflow's tables.

Each claim is one small function of the tables it rests on, returning one row: the paper's
statement and value, ours with its uncertainty, a verdict and the reason in one sentence, and
the files the evidence is in. Verdicts:

* ``reproduced``: our measurement agrees with the claim within the stated criterion;
* ``differs``: it does not (the reason says how, with numbers);
* ``untestable``: the tables needed are absent from this run (a stage switched off).

Criteria are fixed here, before looking at any particular run, and never tuned to a result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

VERDICTS = ("reproduced", "differs", "untestable")
Z_AGREE = 3.0  # |z| below this: agreement within errors
# A first-order EFT "predicts" Delta G4 when its test MAPE is below this (P1 quotes far smaller
# MAPEs, but its fit targets were raw 4-pt tensors, science.md sec. 9 defect 3).
MAPE_PREDICTS = 10.0


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
        z = (rb["slope"] - expected) / rb["slope_stderr"]
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
        value = (f"lambda_0 = {_fmt(row['lambda0'], row['lambda0_stderr'])} (exact-data fit "
                 f"{_fmt(row['lambda0_exact_fit'])}); test MAPE {row['test_mape']:.3g}%, "
                 f"chi2/dof {row['test_chi2_dof']:.3g}")
        ok = row["test_mape"] < MAPE_PREDICTS
        return value, "reproduced" if ok else "differs", (
            f"one constant coupling fitted on train inputs predicts test Delta G4 to {row['test_mape']:.2g}% "
            f"(criterion < {MAPE_PREDICTS:g}%; chi2/dof {row['test_chi2_dof']:.2g} says how much is left)"
            if ok else f"the M1 prediction misses test Delta G4 by {row['test_mape']:.2g}% on average")
    return judge


def _naturalness(t):
    """Constant lambda suffices for Gauss-net (translation-invariant GP), not for Erf/ReLU."""
    fits = t["eft_fits.csv"]
    gains = {}
    for activation in sorted(fits["activation"].unique()):
        m1, m2 = _fit_row(t, activation, "M1"), _fit_row(t, activation, "M2")
        gains[activation] = m1["test_chi2_dof"] / m2["test_chi2_dof"]
    value = "; ".join(f"{a}: test chi2/dof M1 / M2 = {g:.3g}" for a, g in gains.items())
    needs_local = {a: g > 2.0 for a, g in gains.items()}  # M2 halves the misfit: y-dependence is resolved
    expected = {a: a != "gauss" for a in gains}
    ok = needs_local == expected
    return value, "reproduced" if ok else "differs", (
        "a y-dependent coupling improves the test fit only where the GP is not translation invariant" if ok else
        "the pattern differs: " + ", ".join(f"{a} {'needs' if v else 'does not need'} lambda(y)"
                                           for a, v in needs_local.items()))


def _beta_function(activation: str):
    def judge(t):
        rg = t["rg_slopes.csv"]
        sel = rg[rg["activation"] == activation]
        if sel.empty:
            return "not run", "untestable", f"no {activation} running coupling in this configuration"
        value = "; ".join(f"d_in={int(r.d_in)}: {_fmt(r.slope, r.slope_stderr, 4)} (kernel degree "
                          f"{r.predicted_slope:g})" for r in sel.itertuples())
        holds = sel["p1_claim_holds"].astype(bool)
        if holds.all():
            return value, "reproduced", "beta = -d_in lambda within 3 standard errors at every d_in"
        return value, "differs", (
            f"slope differs from -d_in at d_in = {', '.join(str(int(d)) for d in sel[~holds]['d_in'])}; "
            f"the kernel-degree prediction -(d_in + 4p) is {', '.join(f'{p:g}' for p in sel['predicted_slope'])}")
    return judge


def _six_point(t):
    s = t["six_pt_summary.csv"]
    value = "; ".join(f"{r.activation}: |G6 - (GP + lambda)| / |G6 - GP| median {r.ratio_measured_median:.2g} "
                      f"(mean {r.ratio_measured_mean:.2g}, spread {r.ratio_measured_std:.2g}), improved "
                      f"{100 * r.frac_improved_measured:.0f}% of {r.n_multisets}" for r in s.itertuples())
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
          "lambda_0 = 0.0046, test MAPE 0.0145, MSE 6.8e-10", ("eft_fits.csv", "eft_fits.png"), _coupling_fit("gauss")),
    Claim("P1", "P1-4 fit Erf", "constant quartic coupling fitted on train predicts test Delta G4 (Erf-net)",
          "lambda_0 = 0.039, test MAPE 0.030, MSE 8.3e-10", ("eft_fits.csv", "eft_fits.png"), _coupling_fit("erf")),
    Claim("P1", "P1-4 fit ReLU", "constant quartic coupling fitted on train predicts test Delta G4 (ReLU-net)",
          "lambda_0 = 6.2e-11, test MAPE 0.0035, MSE 7.6e-12", ("eft_fits.csv", "eft_fits.png"), _coupling_fit("relu")),
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

CLAIMS = P1_CLAIMS


def evaluate(claims: list[Claim], tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per claim; a claim whose tables are missing is ``untestable``."""
    rows = []
    for claim in claims:
        needed = [f for f in claim.evidence if f.endswith(".csv")]
        missing = [f for f in needed if f not in tables]
        if missing:
            ours, verdict, reason = "", "untestable", f"tables not produced in this run: {', '.join(missing)}"
        else:
            ours, verdict, reason = claim.judge(tables)
        rows.append(dict(paper=claim.paper, claim=claim.claim_id, statement=claim.statement,
                         paper_value=claim.paper_value, ours=ours, verdict=verdict, reason=reason,
                         evidence=", ".join(claim.evidence)))
    return pd.DataFrame(rows)
