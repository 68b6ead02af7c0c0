"""Merge the shards of a width sweep and its exact values into the correlator dataset."""

from nnqft import datasets, inputs, io, runlog, settings

log = runlog.to_file(snakemake.log[0])  # noqa: F821
cfg = snakemake.params.settings  # noqa: F821 (the config part this rule reads)
wc = snakemake.wildcards  # noqa: F821
dev = cfg["deviation"]
d_in = int(wc.d_in)

blocks = datasets.merge_shards([io.read_netcdf(p) for p in snakemake.input.shards], dev["n_blocks"])  # noqa: F821
spec = settings.network_spec(cfg, wc.activation, d_in)
x = inputs.paper_inputs(wc.activation, d_in)
exact = io.read_netcdf(snakemake.input.exact)  # noqa: F821
ds = datasets.correlator_dataset(blocks, spec, x, dev["background_chunks"], exact=exact)
ds.attrs.update(io.provenance(cfg, snakemake.rule))  # noqa: F821
io.write_netcdf(ds, snakemake.output[0])  # noqa: F821
log.info("wrote %s: widths %s, %d networks per width", snakemake.output[0], ds["width"].values.tolist(),  # noqa: F821
         ds.attrs["n_networks"])
