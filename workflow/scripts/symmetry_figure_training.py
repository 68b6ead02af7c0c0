"""Heatmaps of test accuracy (mean and spread) and the one-cold / one-hot curves against mu."""

import pandas as pd

from nnqft import plots, runlog
from nnqft.symmetry import figures

runlog.to_file(snakemake.log[0])  # noqa: F821
plots.save(figures.training_figure(pd.read_csv(snakemake.input[0])), snakemake.output[0])  # noqa: F821
