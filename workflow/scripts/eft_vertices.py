"""Feynman-rule integrals of the EFT fits on the train or test inputs, at the fit cutoff."""

from nnqft import config, feynman, inputs, io, runlog

log = runlog.to_file(snakemake.log[0])  # noqa: F821
cfg = snakemake.config  # noqa: F821
wc = snakemake.wildcards  # noqa: F821
eft = cfg["eft"]
spec = config.network_spec(cfg, wc.activation, 1)
x = inputs.fit_inputs(wc.activation, wc.split, eft["train_factor"])
cutoff = eft["cutoffs"][wc.activation]
ds = feynman.vertex_integrals(spec, x, [cutoff], propagator=eft["propagator"])
ds.attrs.update(io.provenance(cfg, snakemake.rule))  # noqa: F821
io.write_netcdf(ds, snakemake.output[0])  # noqa: F821
log.info("vertex integrals for %s %s at cutoff %s (propagator %s)", wc.activation, wc.split, cutoff, eft["propagator"])
