"""I_4(Lambda) on P1's inputs at every cutoff of the running-coupling study (one evaluation, nested boxes)."""

from nnqft import config, feynman, inputs, io, runlog

log = runlog.to_file(snakemake.log[0])  # noqa: F821
cfg = snakemake.config  # noqa: F821
wc = snakemake.wildcards  # noqa: F821
d_in = int(wc.d_in)
spec = config.network_spec(cfg, wc.activation, d_in)
cutoffs = sorted(cfg["eft"]["rg"]["cutoffs"])
ds = feynman.vertex_integrals(spec, inputs.paper_inputs(wc.activation, d_in), cutoffs,
                              propagator=cfg["eft"]["propagator"], orders=(4,))
ds.attrs.update(io.provenance(cfg, snakemake.rule))  # noqa: F821
io.write_netcdf(ds, snakemake.output[0])  # noqa: F821
log.info("I_4 for %s d_in=%d at %d cutoffs", wc.activation, d_in, len(cutoffs))
