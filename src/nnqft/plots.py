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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def _log10_errorbar(ax, x, y, yerr, **style):
    """Plot log10 y with the error propagated (points with y <= 0 are dropped, not clipped)."""
    keep = y > 0
    ly = np.log10(y[keep])
    lerr = yerr[keep] / (y[keep] * np.log(10))
    ax.errorbar(np.log10(x[keep]), ly, yerr=lerr, capsize=2, lw=1, ms=4, **style)


def deviation_figure(deviation: pd.DataFrame, connected: pd.DataFrame, title: str,
                     theory: pd.DataFrame | None = None):
    """P1's deviation plot: log10 m_n vs log10 N for n = 2, 4, 6 with background, and |G6_c|.

    ``theory`` (optional) has columns quantity, width, m: exact curves drawn as lines.
    """
    theme()
    orders = sorted(deviation["n"].unique())
    fig, axes = plt.subplots(1, len(orders) + 1, figsize=(3.6 * (len(orders) + 1), 3.4), sharex=True)
    panels = [(f"m{n}", deviation[deviation["n"] == n], rf"$\log_{{10}} m_{n}$") for n in orders]
    panels.append(("G6c", connected, r"$\log_{10}\,\langle |G^{(6)}_c| / G^{(6)}_{GP} \rangle$"))
    for ax, (quantity, table, ylabel) in zip(axes, panels):
        for est, grp in table.groupby("estimator", sort=False):
            _log10_errorbar(ax, grp["width"].values, grp["m"].values, grp["m_stderr"].values,
                            ls="none", **ESTIMATOR_STYLE[est])
        if "background" in table:
            bg = table[table["estimator"] == "plain"]
            ax.plot(np.log10(bg["width"]), np.log10(bg["background"]), "k--", lw=1, label="background (P1)")
        if theory is not None and quantity in set(theory["quantity"]):
            th = theory[theory["quantity"] == quantity]
            ax.plot(np.log10(th["width"]), np.log10(th["m"]), "k-", lw=1.2, label="exact")
        ax.set_xlabel(r"$\log_{10} N$")
        ax.set_ylabel(ylabel)
    axes[0].legend(fontsize=7, loc="best")
    fig.suptitle(title)
    fig.tight_layout()
    return fig
