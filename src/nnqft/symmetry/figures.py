"""Figures of the symmetry stage: invariance z-scores, control detection and power, translation
breaking against exact values, and the training heatmaps. Styled by ``nnqft.plots.theme``."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from scipy import stats

from nnqft import plots

TEST_COLORS = {"output_rotation": "C0", "input_rotation": "C1", "translation": "C2"}
TEST_LABELS = {"output_rotation": "output rotations", "input_rotation": "input rotations", "translation": "translations"}


def _width_axis(ax, widths) -> None:
    """Log width axis with a plain tick at every width used."""
    ax.set_xscale("log")
    ticks = sorted({int(w) for w in widths})
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(t) for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel("width N")


def _label(row) -> str:
    act = "" if row["test"] == "output_rotation" else f" {row['activation']}"
    return f"{row['group']}{act}"


def invariance_figure(table: pd.DataFrame, zscores: pd.DataFrame, power: pd.DataFrame,
                      detection_sigma: float = 5.0, ks_alpha: float = 0.01):
    """Six panels: null z-scores against N(0, 1); chi-square significance against width for
    invariant ensembles and controls; KS p-values; detection power; translation breaking of G4
    against its exact value; and agreement with the exact breaking."""
    plots.theme()
    fig, axes = plt.subplots(2, 3, figsize=(15, 8.4))
    ax = axes[0, 0]
    null = zscores[(~zscores["control"]) & (zscores["reference"] == "invariance") & (zscores["n_pt"] != "2+4")
                   & ~((zscores["test"] == "translation") & (zscores["n_pt"] != "2"))]
    grid = np.linspace(-5, 5, 201)
    bins = np.linspace(-5, 5, 41)
    for test, grp in null.groupby("test"):
        ax.hist(np.clip(grp["z"], -5, 5), bins=bins, density=True, histtype="step", lw=1.4,
                color=TEST_COLORS.get(test), label=f"{TEST_LABELS.get(test, test)} ({len(grp)})")
    ax.plot(grid, stats.norm.pdf(grid), "k--", lw=1, label="N(0, 1)")
    ax.set_xlabel("whitened z (invariant densities)")
    ax.set_ylabel("density")
    ax.set_title("z-scores under invariance")
    ax.legend(fontsize=7)

    ax = axes[0, 1]
    combined = table[(table["n_pt"] == "2+4") & (table["reference"] == "invariance")]
    for (test, control), grp in combined.groupby(["test", "control"]):
        for label, g in grp.groupby(grp.apply(_label, axis=1)):
            g = g.sort_values("width")
            ax.plot(g["width"], g["sigma"], marker="s" if control else "o", ls="-" if control else ":",
                    mfc=None if control else "none", color=TEST_COLORS.get(test), lw=1, ms=4, alpha=0.85,
                    label=f"{label}{' control' if control else ''}")
    ax.axhline(detection_sigma, color="k", lw=1, ls="--")
    _width_axis(ax, table["width"])
    ax.set_ylabel(r"significance $\sigma$ (G2 and G4 jointly)")
    ax.set_title("invariant (open) vs controls (filled)")
    ax.legend(fontsize=5, ncol=2)

    ax = axes[0, 2]
    rows = table[table["expected"].isin(["consistent", "exact agreement"]) & (table["n_pt"] != "2+4")]
    for (test, n_pt), g in rows.groupby(["test", "n_pt"]):
        jitter = 1.0 + (0.06 if n_pt == "4" else -0.06)
        ax.scatter(g["width"] * jitter, g["ks_p"], s=14, marker="o" if n_pt == "2" else "^",
                   color=TEST_COLORS.get(test), label=f"{TEST_LABELS.get(test, test)}, G{n_pt}"
                   + (" vs exact" if (g["reference"] == "exact").all() else ""), alpha=0.8)
    ax.axhline(ks_alpha, color="k", ls="--", lw=1)
    _width_axis(ax, table["width"])
    ax.set_yscale("log")
    ax.set_ylim(min(1e-4, rows["ks_p"].min() / 2) if len(rows) else 1e-4, 1.5)
    ax.set_ylabel("KS p-value vs N(0, 1)")
    ax.set_title("goodness of fit per test")
    ax.legend(fontsize=6)

    ax = axes[1, 0]
    pw = power[power["n_pt"] == "2+4"]
    for i, ((test, n_net), g) in enumerate(pw.groupby(["test", "n_networks"])):
        g = g.sort_values("mu")
        style = "-" if test == "output_rotation" else "--"
        color = f"C{sorted(pw['n_networks'].unique()).index(n_net)}"
        ax.plot(g["mu"], g["sigma_mean"], style, marker="o", ms=3, color=color,
                label=f"{TEST_LABELS.get(test, test)}, {n_net:.0e} networks")
        ax.fill_between(g["mu"], g["sigma_min"], g["sigma_max"], color=color, alpha=0.15)
    ax.axhline(detection_sigma, color="k", lw=1, ls=":")
    ax.set_xlabel(r"breaking strength $\mu$")
    ax.set_ylabel(r"significance $\sigma$ (mean, min-max band)")
    if len(pw):
        ax.set_title(f"detection power at N = {int(pw['width'].iloc[0])}")
    ax.legend(fontsize=6)

    ax = axes[1, 1]
    tr = table[(table["test"] == "translation") & (table["reference"] == "invariance") & (table["n_pt"] == "4")]
    for i, (dim, g) in enumerate(tr.groupby("dim")):
        g = g.sort_values("width")
        ax.plot(g["width"], g["exact_rel_breaking"], "-", color=f"C{i}", lw=1.4, label=f"exact, d_in = {dim}")
        ax.plot(g["width"], g["measured_rel_breaking"], "o", color=f"C{i}", ms=4, label=f"measured, d_in = {dim}")
        ax.plot(g["width"], g["noise_rel"], ":", color=f"C{i}", lw=1, label=f"noise (RMS stderr), d_in = {dim}")
    _width_axis(ax, table["width"])
    ax.set_yscale("log")
    ax.set_ylabel(r"RMS $[G_4(x+a) - G_4(x)]$ / RMS $G_4(x)$")
    ax.set_title("Gauss-net G4: translation breaking")
    ax.legend(fontsize=6)

    ax = axes[1, 2]
    ex = table[(table["test"] == "translation") & (table["n_pt"] == "4")]
    for i, (dim, g) in enumerate(ex.groupby("dim")):
        inv = g[g["reference"] == "invariance"].sort_values("width")
        vs = g[g["reference"] == "exact"].sort_values("width")
        ax.plot(inv["width"], inv["exact_sigma"], "-", color=f"C{i}", label=f"expected from exact breaking, d_in = {dim}")
        ax.plot(inv["width"], inv["sigma"], "o", color=f"C{i}", mfc="none", label=f"measured vs invariance, d_in = {dim}")
        ax.plot(vs["width"], vs["sigma"], "x", color=f"C{i}", label=f"measured vs exact, d_in = {dim}")
    ax.axhline(detection_sigma, color="k", lw=1, ls="--")
    _width_axis(ax, table["width"])
    ax.set_ylabel(r"significance $\sigma$")
    ax.set_title("G4 translations: against zero and against exact")
    ax.legend(fontsize=6)
    fig.tight_layout()
    return fig


def training_figure(summary: pd.DataFrame):
    """Mean and spread (std over seeds) of test accuracy over (k, mu) for each target, accuracy
    against mu with a +-std band, and the paired effect of breaking at the largest k."""
    plots.theme()
    fig, axes = plt.subplots(2, 3, figsize=(15, 8.2))
    targets = [t for t in ("one_hot", "one_cold") if t in set(summary["target"])]
    for j, target in enumerate(targets):
        sub = summary[summary["target"] == target]
        for i, (column, title, cmap) in enumerate((("acc_mean", "mean test accuracy", "viridis"),
                                                    ("acc_std", "std over seeds", "magma"))):
            grid = sub.pivot(index="k", columns="mu", values=column).sort_index(ascending=False)
            grid.columns = [f"{m:g}" for m in grid.columns]
            sns.heatmap(grid, ax=axes[i, j], cmap=cmap, cbar_kws={"label": column.replace("_", " ")},
                        xticklabels=max(1, len(grid.columns) // 6), yticklabels=grid.index)
            axes[i, j].set_title(f"{target.replace('_', '-')}: {title}")
            axes[i, j].set_xlabel(r"mean $\mu$ of the broken rows")
            axes[i, j].set_ylabel("broken rows k")
    ax = axes[0, 2]
    ks = sorted(summary["k"].unique())
    show = [k for k in (ks[len(ks) // 2], ks[-1]) if k > 0] or ks[-1:]
    styles = dict(zip(dict.fromkeys(show), ("--", "-") if len(set(show)) > 1 else ("-",)))
    for target, color in (("one_cold", "C2"), ("one_hot", "C3")):
        for k, style in styles.items():
            g = summary[(summary["target"] == target) & (summary["k"] == k)].sort_values("mu")
            if not len(g):
                continue
            ax.plot(g["mu"], g["acc_mean"], style, color=color, label=f"{target.replace('_', '-')}, k = {k}")
            ax.fill_between(g["mu"], g["acc_mean"] - g["acc_std"], g["acc_mean"] + g["acc_std"], color=color, alpha=0.12)
    ax.set_xlabel(r"$\mu$")
    ax.set_ylabel("test accuracy (mean $\\pm$ std over seeds)")
    ax.set_title("accuracy against the breaking")
    ax.legend(fontsize=7)
    ax = axes[1, 2]
    kmax = ks[-1]
    for target, color in (("one_cold", "C2"), ("one_hot", "C3")):
        g = summary[(summary["target"] == target) & (summary["k"] == kmax)].sort_values("mu")
        if not len(g):
            continue
        ax.plot(g["mu"], g["delta_mean"], color=color, marker="o", ms=3, label=target.replace("_", "-"))
        ax.fill_between(g["mu"], g["delta_mean"] - g["delta_sem"], g["delta_mean"] + g["delta_sem"], color=color, alpha=0.2)
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xlabel(r"$\mu$")
    ax.set_ylabel("accuracy minus unbroken (paired by seed, $\\pm$ sem)")
    ax.set_title(f"effect of breaking k = {kmax} rows")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
