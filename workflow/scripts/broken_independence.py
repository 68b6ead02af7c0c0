"""Ensembles of the shared-scale family at each eps and width, against the exact values."""

import dataclasses

from nnqft import datasets, ensemble, independence, inputs, io, runlog, settings

log = runlog.to_file(snakemake.log[0])  # noqa: F821
cfg = snakemake.params.settings  # noqa: F821 (the config part this rule reads)
ind = cfg["independence"]
spec = settings.network_spec(cfg, ind["activation"], ind["d_in"])
x = inputs.paper_inputs(ind["activation"], ind["d_in"])
sampling = settings.sampling(cfg, ind["n_networks"], ind["n_blocks"])

by_eps = {}
for eps in ind["eps"]:
    family = dataclasses.replace(spec, shared_scale_eps=float(eps))
    name = f"independence/{ind['activation']}/d{ind['d_in']}/eps{eps}"
    means = ensemble.run_shard(family, x, ind["widths"], sampling, ensemble=name,
                               blocks=range(ind["n_blocks"]), orders=(2, 4))
    blocks = datasets.shard_dataset(means, ind["widths"], range(ind["n_blocks"]), sampling.block_size)
    by_eps[float(eps)] = datasets.correlator_dataset(blocks, family, x, background_chunks=2)

table = independence.summary(by_eps, spec, x).assign(activation=ind["activation"], d_in=ind["d_in"])
io.write_table(table, snakemake.output.table)  # noqa: F821
