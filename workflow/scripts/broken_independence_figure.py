"""Relative connected 4-pt against eps: exact curves at each width and N = inf, measured points."""

import pandas as pd

from nnqft import plots, runlog

runlog.to_file(snakemake.log[0])  # noqa: F821
plots.save(plots.broken_independence_figure(pd.read_csv(snakemake.input[0])), snakemake.output[0])  # noqa: F821
