"""The Feynman-rule integrals of one activation's EFT fits at its fit cutoff, on the train and the
test inputs: a theory product of the config alone, cached apart from the ensembles that use it."""

from nnqft import eft, io, runlog, settings

log = runlog.to_file(snakemake.log[0])  # noqa: F821
cfg = snakemake.params.settings  # noqa: F821 (the config part this rule reads)
activation = snakemake.wildcards.activation  # noqa: F821
eft_cfg = cfg["eft"]
spec = settings.network_spec(cfg, activation, 1)
for split in ("train", "test"):
    x = eft.split_inputs(activation, split, eft_cfg["train_factor"])
    vertices = eft.fit_vertices(spec, x, eft_cfg["cutoffs"][activation], eft_cfg["propagator"])
    vertices.attrs.update(io.provenance(cfg, snakemake.rule), split=split)  # noqa: F821
    log.info("%s %s: I4 on %d multisets at cutoff %g (%d quadrature nodes)", activation, split,
             vertices.sizes["t4"], float(vertices["cutoff"]), vertices.attrs["quadrature_nodes"])
    # Cutoff inf is allowed where the integrals converge (eft.cutoffs; feynman.decay_radius).
    io.write_netcdf(vertices, snakemake.output[split], allow_nonfinite=("cutoff",))  # noqa: F821
