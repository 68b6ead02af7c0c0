"""Generate one shard (a contiguous range of blocks) of a width sweep into block means."""

from nnqft import blocks, datasets, ensemble, inputs, io, runlog, settings

log = runlog.to_file(snakemake.log[0])  # noqa: F821 (snakemake is injected)
cfg = snakemake.params.settings  # noqa: F821 (the config part this rule reads)
wc = snakemake.wildcards  # noqa: F821
dev = cfg["deviation"]
d_in = int(wc.d_in)

spec = settings.network_spec(cfg, wc.activation, d_in)
x = inputs.paper_inputs(wc.activation, d_in)
sampling = settings.sampling(cfg, dev["n_networks"], dev["n_blocks"])
name = ensemble.sweep_name(wc.activation, d_in)
shard = blocks.shard_blocks(dev["n_blocks"], dev["shards"], int(wc.shard))
log.info("%s: shard %s, blocks %d..%d of %d, %d networks per width", name, wc.shard, shard.start, shard.stop - 1,
         dev["n_blocks"], len(shard) * sampling.block_size)

means = ensemble.run_shard(spec, x, dev["widths"], sampling, ensemble=name, blocks=shard)
ds = datasets.shard_dataset(means, dev["widths"], shard, sampling.block_size)
ds.attrs.update(io.provenance(cfg, snakemake.rule))  # noqa: F821
io.write_netcdf(ds, snakemake.output[0])  # noqa: F821
