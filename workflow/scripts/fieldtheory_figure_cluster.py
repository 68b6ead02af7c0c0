"""Figure of the cluster decomposition from its tables."""

import pandas as pd

from nnqft import plots, runlog
from nnqft.fieldtheory import figures

runlog.to_file(snakemake.log[0])  # noqa: F821
inp = snakemake.input  # noqa: F821
fig = figures.cluster_decomposition(pd.read_csv(inp.curves), pd.read_csv(inp.plateaus))
plots.save(fig, snakemake.output[0])  # noqa: F821
