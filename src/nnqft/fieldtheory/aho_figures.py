"""Figures of the anharmonic-oscillator stage, drawn from ``aho.csv`` and the sampler tables
(docs/physics.md sec. 12; ``nnqft.plots`` theme)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from nnqft import plots

METHOD_STYLE = {"lattice": dict(color="C2", marker="D"), "network_uniform": dict(color="C0", marker="o"),
                "network_alpha0": dict(color="C3", marker="s")}


def _separation(label: str) -> float:
    return float(label[len("G2("):-1])


def propagators(table: pd.DataFrame):
    """G2(s) in the first (large) box at each coupling: exact, first order, and the extrapolated lattice
    and network values with their errors (log scale; points at or below zero are left out)."""
    plots.theme()
    g2 = table[(table["kind"] == "G2") & (table["box"] == table["box"].max())].copy()
    g2["s"] = g2["observable"].map(_separation)
    couplings = sorted(g2["lambda"].unique())
    fig, axes = plt.subplots(1, len(couplings), figsize=(3.6 * len(couplings), 3.6), squeeze=False, sharey=True)
    for ax, lam in zip(axes[0], couplings):
        at = g2[g2["lambda"] == lam]
        ref = at.drop_duplicates("s").sort_values("s")
        ax.plot(ref["s"], ref["exact"], "k-", lw=1.2, label="exact")
        first = ref["first_order"].where(ref["first_order"] > 0)
        ax.plot(ref["s"], first, "k--", lw=1.0, label="first order")
        ext = at[at["setting"] == "extrapolated"]
        methods = sorted(ext["method"].unique())
        for dx, method in zip((np.arange(len(methods)) - (len(methods) - 1) / 2) * 0.05, methods):
            m = ext[(ext["method"] == method) & (ext["value"] > 0)]
            ax.errorbar(m["s"] + dx, m["value"], m["stderr"], ls="none", ms=3, capsize=2, label=method,
                        **METHOD_STYLE[method])
        ax.set_yscale("log")
        ax.set_title(f"$\\lambda$ = {lam:g}, T = {ref['box'].iloc[0]:g}")
        ax.set_xlabel("separation $s$ (units of $1/m$)")
    return _finish(fig, axes, r"$G_2(s) = \langle\phi(s/2)\,\phi(-s/2)\rangle$")


def cost(table: pd.DataFrame, samplers: pd.DataFrame):
    """Relative error of <phi^2> = G2(0) against the exact value vs the sampling seconds of each run,
    lattice (per spacing) and network (per N, Lambda; less the free cos-net's exact cutoff error, as
    the extrapolation uses it), one panel per coupling, in the first box the network ran in (its box)."""
    plots.theme()
    phi2 = table[(table["observable"] == "G2(0)") & (table["setting"] != "extrapolated")]
    runs = []
    for row in samplers.rename(columns={"lambda": "coupling"}).itertuples():
        if row.method == "lattice":
            setting = f"a={row.spacing:g}"
        else:
            setting = f"N={int(row.N)},Lambda={row.cutoff:g}"
        match = phi2[(phi2["method"] == row.method) & (phi2["lambda"] == row.coupling)
                     & (phi2["box"] == row.box) & (phi2["setting"] == setting)]
        if len(match):
            m = match.iloc[0]
            runs.append(dict(method=row.method, coupling=m["lambda"], box=row.box, seconds=row.seconds,
                             error=abs(m["corrected"] - m["exact"]) / m["exact"],
                             stderr=m["corrected_stderr"] / m["exact"]))
    runs = pd.DataFrame(runs)
    boxes = samplers.loc[samplers["method"] != "lattice", "box"]
    box = boxes.iloc[0] if len(boxes) else runs["box"].max()
    runs = runs[runs["box"] == box]
    couplings = sorted(runs["coupling"].unique())
    fig, axes = plt.subplots(1, len(couplings), figsize=(3.6 * len(couplings), 3.4), squeeze=False, sharey=True)
    for ax, lam in zip(axes[0], couplings):
        at = runs[runs["coupling"] == lam]
        for method, g in at.groupby("method"):
            ax.errorbar(g["seconds"], g["error"], g["stderr"], ls="none", ms=4, capsize=2, label=method,
                        **METHOD_STYLE[method])
        ax.set_xscale("log")
        ax.set_title(f"$\\lambda$ = {lam:g}, T = {box:g}")
        ax.set_xlabel("sampling time (s)")
    return _finish(fig, axes, r"$|\langle\phi^2\rangle - \mathrm{exact}| / \mathrm{exact}$")


def _finish(fig, axes, ylabel: str):
    """One row of coupling panels: the y label on the first, the legend on the last."""
    axes[0, 0].set_ylabel(ylabel)
    axes[0, -1].legend(fontsize=7)
    fig.tight_layout()
    return fig
