"""Figures: one seaborn theme, error bars on every measured number, theory overlaid on data."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402


ESTIMATOR_STYLE = {
    "plain": dict(color="C0", marker="o", label="Monte Carlo"),
    "rao_blackwell": dict(color="C1", marker="s", label="Rao-Blackwell"),
}


def theme() -> None:
    sns.set_theme(context="paper", style="ticks", font_scale=1.1)
    plt.rcParams.update({"figure.dpi": 130, "savefig.bbox": "tight", "axes.grid": True, "grid.alpha": 0.3})


def save(fig, path) -> None:
    """Write the figure atomically (a temporary sibling, then os.replace, like tables and datasets:
    an interrupted job never leaves a partial image) and close it."""
    from nnqft.io import atomic_write  # here: the module's imports belong to the figure code

    path = Path(path)
    # The temporary name has no image suffix, so the format is given: the path's suffix.
    fmt = path.suffix.lstrip(".") or plt.rcParams["savefig.format"]
    try:
        atomic_write(path, lambda tmp: fig.savefig(tmp, format=fmt))
    finally:
        plt.close(fig)


def _log10_errorbar(ax, x, y, yerr, **style):
    """Plot log10 y with the error propagated (points with y <= 0 are dropped, not clipped)."""
    keep = y > 0
    ly = np.log10(y[keep])
    lerr = yerr[keep] / (y[keep] * np.log(10))
    ax.errorbar(np.log10(x[keep]), ly, yerr=lerr, capsize=2, lw=1, ms=4, **style)


def deviation_figure(deviation: pd.DataFrame, connected: pd.DataFrame, title: str):
    """P1's deviation plot: log10 m_n vs log10 N for n = 2, 4, 6 with background, and |G6_c|.

    Rows with estimator "exact" (parameter-space values) are drawn as lines.
    """
    theme()
    orders = sorted(deviation["n"].unique())
    fig, axes = plt.subplots(1, len(orders) + 1, figsize=(3.6 * (len(orders) + 1), 3.4), sharex=True)
    panels = [(f"m{n}", deviation[deviation["n"] == n], rf"$\log_{{10}} m_{n}$") for n in orders]
    panels.append(("G6c", connected, r"$\log_{10}\,\langle |G^{(6)}_c| / G^{(6)}_{GP} \rangle$"))
    for ax, (quantity, table, ylabel) in zip(axes, panels):
        for est, grp in table.groupby("estimator", sort=False):
            if est == "exact":
                keep = grp["m"] > 1e-10  # exact m_2 is zero up to round-off: nothing to draw
                ax.plot(np.log10(grp["width"][keep]), np.log10(grp["m"][keep]), "k-", lw=1.2, label="exact")
                continue
            _log10_errorbar(ax, grp["width"].values, grp["m"].values, grp["m_stderr"].values,
                            ls="none", **ESTIMATOR_STYLE[est])
        bg = table[table["estimator"] == "plain"].dropna(subset=["background"])
        if len(bg):
            ax.plot(np.log10(bg["width"]), np.log10(bg["background"]), "k--", lw=1, label="background (P1)")
        ax.set_xlabel(r"$\log_{10} N$")
        ax.set_ylabel(ylabel)
    axes[0].legend(fontsize=7, loc="best")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def zscore_figure(zscores: pd.DataFrame, n: int = 4):
    """Distribution of (estimate - exact) / stderr per width, one panel per activation."""
    theme()
    data = zscores[zscores["n"] == n]
    names = sorted(data["activation"].unique())
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.4), sharey=True, squeeze=False)
    for ax, name in zip(axes[0], names):
        sns.boxplot(data=data[data["activation"] == name], x="width", y="z", hue="estimator",
                    ax=ax, fliersize=1.5, linewidth=0.8, palette={"plain": "C0", "rao_blackwell": "C1"})
        for level in (-3, 3):
            ax.axhline(level, color="k", ls=":", lw=1)
        ax.axhline(0, color="k", lw=0.6)
        ax.set_title(f"{name}-net, n = {n}")
        ax.set_xlabel("width N")
        ax.set_ylabel(r"$(G_{\rm ensemble} - G_{\rm exact}) / \sigma$")
    fig.tight_layout()
    return fig


def cumulant_scaling_figure(scaling: pd.DataFrame):
    """rho_r(N) = N^(r/2-1) sum G_c^(r) / sum kappa_r(u) against N: flat at 1 for i.i.d. neurons."""
    theme()
    names = sorted(scaling["activation"].unique())
    orders = sorted(scaling["r"].unique())
    fig, axes = plt.subplots(len(orders), len(names), figsize=(4 * len(names), 3 * len(orders)),
                             sharex=True, squeeze=False)
    markers = {"plain": "o", "rao_blackwell": "s"}
    for (i, r), (j, name) in ((a, b) for a in enumerate(orders) for b in enumerate(names)):
        ax = axes[i, j]
        sub = scaling[(scaling["r"] == r) & (scaling["activation"] == name)]
        for k, (d_in, grp) in enumerate(sub.groupby("d_in")):
            for est, g in grp[grp["estimator"] != "exact"].groupby("estimator"):
                shift = 1 + 0.04 * (k - 1) + (0.015 if est == "plain" else 0)
                ax.errorbar(g["width"] * shift, g["rho"], yerr=g["rho_stderr"], ls="none", capsize=2,
                            marker=markers[est], ms=4, color=f"C{k}", mfc="none" if est == "plain" else None,
                            label=f"d_in={d_in}, {est}")
        ax.axhline(1.0, color="k", lw=1.2, label="exact")
        # Plain Monte Carlo of a 6-pt cumulant at large N can be 10^4 times noisier than the
        # Rao-Blackwell estimate: scale the axis to the latter; the table has every value.
        rb = sub[sub["estimator"] == "rao_blackwell"]
        lo = min(1.0, (rb["rho"] - rb["rho_stderr"]).min())
        hi = max(1.0, (rb["rho"] + rb["rho_stderr"]).max())
        ax.set_ylim(lo - 0.3 * (hi - lo) - 0.05, hi + 0.3 * (hi - lo) + 0.05)
        ax.set_xscale("log")
        ax.set_title(f"{name}-net, r = {r}")
        ax.set_xlabel("width N")
        ax.set_ylabel(rf"$N^{{{r // 2 - 1}}}\,\Sigma G_c^{{({r})}} / \Sigma \kappa_{r}(u)$")
    axes[0, 0].legend(fontsize=6)
    fig.tight_layout()
    return fig


def broken_independence_figure(table: pd.DataFrame):
    """sum G4_c / sum G4_GP against eps: exact lines per width (N = inf dashed), measured points."""
    theme()
    fig, ax = plt.subplots(figsize=(5, 3.6))
    exact = table[table["estimator"] == "exact"]
    widths = sorted(exact["width"].unique())
    for k, width in enumerate(widths):
        line = exact[exact["width"] == width].sort_values("eps")
        label = r"exact, $N=\infty$" if np.isinf(width) else f"exact, N = {int(width)}"
        ax.plot(line["eps"], line["value"], color="k" if np.isinf(width) else f"C{k}",
                ls="--" if np.isinf(width) else "-", lw=1.2, label=label)
        for est, marker in (("plain", "o"), ("rao_blackwell", "s")):
            pts = table[(table["estimator"] == est) & (table["width"] == width)]
            if len(pts):
                ax.errorbar(pts["eps"], pts["value"], yerr=pts["stderr"], ls="none", marker=marker, ms=4,
                            capsize=2, color=f"C{k}", mfc="none" if est == "plain" else None,
                            label=f"N = {int(width)}, {est}")
    ax.set_xlabel(r"correlation strength $\varepsilon$")
    ax.set_ylabel(r"$\Sigma\, G_c^{(4)} / \Sigma\, G^{(4)}_{GP}$")
    ax.legend(fontsize=6)
    fig.tight_layout()
    return fig


MODEL_STYLE = {"M1": dict(color="C1", ls="-"), "M2": dict(color="C2", ls="--"), "M3": dict(color="C3", ls=":")}


def eft_fits_figure(predictions: pd.DataFrame, fits: pd.DataFrame):
    """Test-set Delta G4 per multiset: measured with errors, exact, and each model's prediction."""
    theme()
    names = sorted(predictions["activation"].unique())
    fig, axes = plt.subplots(len(names), 1, figsize=(9, 2.8 * len(names)), squeeze=False)
    for ax, name in zip(axes[:, 0], names):
        sub = predictions[predictions["activation"] == name]
        first = sub[sub["model"] == "M1"]
        idx = np.arange(len(first))
        ax.errorbar(idx, first["measured"], yerr=first["stderr"], ls="none", marker="o", ms=2.5, capsize=1,
                    color="C0", label="measured (test networks)")
        ax.plot(idx, first["exact"], "k.", ms=3, label="exact")
        for model, style in MODEL_STYLE.items():
            pred = sub[sub["model"] == model]["predicted"].values
            row = fits[(fits["activation"] == name) & (fits["model"] == model)].iloc[0]
            ax.plot(idx, pred, lw=1, **style, label=f"{model} (test MAPE {row['test_mape']:.2g}%, "
                                                    rf"$\chi^2$/dof {row['test_chi2_dof']:.2g})")
        width = fits[fits["activation"] == name]["width"].iloc[0]
        ax.set_title(f"{name}-net, N = {width}: couplings fitted on train inputs, shown on test inputs")
        ax.set_xlabel("4-pt index multiset (lexicographic)")
        ax.set_ylabel(r"$\Delta G^{(4)} = G^{(4)} - G^{(4)}_{GP}$")
        ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    return fig


