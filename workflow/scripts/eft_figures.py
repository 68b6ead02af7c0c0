"""Figures of the EFT stage from its tables (cheap: restyling never reruns a fit or an ensemble)."""

import pandas as pd

from nnqft import plots, runlog

runlog.to_file(snakemake.log[0])  # noqa: F821
inp, out = snakemake.input, snakemake.output  # noqa: F821
fits = pd.read_csv(inp.fits)
plots.save(plots.eft_fits_figure(pd.read_csv(inp.predictions), fits), out.fits)
plots.save(plots.rg_figure(pd.read_csv(inp.rg_couplings), pd.read_csv(inp.rg_slopes), pd.read_csv(inp.rg_local_slopes)),
           out.rg)
plots.save(plots.six_point_figure(pd.read_csv(inp.six_pt)), out.six_pt)
plots.save(plots.eft_replicates_figure(pd.read_csv(inp.replicates), pd.read_csv(inp.replicates_summary), fits),
           out.replicates)
