"""Figures of the field-theory stage from its tables (one job: figures are cheap, start-up is not)."""

import pandas as pd

from nnqft import plots, runlog
from nnqft.fieldtheory import figures

runlog.to_file(snakemake.log[0])  # noqa: F821
cfg = snakemake.params.settings  # noqa: F821 (the config part this rule reads)
inp, out = snakemake.input, snakemake.output  # noqa: F821
table = {name: pd.read_csv(path) for name, path in inp.items()}
plots.save(figures.cosnet_propagator(table["propagator"], table["connected4"], table["variance"]), out.propagator)
plots.save(figures.phi4_first_order(table["phi4"], table["phi4_ess"], cfg["fieldtheory"]["phi4"]["perturbative_max"]),
           out.phi4)
plots.save(figures.cluster_decomposition(table["curves"], table["plateaus"]), out.cluster)
plots.save(figures.action_vertex(table["vertex"], table["vertex_summary"], table["conditioning"]), out.action)
plots.save(figures.os_checks(table["os"]), out.os)