def eft_replicates_figure(replicates: pd.DataFrame, summary: pd.DataFrame, fits: pd.DataFrame):
    """lambda_0 of M1 on each independent replicate ensemble with its error, against the exact-data fit
    (line), with the replicate mean and its error (band, from ``eft.replicate_check``'s ``summary``)
    and the fit ensemble's value (square)."""
    theme()
    names = list(dict.fromkeys(replicates["activation"]))
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.4), squeeze=False)
    for ax, name in zip(axes[0], names):
        sub = replicates[replicates["activation"] == name]
        check = summary[summary["activation"] == name].iloc[0]
        ax.errorbar(sub["replicate"], sub["lambda0"], yerr=sub["lambda0_stderr"], ls="none", marker="o", ms=3,
                    capsize=2, color="C0", label="replicate ensembles")
        mean, err = check["lambda0_mean"], check["lambda0_mean_stderr"]
        ax.axhspan(mean - err, mean + err, color="C0", alpha=0.2, label="replicate mean")
        ax.axhline(check["lambda0_exact_fit"], color="k", lw=1, label="exact-data fit")
        main = fits[(fits["activation"] == name) & (fits["model"] == "M1")]
        if not main.empty:
            ax.errorbar(-1, main["lambda0"].iloc[0], yerr=main["lambda0_stderr"].iloc[0], marker="s", ms=4,
                        capsize=2, color="C1", label="fit ensemble (eft_fits.csv)")
        ax.set_title(f"{name}-net, N = {sub['width'].iloc[0]}: mean {100 * check['relative_bias']:+.2g}% vs exact "
                     f"({check['z_bias']:+.1f} $\\sigma$)", fontsize=9)
        ax.set_xlabel("replicate")
        ax.set_ylabel(r"$\lambda_0$ (M1)")
        ax.legend(fontsize=6)
    fig.tight_layout()
    return fig


