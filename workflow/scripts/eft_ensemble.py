"""One ensemble of P1's EFT fits: one width, the train or test inputs, its own random streams."""

from nnqft import config, datasets, ensemble, exact, inputs, io, runlog

log = runlog.to_file(snakemake.log[0])  # noqa: F821
cfg = snakemake.config  # noqa: F821
wc = snakemake.wildcards  # noqa: F821
eft = cfg["eft"]
width = eft["widths"][wc.activation]
spec = config.network_spec(cfg, wc.activation, 1)
x = inputs.fit_inputs(wc.activation, wc.split, eft["train_factor"])
sampling = config.sampling(cfg, eft["n_networks"], eft["n_blocks"])
blocks = range(eft["n_blocks"])
# Train and test differ in the ensemble name, hence in every random stream: independent networks.
name = f"eft/{wc.activation}/{wc.split}"
log.info("%s: %d networks of width %d on inputs %s", name, eft["n_networks"], width, x.ravel().tolist())

means = ensemble.run_shard(spec, x, [width], sampling, ensemble=name, blocks=blocks)
exact_values = datasets.exact_dataset(exact.exact_correlators(spec, x, [width]), [width], x)
# Background chunks = blocks: the EFT stage uses batch-means errors, P1's chunk noise is not needed.
ds = datasets.correlator_dataset(datasets.shard_dataset(means, [width], blocks, sampling.block_size), spec, x,
                                 eft["n_blocks"], exact=exact_values)
ds.attrs.update(io.provenance(cfg, snakemake.rule), ensemble=name, split=wc.split)  # noqa: F821
io.write_netcdf(ds, snakemake.output[0])  # noqa: F821
