"""One ensemble of P1's EFT fits: one width, the train or test inputs (or a further train replicate),
its own random streams."""

from nnqft import eft, io, runlog, settings

log = runlog.to_file(snakemake.log[0])  # noqa: F821
cfg = snakemake.params.settings  # noqa: F821 (the config part this rule reads)
wc = snakemake.wildcards  # noqa: F821
eft_cfg = cfg["eft"]
width = eft_cfg["widths"][wc.activation]
spec = settings.network_spec(cfg, wc.activation, 1)
x = eft.split_inputs(wc.activation, wc.split, eft_cfg["train_factor"])
name = eft.ensemble_name(wc.activation, wc.split)
log.info("%s: %d networks of width %d on inputs %s", name, eft_cfg["n_networks"], width, x.ravel().tolist())
sampling = settings.sampling(cfg, eft_cfg["n_networks"], eft_cfg["n_blocks"])
ds = eft.fit_dataset(spec, x, width, sampling, name)
ds.attrs.update(io.provenance(cfg, snakemake.rule), ensemble=name, split=wc.split)  # noqa: F821
io.write_netcdf(ds, snakemake.output[0])  # noqa: F821
