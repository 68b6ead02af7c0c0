"""Exact anharmonic oscillator: box and infinite-line values, first order, E_0, gap, truncation study."""

from nnqft import io, runlog
from nnqft.fieldtheory import aho_experiments, aho_settings

log = runlog.to_file(snakemake.log[0])  # noqa: F821
cfg = snakemake.params.settings  # noqa: F821 (the config part this rule reads)
a = cfg["aho"]
table = aho_experiments.exact_table(float(a["mass"]), a["couplings"], a["boxes"], aho_settings.observables(cfg),
                                    float(a["exact_tolerance"]))
log.info("levels per (lambda, box):\n%s", table.groupby(["lambda", "box"])[["n_levels", "truncation_change"]].first())
io.write_table(table, snakemake.output[0])  # noqa: F821
