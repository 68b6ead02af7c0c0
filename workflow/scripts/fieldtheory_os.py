"""Osterwalder-Schrader checks : Euclidean invariance z-scores of G2, G4 and the
smallest eigenvalue of the reflection matrix G2(Theta x_i, x_j) for several cutoffs."""

import pandas as pd

from nnqft import io, runlog
from nnqft.fieldtheory import experiments, settings

log = runlog.to_file(snakemake.log[0])  # noqa: F821
cfg = snakemake.params.settings  # noqa: F821 (the config part this rule reads)
out = snakemake.output  # noqa: F821
o = cfg["fieldtheory"]["os"]
sampling = settings.sampling(cfg, "os")
rows = []
for d in o["d"]:
    net = settings.net(cfg, d, o["cutoff"], o["width"])
    pts, x = experiments.os_points(d, o["n_points"], o["reflection_times"], sampling)
    rows.append(experiments.euclidean_invariance(net, pts, o["n_transforms"], sampling, o["translation_scale"]))
    for cutoff in o["reflection_cutoffs"]:
        rows.append(experiments.reflection_positivity(settings.net(cfg, d, cutoff, o["width"]), x, sampling))
table = pd.concat(rows, ignore_index=True)
io.write_table(table, out[0])
inv = table[table["check"] != "reflection"]
log.info("Euclidean invariance: %d z-scores, max |z| %.2f, mean z^2 %.2f", len(inv), inv["z"].abs().max(), (inv["z"] ** 2).mean())
log.info("reflection:\n%s", table[table["check"] == "reflection"].to_string())
