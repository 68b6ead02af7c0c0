"""Invariance z-scores, control significance, power and translation breaking (one figure)."""

import pandas as pd

from nnqft import plots, runlog
from nnqft.symmetry import figures

runlog.to_file(snakemake.log[0])  # noqa: F821
fig = figures.invariance_figure(pd.read_csv(snakemake.input.table), pd.read_csv(snakemake.input.zscores),  # noqa: F821
                                pd.read_csv(snakemake.input.power), **snakemake.params.thresholds)  # noqa: F821
plots.save(fig, snakemake.output[0])  # noqa: F821
