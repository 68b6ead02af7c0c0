"""Invariance z-scores, control significance, power and translation breaking; training heatmaps and curves."""

import pandas as pd

from nnqft import plots, runlog
from nnqft.symmetry import figures

runlog.to_file(snakemake.log[0])  # noqa: F821
sym = snakemake.params.settings["symmetry"]  # noqa: F821 (the config part this rule reads)
inp, out = snakemake.input, snakemake.output  # noqa: F821
fig = figures.invariance_figure(pd.read_csv(inp.table), pd.read_csv(inp.zscores), pd.read_csv(inp.power),
                                detection_sigma=sym["detection_sigma"], ks_alpha=sym["ks_alpha"])
plots.save(fig, out.invariance)
plots.save(figures.training_figure(pd.read_csv(inp.training)), out.training)
