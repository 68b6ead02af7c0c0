"""Figures of the field-theory experiments, drawn from their tables (``nnqft.plots`` theme).

Every measured number carries its error bar; exact or first-order curves are overlaid.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from nnqft import plots
from nnqft.fieldtheory import cosnet

PARAM_STYLE = {"uniform": dict(color="C0", marker="o"), "alpha0": dict(color="C3", marker="s")}


def _offsets(n: int, spread: float):
    return (np.arange(n) - (n - 1) / 2) * spread


def cosnet_propagator(prop: pd.DataFrame, conn: pd.DataFrame, var: pd.DataFrame):
    """Row 1: G2(r) with the exact cutoff propagator; row 2: z-scores of G2 and G4_c;
    row 3: N x per-network variance of the Rao-Blackwell 2-pt estimator, both parametrisations."""
    plots.theme()
    dims = sorted(prop["d"].unique())
    fig, axes = plt.subplots(3, len(dims), figsize=(3.8 * len(dims), 9.0), squeeze=False)
    for col, d in enumerate(dims):
        p = prop[(prop["d"] == d) & (prop["estimator"] == "rao_blackwell")]
        m, lam = p["m"].iloc[0], p["cutoff"].iloc[0]
        r = np.linspace(0, p["separation"].max() * 1.05, 300)
        ax = axes[0, col]
        ax.plot(r, cosnet.propagator(r, d, m, lam), "k-", lw=1.2, label="exact (cutoff)")
        groups = list(p.groupby(["parametrisation", "N"]))
        for (par, n), g, dx in zip([k for k, _ in groups], [g for _, g in groups], _offsets(len(groups), 0.04)):
            ax.errorbar(g["separation"] + dx, g["measured"], g["stderr"], ls="none", ms=3, capsize=2,
                        mfc="white" if n < p["N"].max() else None, label=f"{par}, N={n}", **PARAM_STYLE[par])
        ax.set_title(f"d = {d}, $\\Lambda$ = {lam:g}, m = {m:g}")
        ax.set_xlabel("separation $|x - y|$")
        ax.set_ylabel("$G_2$")
        ax = axes[1, col]
        for label, table, marker in (("$G_2$", prop, "o"), ("$G_4^c$", conn, "^")):
            t = table[(table["d"] == d) & (table["estimator"] == "rao_blackwell")]
            for par, g in t.groupby("parametrisation"):
                ax.plot(np.log10(g["N"]) + (0.05 if par == "alpha0" else -0.05) + (0.02 if marker == "^" else 0),
                        g["z"], ls="none", marker=marker, ms=3, color=PARAM_STYLE[par]["color"], alpha=0.7,
                        label=f"{label}, {par}")
        for y in (-3, 3):
            ax.axhline(y, color="k", ls="--", lw=0.8)
        ax.set_xlabel("$\\log_{10} N$")
        ax.set_ylabel("z = (measured - exact) / stderr")
        ax = axes[2, col]
        v = var[(var["d"] == d) & (var["estimator"] == "rao_blackwell") & (var["separation"] > 0)]
        for par, g in v.groupby("parametrisation"):
            for n, gn in g.groupby("N"):
                ax.errorbar(gn["separation"], n * gn["variance"], n * gn["stderr"], ls="none", ms=3, capsize=2,
                            alpha=0.8, **PARAM_STYLE[par])
            net = cosnet.CosNet(d, m, lam, 1, par)
            r_fine = np.linspace(0.05, g["separation"].max() * 1.05, 80)
            ax.plot(r_fine, cosnet.kernel_variance(r_fine, net), "-", color=PARAM_STYLE[par]["color"], lw=1,
                    label=f"{par} (exact)")
        ax.set_yscale("log")
        ax.set_xlabel("separation $|x - y|$")
        ax.set_ylabel("$N\\,$Var$[K_h(x, y)]$ per network")
        ax.legend(fontsize=7)
    axes[0, 0].legend(fontsize=6, ncol=2)
    axes[1, 0].legend(fontsize=6)
    fig.tight_layout()
    return fig


def phi4_first_order(table: pd.DataFrame, ess: pd.DataFrame, perturbative_max: float):
    """Measured / first-order for Delta G4_c and Delta G2 against lambda (the tuple with the
    largest first-order value and the most spread one), and the Kish ESS fraction."""
    plots.theme()
    dims = sorted(table["d"].unique())
    fig, axes = plt.subplots(2, len(dims), figsize=(4.2 * len(dims), 6.4), squeeze=False, sharex=True)
    for col, d in enumerate(dims):
        ax = axes[0, col]
        t = table[table["d"] == d]
        for quantity, color in (("dG4c", "C0"), ("dG2", "C1")):
            q = t[t["quantity"] == quantity]
            first = q[q["lambda"] == q["lambda"].min()]
            chosen = [first.loc[first["first_order"].abs().idxmax(), "points"],
                      first.loc[first["points"].map(lambda s: len(set(s.split("-")))).idxmax(), "points"]]
            for k, pts in enumerate(dict.fromkeys(chosen)):
                g = q[q["points"] == pts]
                ratio = g["measured"] / g["first_order"]
                ax.errorbar(g["lambda"] * (1.04 if k else 0.96), ratio, g["stderr"] / g["first_order"].abs(),
                            color=color, marker="os"[k], ls="-" if k == 0 else ":", ms=4, capsize=2, lw=0.8,
                            label=f"{quantity} ({pts})")
        ax.axhline(1.0, color="k", lw=1)
        ax.axvspan(t["lambda"].min() * 0.8, perturbative_max * 1.1, color="0.9", zorder=-1, label="perturbative")
        ax.set_xscale("log")
        ax.set_ylabel("measured / first order")
        ax.set_title(f"d = {d}, N = {t['N'].iloc[0]}, $\\Lambda$ = {t['cutoff'].iloc[0]:g}")
        ax.legend(fontsize=7)
        ax = axes[1, col]
        e = ess[(ess["d"] == d) & (ess["lambda"] > 0)]
        ax.plot(e["lambda"], e["ess_fraction"], "ko-", ms=4)
        ax.set_xscale("log")
        ax.set_ylim(0, 1.05)
        ax.set_xlabel("$\\lambda$")
        ax.set_ylabel("Kish ESS / n")
    fig.tight_layout()
    return fig


def cluster_decomposition(curves: pd.DataFrame, plateaus: pd.DataFrame):
    """(a) N G4_c(L) of finite-width cos-nets with the exact curve and L -> infinity limit;
    (b) G4_c(L) of the N -> infinity (Gaussian) theory; (c) Delta G4_c(L) of the phi^4 deformation."""
    plots.theme()
    fig, axes = plt.subplots(1, 3, figsize=(12.5, 3.8))
    cos = curves[curves["case"] == "cosnet"]
    widths = sorted(cos["N"].unique())
    ax = axes[0]
    for k, (n, dx) in enumerate(zip(widths, _offsets(len(widths), 0.06))):
        g = cos[cos["N"] == n]
        ax.errorbar(g["L"] + dx, n * g["measured"], n * g["stderr"], ls="none", marker="os^Dv"[k % 5], ms=4,
                    capsize=2, color=f"C{k}", label=f"N = {n:g}")
    g = cos[cos["N"] == widths[0]]
    ax.plot(g["L"], widths[0] * g["exact"], "k-", lw=1, label="exact (parameter space)")
    lim = plateaus[plateaus["case"] == "cosnet"].iloc[0]
    ax.axhline(lim["N"] * lim["exact_limit"], color="k", ls="--", lw=0.8, label="exact $L\\to\\infty$")
    ax.axhline(0, color="0.5", lw=0.6)
    ax.set_title("(a) finite-N cos-net: no clustering")
    ax.set_ylabel("$N\\, G_4^c(x_1, x_2, x_3 + L, x_4 + L)$")
    for ax, case, title, ref in ((axes[1], "gaussian", "(b) $N\\to\\infty$ (Gaussian)", "exact = 0"),
                                 (axes[2], "phi4", "(c) $\\phi^4$ deformation", "first order")):
        g = curves[curves["case"] == case]
        groups = list(g.groupby("N"))
        for k, ((n, gn), dx) in enumerate(zip(groups, _offsets(len(groups), 0.08))):
            label = "measured" if case == "gaussian" else f"N = {n:g}, $\\lambda$ = {gn['lambda'].iloc[0]:g}"
            ax.errorbar(gn["L"] + dx, gn["measured"], gn["stderr"], ls="none", marker="os^"[k % 3], ms=4, capsize=2,
                        color=f"C{k + 2}", label=label)
        ax.plot(groups[0][1]["L"], groups[0][1]["exact"], "k-", lw=1, label=ref)
        ax.axhline(0, color="0.5", lw=0.6)
        ax.set_title(title)
        ax.set_ylabel("$G_4^c$" if case == "gaussian" else "$\\Delta G_4^c = G_4^c(\\lambda) - G_4^c(0)$")
    for ax in axes:
        ax.set_xlabel("L (units of 1/m)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def action_vertex(vertex: pd.DataFrame, summary: pd.DataFrame, conditioning: pd.DataFrame):
    """(a) condition number of the propagator matrix against lattice spacing; (b) phi^4 vertex
    Gamma / h^d against the diameter of the four sites; (c) the finite-N cos-net vertex."""
    plots.theme()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.9))
    ax = axes[0]
    for d, g in conditioning.groupby("d"):
        ax.semilogy(g["spacing_factor"], g["condition_number"], "o-", ms=4, label=f"d = {d}, {g['n_sites'].iloc[0]}$^d$ sites")
    ax.axvline(1.0, color="k", ls="--", lw=0.8, label="$h = \\pi/\\Lambda$")
    ax.set_xlabel("lattice spacing h / ($\\pi/\\Lambda$)")
    ax.set_ylabel("cond$(G_2)$")
    ax.set_title("(a) conditioning")
    ax.legend(fontsize=7)
    for ax, theory, title in ((axes[1], "phi4", "(b) $\\phi^4$ deformation: local"),
                              (axes[2], "cosnet", "(c) finite-N cos-net: non-local")):
        v = vertex[vertex["theory"] == theory]
        if theory == "phi4":
            v = v[v["lambda"] == v["lambda"].max()]
        for k, (d, g) in enumerate(v.groupby("d")):
            # scale: the input lambda (phi^4), the largest exact |Gamma| (cos-net), so every d is visible
            scale = g["lambda"].iloc[0] if theory == "phi4" else g["expected"].abs().max()
            jitter = 0.15 * (k - 0.5) + np.random.default_rng(0).uniform(-0.05, 0.05, len(g))
            ax.errorbar(g["diameter"] + jitter, g["measured"] / scale, g["stderr"] / scale, ls="none", marker="o",
                        ms=2.5, capsize=0, lw=0.6, alpha=0.6, color=f"C{k}", label=f"d = {d} measured")
            if theory == "cosnet":
                ax.plot(g["diameter"] + jitter, g["expected"] / scale, "x", ms=3, color="k", lw=0.6,
                        label="exact" if k == 0 else None)
        if theory == "phi4":
            ax.plot([-0.3, 0.3], [1.0, 1.0], "-", color="k", lw=2, label="input $\\lambda$")
        ax.axhline(0, color="0.5", lw=0.6)
        s = summary[summary["theory"] == theory]
        if theory == "phi4":
            s = s[s["lambda"] == s["lambda"].max()]
            txt = "\n".join(f"d={r.d}: $\\hat\\lambda$ = {r.recovered_lambda:.3f} ± {r.stderr:.3f} (input {r['lambda']:g})"
                            for _, r in s.iterrows())
        else:
            txt = "\n".join(f"d={r.d}, N={r.N}: coincident share {r.exact_diagonal_fraction:.2f}" for _, r in s.iterrows())
        ax.text(0.98, 0.97, txt, transform=ax.transAxes, ha="right", va="top", fontsize=7)
        ax.set_xlabel("diameter of $(y_1..y_4)$ / h")
        ax.set_ylabel("$\\Gamma(y_1..y_4) / (\\lambda h^d)$" if theory == "phi4"
                      else "$\\Gamma(y_1..y_4)$ / max |exact $\\Gamma$|")
        ax.set_title(title)
        ax.legend(fontsize=6, loc="lower right")
    fig.tight_layout()
    return fig


def os_checks(table: pd.DataFrame):
    """(a) z-scores of Euclidean invariance against N(0, 1); (b) smallest eigenvalue of the
    reflection matrix G2(Theta x_i, x_j) over the largest, against Lambda."""
    plots.theme()
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.8))
    ax = axes[0]
    inv = table[table["check"].str.startswith("euclidean")]
    bins = np.linspace(-4.5, 4.5, 31)
    for check, g in inv.groupby("check"):
        ax.hist(g["z"], bins=bins, density=True, histtype="step", lw=1.4,
                label=f"{check.split('_')[1]}: {len(g)} z, max|z| = {g['z'].abs().max():.2f}")
    zz = np.linspace(-4.5, 4.5, 200)
    ax.plot(zz, np.exp(-zz**2 / 2) / np.sqrt(2 * np.pi), "k--", lw=1, label="N(0, 1)")
    ax.set_xlabel("z = (G(Rx + a) - G(x)) / stderr")
    ax.set_ylabel("density")
    ax.set_title("(a) Euclidean invariance")
    ax.legend(fontsize=7)
    ax = axes[1]
    ref = table[table["check"] == "reflection"]
    for k, (d, g) in enumerate(ref.groupby("d")):
        g = g.sort_values("cutoff")
        ax.errorbar(g["cutoff"] * (1 + 0.03 * k), g["measured"] / g["reference"], g["stderr"] / g["reference"],
                    ls="none", marker="o", ms=4, capsize=2, color=f"C{k}", label=f"d = {d} measured")
        ax.plot(g["cutoff"], g["exact"] / g["reference"], "-", color=f"C{k}", lw=1, label=f"d = {d} exact")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xscale("log")
    cutoffs = sorted(ref["cutoff"].unique())
    ax.set_xticks(cutoffs, [f"{c:g}" for c in cutoffs])
    ax.minorticks_off()
    ax.set_xlabel("cutoff $\\Lambda$ (units of m)")
    ax.set_ylabel("$\\lambda_{min} / \\lambda_{max}$ of $G_2(\\Theta x_i, x_j)$")
    ax.set_title("(b) reflection positivity")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
