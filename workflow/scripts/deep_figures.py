"""Figures of the deep finite-width stage from its tables (one job: figures are cheap)."""

import pandas as pd

from nnqft import deep_figures, plots, runlog

runlog.to_file(snakemake.log[0])  # noqa: F821
table = pd.read_csv(snakemake.input.table)  # noqa: F821
plots.save(deep_figures.finite_width_figure(table), snakemake.output.finite_width)  # noqa: F821
plots.save(deep_figures.breakdown_figure(table), snakemake.output.breakdown)  # noqa: F821
plots.save(deep_figures.relu_product_figure(table), snakemake.output.relu_product)  # noqa: F821
plots.save(deep_figures.six_point_figure(table), snakemake.output.six_point)  # noqa: F821
plots.save(deep_figures.exact_agreement_figure(pd.read_csv(snakemake.input.agreement),  # noqa: F821
                                               pd.read_csv(snakemake.input.elements)),  # noqa: F821
           snakemake.output.exact_agreement)  # noqa: F821