def rg_figure(couplings: pd.DataFrame, slopes: pd.DataFrame, local_slopes: pd.DataFrame):
    """Top: |lambda(Lambda)| log-log per activation and d_in, with the straight line through all
    cutoffs and P1's slope -d_in. Bottom: the local slope beta / lambda minus the kernel-degree
    prediction, approaching 0 as Lambda grows, and the extrapolated exponent at the right edge."""
    theme()
    names = sorted(couplings["activation"].unique())
    fig, axes = plt.subplots(2, len(names), figsize=(4.2 * len(names), 6.8), squeeze=False)
    for col, name in enumerate(names):
        top, bottom = axes[:, col]
        for k, (d_in, grp) in enumerate(couplings[couplings["activation"] == name].groupby("d_in")):
            fit = slopes[(slopes["activation"] == name) & (slopes["d_in"] == d_in)].iloc[0]
            lam = np.abs(grp["lambda0"].values)
            _log10_errorbar(top, grp["cutoff"].values, lam, grp["lambda0_stderr"].values, ls="none", marker="o",
                            color=f"C{k}", label=f"$d_{{in}}$={d_in}: all cutoffs {fit['range_slope'] + 0.0:.3f}, "
                                                        f"asympt. {fit['asymptotic_slope'] + 0.0:.5f}")
            logc = np.log10(grp["cutoff"].values)
            mid = np.mean(np.log10(lam))
            top.plot(logc, mid + fit["range_slope"] * (logc - logc.mean()), color=f"C{k}", lw=1)
            top.plot(logc, mid - d_in * (logc - logc.mean()), color=f"C{k}", lw=0.8, ls=":")
            local = local_slopes[(local_slopes["activation"] == name) & (local_slopes["d_in"] == d_in)]
            bottom.plot(local["cutoff"], local["local_slope"] - fit["predicted_slope"], marker=".", color=f"C{k}",
                        label=f"$d_{{in}}$={d_in} (prediction {fit['predicted_slope']:g}, P1 {-d_in})")
            bottom.errorbar(2 * grp["cutoff"].max() * 1.3**k, fit["asymptotic_slope"] - fit["predicted_slope"],
                            yerr=fit["asymptotic_slope_stderr"], marker="s", color=f"C{k}", capsize=2)
        top.set_title(f"{name}-net (solid: line through all cutoffs; dotted: P1's $-d_{{in}}$)", fontsize=8)
        top.set_xlabel(r"$\log_{10} \Lambda$")
        top.set_ylabel(r"$\log_{10} |\lambda(\Lambda)|$")
        top.legend(fontsize=6)
        bottom.axhline(0, color="k", lw=0.6)
        bottom.set_xscale("log")
        # Linear within the smallest stated error of an exponent: differences below it are not resolved.
        bottom.set_yscale("symlog", linthresh=float(slopes["asymptotic_slope_stderr"].min()))
        bottom.set_xlabel(r"$\Lambda$ (squares: extrapolated $\Lambda \to \infty$)")
        bottom.set_ylabel(r"$d \log|\lambda| / d \log \Lambda$ $-$ prediction")
        bottom.legend(fontsize=6)
    fig.tight_layout()
    return fig


