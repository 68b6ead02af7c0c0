"""HMC on the cos-net's parameters of the phi^4-deformed density, one parametrisation, every coupling and (N, Lambda)."""

from nnqft import io, runlog
from nnqft.fieldtheory import aho_experiments, aho_settings

log = runlog.to_file(snakemake.log[0])  # noqa: F821
cfg = snakemake.params.settings  # noqa: F821 (the config part this rule reads)
out = snakemake.output  # noqa: F821
a, net = cfg["aho"], cfg["aho"]["network"]
values, samplers = aho_experiments.network_runs(
    float(a["mass"]), snakemake.wildcards.parametrisation, a["couplings"], float(net["box"]), net["widths"],  # noqa: F821
    net["cutoffs"], aho_settings.observables(cfg), aho_settings.chains(cfg), int(net["extra_nodes"]),
    int(net["reweighting_draws"]), int(cfg["seed"]), cfg["prng"])
log.info("network chains:\n%s", samplers.to_string())
io.write_table(values, out.values)
io.write_table(samplers, out.samplers)
