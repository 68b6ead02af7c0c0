"""Figure of the Osterwalder-Schrader checks from their table."""

import pandas as pd

from nnqft import plots, runlog
from nnqft.fieldtheory import figures

runlog.to_file(snakemake.log[0])  # noqa: F821
fig = figures.os_checks(pd.read_csv(snakemake.input[0]))  # noqa: F821
plots.save(fig, snakemake.output[0])  # noqa: F821
