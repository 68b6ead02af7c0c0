"""Figures of the NTK stage from its tables (no ensemble reruns for a restyle)."""

import pandas as pd

from nnqft import ntk_figures, plots, runlog

log = runlog.to_file(snakemake.log[0])  # noqa: F821 (snakemake is injected)
plots.save(ntk_figures.fluctuations_figure(pd.read_csv(snakemake.input.fluctuations)),  # noqa: F821
           snakemake.output.fluctuations)  # noqa: F821
plots.save(ntk_figures.training_figure(pd.read_csv(snakemake.input.training)), snakemake.output.training)  # noqa: F821
