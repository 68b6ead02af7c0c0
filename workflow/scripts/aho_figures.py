"""Figures of the anharmonic-oscillator stage from its tables."""

import pandas as pd

from nnqft import plots, runlog
from nnqft.fieldtheory import aho_figures

runlog.to_file(snakemake.log[0])  # noqa: F821
inp, out = snakemake.input, snakemake.output  # noqa: F821
table = pd.read_csv(inp.table)
samplers = pd.concat([pd.read_csv(inp.lattice_samplers), pd.read_csv(inp.network_samplers)], ignore_index=True)
plots.save(aho_figures.propagators(table), out.propagators)
plots.save(aho_figures.cost(table, samplers), out.cost)
