"""Figures of the NTK stage (docs/physics.md sec. 11): error bars on every measured number, the
expected power laws overlaid."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nnqft import plots
from nnqft.plots import plt


def _log_y(ax):
    """Log scale where the axis has positive data (a stage whose bias is resolved nowhere has none)."""
    if any(np.any(np.asarray(line.get_ydata(), dtype=float) > 0) for line in ax.get_lines()):
        ax.set_yscale("log")


def _guide(ax, x, y0, slope, **style):
    """A power law x^slope through (x[0], y0): the expected scaling, drawn for comparison."""
    x = np.asarray(x, dtype=np.float64)
    ax.plot(x, y0 * (x / x[0]) ** slope, color="0.5", ls=":", **style)


def fluctuations_figure(fluctuations: pd.DataFrame):
    """Relative bias of E[Theta_hat] and relative variance of Theta_hat against width, per depth."""
    plots.theme()
    acts = sorted(fluctuations["activation"].unique())
    fig, axes = plt.subplots(2, len(acts), figsize=(5 * len(acts), 7.5), squeeze=False, sharex=True)
    for col, act in enumerate(acts):
        grp = fluctuations[fluctuations["activation"] == act]
        for i, (depth, sub) in enumerate(grp.groupby("depth")):
            ok = sub[sub["bias_resolved"]]
            axes[0, col].errorbar(ok["width"], ok["bias"], ok["bias_stderr"], marker="o", color=f"C{i}",
                                  capsize=2, mfc="none", ls=":", label=f"L = {depth}, plain")
            ok = sub[sub["bias_cv_resolved"]]
            if len(ok):
                axes[0, col].errorbar(ok["width"], ok["bias_cv"], ok["bias_cv_stderr"], marker="s", color=f"C{i}",
                                      capsize=2, label=f"L = {depth}, control variate")
            axes[1, col].errorbar(sub["width"], sub["relvar"], sub["relvar_stderr"], marker="o", color=f"C{i}",
                                  capsize=2, label=f"L = {depth}")
        widths = np.sort(grp["width"].unique())
        top = pd.concat([grp.loc[grp["bias_resolved"], "bias"], grp.loc[grp["bias_cv_resolved"], "bias_cv"]])
        if len(top):
            _guide(axes[0, col], widths, top.max(), -1.0, label="1/n")
        _guide(axes[1, col], widths, grp[grp["width"] == widths[0]]["relvar"].min(), -1.0, label="1/n")
        axes[0, col].set_title(f"{act}: |E Theta_hat - Theta| / |Theta| (resolved)")
        axes[1, col].set_title(f"{act}: sum Var(Theta_hat) / |Theta|^2")
        for ax in axes[:, col]:
            ax.set_xscale("log", base=2)
            _log_y(ax)
            ax.legend(fontsize=7)
        axes[1, col].set_xlabel("width n")
    return fig


def training_figure(training: pd.DataFrame):
    """Trained ensembles against the NTK prediction, per recorded step: the mean's deviation from
    kernel regression, the variance ratio to the NTK-GP, and the relative NTK change."""
    plots.theme()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for i, (step, sub) in enumerate(training.groupby("step")):
        style = dict(marker="o", color=f"C{i}", capsize=2)
        ok = sub[np.isfinite(sub["mean_relative"])]
        axes[0].errorbar(ok["width"], ok["mean_relative"], ok["mean_relative_stderr"], label=f"t = {step}", **style)
        axes[1].errorbar(sub["width"], sub["var_ratio"], sub["var_ratio_stderr"], label=f"t = {step}", **style)
        axes[2].errorbar(sub["width"], sub["change"], sub["change_stderr"], label=f"per network, t = {step}", **style)
        ok = sub[np.isfinite(sub["mean_kernel_relative"])]
        axes[2].errorbar(ok["width"], ok["mean_kernel_relative"], ok["mean_kernel_relative_stderr"],
                         ls="--", mfc="none", label=f"ensemble mean, t = {step}", **style)
    widths = np.sort(training["width"].unique())
    ok = training[np.isfinite(training["mean_relative"])]
    if len(ok):
        _guide(axes[0], widths, ok["mean_relative"].max(), -1.0, label="1/n")
    _guide(axes[2], widths, training["change"].max(), -0.5, label="n^-1/2")
    _guide(axes[2], widths, training["change"].max(), -1.0)
    axes[1].axhline(1.0, color="0.5", ls=":")
    axes[0].set_title("|E f_t - kernel regression| / |kernel regression|")
    axes[1].set_title("Var f_t / NTK-GP variance (test inputs)")
    axes[2].set_title("|Theta_hat_t - Theta_hat_0| / |Theta|")
    for ax in axes:
        ax.set_xscale("log", base=2)
        ax.set_xlabel("width n")
        ax.legend(fontsize=7)
    _log_y(axes[0])
    _log_y(axes[2])
    return fig
