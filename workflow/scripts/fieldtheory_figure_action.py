"""Figure of the reconstructed quartic vertices and the conditioning from their tables."""

import pandas as pd

from nnqft import plots, runlog
from nnqft.fieldtheory import figures

runlog.to_file(snakemake.log[0])  # noqa: F821
inp = snakemake.input  # noqa: F821
fig = figures.action_vertex(pd.read_csv(inp.vertex), pd.read_csv(inp.summary), pd.read_csv(inp.conditioning))
plots.save(fig, snakemake.output[0])  # noqa: F821
