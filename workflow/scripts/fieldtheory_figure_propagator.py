"""Figure of the cos-net free scalar from its tables."""

import pandas as pd

from nnqft import plots, runlog
from nnqft.fieldtheory import figures

runlog.to_file(snakemake.log[0])  # noqa: F821
inp = snakemake.input  # noqa: F821
fig = figures.cosnet_propagator(pd.read_csv(inp.propagator), pd.read_csv(inp.connected4), pd.read_csv(inp.variance))
plots.save(fig, snakemake.output[0])  # noqa: F821
