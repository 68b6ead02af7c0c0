"""Lattice HMC of d = 1 phi^4 in the box with free-vacuum edges, at every coupling, box and spacing."""

from nnqft import io, runlog
from nnqft.fieldtheory import aho_experiments, aho_settings

log = runlog.to_file(snakemake.log[0])  # noqa: F821
cfg = snakemake.params.settings  # noqa: F821 (the config part this rule reads)
out = snakemake.output  # noqa: F821
a = cfg["aho"]
values, samplers = aho_experiments.lattice_runs(float(a["mass"]), a["couplings"], a["boxes"], a["lattice"]["spacings"],
                                                aho_settings.observables(cfg), aho_settings.chains(cfg),
                                                int(cfg["seed"]), cfg["prng"])
log.info("lattice chains:\n%s", samplers.to_string())
io.write_table(values, out.values)
io.write_table(samplers, out.samplers)
