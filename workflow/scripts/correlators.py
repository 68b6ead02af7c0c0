"""Merge the shards of a width sweep into its correlator dataset (output contract)."""

from nnqft import config, datasets, inputs, io, runlog

log = runlog.to_file(snakemake.log[0])  # noqa: F821
cfg = snakemake.config  # noqa: F821
wc = snakemake.wildcards  # noqa: F821
dev = cfg["deviation"]
d_in = int(wc.d_in)

blocks = datasets.merge_shards([io.read_netcdf(p) for p in snakemake.input], dev["n_blocks"])  # noqa: F821
spec = config.network_spec(cfg, wc.activation, d_in)
ds = datasets.correlator_dataset(blocks, spec, inputs.paper_inputs(wc.activation, d_in), dev["background_chunks"])
ds.attrs.update(io.provenance(cfg, snakemake.rule))  # noqa: F821
io.write_netcdf(ds, snakemake.output[0])  # noqa: F821
log.info("wrote %s: widths %s, %d networks per width", snakemake.output[0], dev["widths"], ds.attrs["n_networks"])  # noqa: F821
