"""The empirical NTK against the analytic NTK (per element), its bias and variance per width, and slopes."""

from nnqft import io, ntk, runlog

log = runlog.to_file(snakemake.log[0])  # noqa: F821 (snakemake is injected)
datasets = [io.read_netcdf(path) for path in snakemake.input]  # noqa: F821
fluctuations = ntk.fluctuation_table(datasets)
io.write_table(ntk.kernel_table(datasets), snakemake.output.kernel)  # noqa: F821
io.write_table(fluctuations, snakemake.output.fluctuations)  # noqa: F821
io.write_table(ntk.slope_rows(fluctuations), snakemake.output.slopes)  # noqa: F821
log.info("%d ensembles", len(datasets))
