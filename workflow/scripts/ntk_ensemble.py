"""Empirical NTK ensembles of one (activation, depth) at every width, beside the analytic NTK."""

import numpy as np

from nnqft import io, ntk, ntk_settings, runlog, settings

log = runlog.to_file(snakemake.log[0])  # noqa: F821 (snakemake is injected)
cfg = snakemake.params.settings  # noqa: F821 (the config part this rule reads)
name, depth = snakemake.wildcards.activation, int(snakemake.wildcards.depth)  # noqa: F821
section = cfg["ntk"]
arch = cfg["architectures"][name]
sw, sb = float(arch["sw"]), float(arch["sb"])
x = np.asarray(section["inputs"], dtype=np.float64)
theta = ntk.analytic_ntk(x, name, sw, sb, depth)[-1]
means = []
sizes = ntk_settings.networks_per_width(section["widths"], section["n_networks"], section["n_blocks"])
for width, n_networks in zip(section["widths"], sizes):
    sampling = settings.sampling(cfg, n_networks, section["n_blocks"])
    means.append(ntk.ntk_block_means(name, sw, sb, x, depth, width, sampling, f"ntk/{name}/L{depth}"))
    log.info("%s L=%d n=%d: %d networks", name, depth, width, n_networks)
attrs = dict(io.provenance(cfg, "ntk_ensemble"), activation=name, depth=depth, sw=sw, sb=sb)
ds = ntk.ensemble_dataset(means, section["widths"], x, theta, section["n_networks"], attrs)
io.write_netcdf(ds, snakemake.output[0])  # noqa: F821
