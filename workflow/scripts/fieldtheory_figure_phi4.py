"""Figure of the phi^4 first-order checks from their tables."""

import pandas as pd

from nnqft import plots, runlog
from nnqft.fieldtheory import figures

runlog.to_file(snakemake.log[0])  # noqa: F821
inp = snakemake.input  # noqa: F821
perturbative_max = snakemake.config["fieldtheory"]["phi4"]["perturbative_max"]  # noqa: F821
fig = figures.phi4_first_order(pd.read_csv(inp.table), pd.read_csv(inp.ess), perturbative_max)
plots.save(fig, snakemake.output[0])  # noqa: F821