def six_point_figure(six_pt: pd.DataFrame):
    """(G6 - G6_GP) / (first-order lambda_0 term) per multiset: 1 is a perfect prediction, 0 the GP."""
    theme()
    names = sorted(six_pt["activation"].unique())
    fig, axes = plt.subplots(len(names), 1, figsize=(9, 2.6 * len(names)), squeeze=False)
    for ax, name in zip(axes[:, 0], names):
        sub = six_pt[six_pt["activation"] == name]
        term = (sub["G6_gp_lambda"] - sub["G6_gp"]).values
        idx = np.arange(len(sub))
        ax.errorbar(idx, (sub["G6_measured"] - sub["G6_gp"]) / term, yerr=sub["G6_stderr"] / np.abs(term),
                    ls="none", marker="o", ms=2, capsize=0, elinewidth=0.6, color="C0", label="measured")
        ax.plot(idx, (sub["G6_exact"] - sub["G6_gp"]) / term, "k.", ms=2.5, label="exact")
        ax.axhline(1.0, color="C1", lw=1.2, label=r"GP + $\lambda_0$ term")
        ax.axhline(0.0, color="0.5", lw=1, ls="--", label="GP")
        ax.set_title(f"{name}-net, N = {sub['width'].iloc[0]}: all {len(sub)} six-point multisets (test inputs)")
        ax.set_xlabel("6-pt index multiset (lexicographic)")
        ax.set_ylabel(r"$\Delta G^{(6)}$ / predicted")
        ax.legend(fontsize=6, ncol=4)
    fig.tight_layout()
    return fig
