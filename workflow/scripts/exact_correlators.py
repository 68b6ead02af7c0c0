"""Exact G^(n) and connected G_c^(n) at the sweep's widths for one (activation, d_in)."""

from nnqft import datasets, exact, inputs, io, runlog, settings

log = runlog.to_file(snakemake.log[0])  # noqa: F821
cfg = snakemake.params.settings  # noqa: F821 (the config part this rule reads)
wc = snakemake.wildcards  # noqa: F821
widths = cfg["deviation"]["widths"]
spec = settings.network_spec(cfg, wc.activation, int(wc.d_in))
x = inputs.paper_inputs(wc.activation, int(wc.d_in))

ds = datasets.exact_dataset(exact.exact_correlators(spec, x, widths), widths, x)
ds.attrs.update(io.provenance(cfg, snakemake.rule))  # noqa: F821
io.write_netcdf(ds, snakemake.output[0])  # noqa: F821
log.info("exact correlators for %s d_in=%s at widths %s", wc.activation, wc.d_in, widths)
