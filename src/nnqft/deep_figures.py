"""Figures of the deep finite-width stage (docs/physics.md sec. 10), from deep_finite_width.csv."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nnqft.plots import plt, theme


def _panels(n: int):
    theme()
    fig, axes = plt.subplots(2, n, figsize=(3.4 * n, 6.4), squeeze=False, constrained_layout=True)
    return fig, axes


def _width_axis(ax, widths) -> None:
    """Logarithmic width axis labelled at the measured widths."""
    ax.set_xscale("log")
    ticks = sorted(set(int(w) for w in widths))
    ax.set_xticks(ticks, [str(w) for w in ticks], fontsize=7)
    ax.minorticks_off()
    ax.set_xlabel("width n")


def finite_width_figure(table: pd.DataFrame, four_class: str = "4", two_class: str = "2"):
    """Per point: n m_4 (connected / GP 4-pt on the diagonal class) and n (E[f f] - K) / K against n,
    one colour per depth, with the 1/n theory (dashed) and the exact value (dotted) where it exists."""
    points = list(dict.fromkeys(table["point"]))
    fig, axes = _panels(len(points))
    for col, point in enumerate(points):
        sel = table[table["point"] == point]
        for row, (n_pt, cls) in enumerate([(4, four_class), (2, two_class)]):
            ax = axes[row, col]
            part = sel[(sel["n_pt"] == n_pt) & (sel["multiset_class"] == cls)]
            for i, (depth, grp) in enumerate(part.groupby("depth")):
                n, scale = grp["width"].to_numpy(float), grp["width"].to_numpy(float) / grp["gp"].to_numpy()
                ax.errorbar(n, scale * grp["measured"], yerr=scale * grp["measured_stderr"], color=f"C{i}",
                            marker="o", ms=3, lw=0, elinewidth=1, capsize=2, label=f"L = {depth}")
                ax.plot(n, scale * grp["theory_1n"], color=f"C{i}", ls="--", lw=1)
                if grp["exact"].notna().all():
                    ax.plot(n, scale * grp["exact"], color=f"C{i}", ls=":", lw=1.5)
            _width_axis(ax, part["width"])
            ax.set_ylabel(r"$n\,G_4^c / G_4^{GP}$" if n_pt == 4 else r"$n\,(E[f f] - K) / K$")
            ax.set_title(f"{point}: {'connected 4-pt' if n_pt == 4 else '2-pt shift'}", fontsize=9)
        axes[0, col].legend(fontsize=7)
    fig.suptitle("deep networks: measured (points), 1/n theory (dashed), exact (dotted)")
    return fig


def breakdown_figure(table: pd.DataFrame, four_class: str = "4"):
    """Per point: |measured - 1/n theory| / |measured - GP| of the connected 4-pt against L/n
    (top), and as a map over (L, n) (bottom). If L/n is the expansion parameter the depths collapse."""
    points = list(dict.fromkeys(table["point"]))
    fig, axes = _panels(len(points))
    for col, point in enumerate(points):
        part = table[(table["point"] == point) & (table["n_pt"] == 4) & (table["multiset_class"] == four_class)]
        ax = axes[0, col]
        for i, (depth, grp) in enumerate(part.groupby("depth")):
            ax.errorbar(grp["depth_over_width"], grp["breakdown"], yerr=grp["breakdown_stderr"], color=f"C{i}",
                        marker="o", ms=3, lw=1, capsize=2, label=f"L = {depth}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("L / n")
        ax.set_ylabel("|meas - 1/n theory| / |meas - GP|")
        ax.set_title(point, fontsize=9)
        ax.legend(fontsize=7)
        grid = part.pivot_table(index="depth", columns="width", values="breakdown")
        ax = axes[1, col]
        image = ax.imshow(np.log10(grid.to_numpy()), origin="lower", aspect="auto", cmap="viridis")
        ax.grid(False)
        ax.set_xticks(range(grid.shape[1]), grid.columns, fontsize=7)
        ax.set_yticks(range(grid.shape[0]), grid.index)
        ax.set_xlabel("width n")
        ax.set_ylabel("depth L")
        fig.colorbar(image, ax=ax, label="log10 breakdown")
    return fig


def relu_product_figure(table: pd.DataFrame):
    """Deep ReLU on a ray: measured m_4 = G4c / G4_GP against L/n beside the exact prod (1 + 5/n) - 1,
    exp(5 L/n) - 1 and the 1/n theory 5 L/n."""
    part = table[(table["activation"] == "relu") & table["exact"].notna() & (table["n_pt"] == 4)
                 & (table["multiset_class"] == "4")]
    theme()
    fig, ax = plt.subplots(figsize=(5.0, 4.0))
    for i, (depth, grp) in enumerate(part.groupby("depth")):
        ax.errorbar(grp["depth_over_width"], grp["measured"] / grp["gp"], yerr=grp["measured_stderr"] / grp["gp"],
                    color=f"C{i}", marker="o", ms=3, lw=0, elinewidth=1, capsize=2, label=f"L = {depth}")
        n = grp["width"].to_numpy(float)
        ax.plot(depth / n, (1 + 5 / n) ** depth - 1, color=f"C{i}", ls=":", lw=1.2)
    r = np.geomspace(part["depth_over_width"].min(), part["depth_over_width"].max(), 100) if len(part) else np.array([])
    ax.plot(r, np.exp(5 * r) - 1, color="k", lw=1, label="exp(5 L/n) - 1")
    ax.plot(r, 5 * r, color="k", ls="--", lw=1, label="5 L/n (1/n theory)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("L / n")
    ax.set_ylabel(r"$m_4 = G_4^c / G_4^{GP}$")
    ax.set_title(r"deep ReLU on a ray: exact $\prod_l (1 + 5/n) - 1$ (dotted)", fontsize=9)
    ax.legend(fontsize=7)
    return fig


def six_point_figure(table: pd.DataFrame, cls: str = "6"):
    """Connected 6-pt of deep nets with exact values (deep linear, deep ReLU on a ray): n^2 G6c / G6_GP
    on the diagonal class against n per depth, measured (points) and exact (dotted lines)."""
    part = table[(table["n_pt"] == 6) & (table["multiset_class"] == cls)]
    points = list(dict.fromkeys(part["point"])) or ["(no point with an exact 6-pt)"]
    theme()
    fig, axes = plt.subplots(1, len(points), figsize=(3.6 * len(points), 3.6), squeeze=False, constrained_layout=True)
    for ax, point in zip(axes[0], points):
        for i, (depth, grp) in enumerate(part[part["point"] == point].groupby("depth")):
            n = grp["width"].to_numpy(float)
            scale = n**2 / grp["gp"].to_numpy()
            ax.errorbar(n, scale * grp["measured"], yerr=scale * grp["measured_stderr"], color=f"C{i}", marker="o",
                        ms=3, lw=0, elinewidth=1, capsize=2, label=f"L = {depth}")
            ax.plot(n, scale * grp["exact"], color=f"C{i}", ls=":", lw=1.5)
        _width_axis(ax, part["width"])
        ax.set_ylabel(r"$n^2\,G_6^c / G_6^{GP}$")
        ax.set_title(point, fontsize=9)
        if ax.has_data():
            ax.legend(fontsize=7)
    fig.suptitle("connected 6-pt of deep networks: measured (points), exact (dotted)", fontsize=10)
    return fig


def exact_agreement_figure(agreement: pd.DataFrame, elements: pd.DataFrame, share: float = 0.95):
    """Points with exact values (columns): per order, a map over (L, n) of the share of elements within
    errors of their exact values (``deep_agreement.csv``; cells below ``share`` framed in red), and
    the histogram of every element's z against the standard normal (bottom)."""
    orders = sorted(elements["n_pt"].unique())
    points = list(dict.fromkeys(elements["point"])) or ["(no point with exact values)"]
    theme()
    fig, axes = plt.subplots(len(orders) + 1, len(points), figsize=(3.8 * len(points), 2.6 * (len(orders) + 1)),
                             squeeze=False, constrained_layout=True)
    for col, point in enumerate(points):
        cells = agreement[agreement["point"] == point]
        for row, n in enumerate(orders):
            ax = axes[row, col]
            grid = cells.pivot_table(index="depth", columns="width", values=f"exact_elements_within_{n}pt")
            ax.imshow(grid.to_numpy(), origin="lower", aspect="auto", cmap="viridis", vmin=0.5, vmax=1.0)
            ax.grid(False)
            for (i, j), value in np.ndenumerate(grid.to_numpy()):
                ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=6,
                        color="white" if value < 0.8 else "black")
                if value < share:
                    ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="red", lw=1.5))
            ax.set_xticks(range(grid.shape[1]), grid.columns, fontsize=7)
            ax.set_yticks(range(grid.shape[0]), grid.index, fontsize=7)
            ax.set_xlabel("width n")
            ax.set_ylabel("depth L")
            ax.set_title(f"{point}: {n}-pt elements within errors", fontsize=9)
        ax = axes[-1, col]
        z = elements.loc[elements["point"] == point, "z_exact"].to_numpy()
        if len(z):
            edges = np.linspace(-5, 5, 41)
            ax.hist(np.clip(z, -5, 5), bins=edges, density=True, color="C0", alpha=0.7, label=f"{len(z)} elements")
            grid_z = np.linspace(-5, 5, 201)
            ax.plot(grid_z, np.exp(-grid_z**2 / 2) / np.sqrt(2 * np.pi), "k", lw=1, label="N(0, 1)")
            ax.set_yscale("log")
            ax.set_ylim(1e-4, 1)
            ax.legend(fontsize=7)
        ax.set_xlabel("z = (measured - exact) / error (clipped to +-5)")
        ax.set_title(f"{point}: every element", fontsize=9)
    fig.suptitle("deep networks against exact values, element by element", fontsize=10)
    return fig
