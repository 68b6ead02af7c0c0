"""Cos-net free scalar : G2 vs the exact cutoff propagator, finite-N G4_c vs the exact
parameter-space value, and the per-network variance of the 2-pt estimators, both parametrisations."""

import pandas as pd

from nnqft import io, runlog
from nnqft.fieldtheory import experiments, settings

log = runlog.to_file(snakemake.log[0])  # noqa: F821
cfg = snakemake.params.settings  # noqa: F821 (the config part this rule reads)
out = snakemake.output  # noqa: F821
p = cfg["fieldtheory"]["propagator"]
sampling = settings.sampling(cfg, "propagator")

parts = {"propagator": [], "connected4": [], "variance": []}
for d in p["d"]:
    for par in p["parametrisations"]:
        for width in p["widths"]:
            result = experiments.propagator_check(settings.net(cfg, d, p["cutoff"], width, par), p["separations"], sampling)
            for name, table in result.items():
                parts[name].append(table)
            rb = result["propagator"].query("estimator == 'rao_blackwell'")
            log.info("d=%d %s N=%d: max |z| G2 %.2f, G4c %.2f", d, par, width, rb["z"].abs().max(),
                     result["connected4"].query("estimator == 'rao_blackwell'")["z"].abs().max())
tables = {name: pd.concat(t, ignore_index=True) for name, t in parts.items()}
ratios = experiments.variance_ratios(tables["variance"], 1.0 / cfg["fieldtheory"]["mass"])
io.write_table(tables["propagator"], out.propagator)
io.write_table(tables["connected4"], out.connected4)
io.write_table(tables["variance"], out.variance)
io.write_table(ratios, out.ratio)
log.info("variance ratio alpha0/uniform beyond the correlation length:\n%s", ratios.to_string())
