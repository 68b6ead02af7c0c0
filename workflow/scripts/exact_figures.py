"""Figures of the exact-vs-ensemble z-scores and of P3's cumulant scaling."""

import pandas as pd

from nnqft import plots, runlog

runlog.to_file(snakemake.log[0])  # noqa: F821
plots.save(plots.zscore_figure(pd.read_csv(snakemake.input.zscores)), snakemake.output.zscores)  # noqa: F821
plots.save(plots.cumulant_scaling_figure(pd.read_csv(snakemake.input.scaling)), snakemake.output.scaling)  # noqa: F821
