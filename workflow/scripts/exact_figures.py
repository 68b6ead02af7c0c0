"""Figures of the exact-vs-ensemble z-scores, P3's cumulant scaling and the broken-independence family."""

import pandas as pd

from nnqft import plots, runlog

runlog.to_file(snakemake.log[0])  # noqa: F821
inp, out = snakemake.input, snakemake.output  # noqa: F821
plots.save(plots.zscore_figure(pd.read_csv(inp.zscores)), out.zscores)
plots.save(plots.cumulant_scaling_figure(pd.read_csv(inp.scaling)), out.scaling)
plots.save(plots.broken_independence_figure(pd.read_csv(inp.independence)), out.independence)
