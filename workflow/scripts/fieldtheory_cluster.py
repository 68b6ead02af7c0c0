"""Cluster decomposition : G4_c(x1, x2, x3 + L, x4 + L) against L for finite-N
cos-nets, the N -> infinity Gaussian theory and the phi^4 deformation; plateau table."""

import numpy as np
import pandas as pd

from nnqft import io, runlog
from nnqft.fieldtheory import experiments, locality, phi4, settings

log = runlog.to_file(snakemake.log[0])  # noqa: F821
cfg = snakemake.params.settings  # noqa: F821 (the config part this rule reads)
out = snakemake.output  # noqa: F821
c = cfg["fieldtheory"]["cluster"]
sep = np.asarray(c["separations"], dtype=float)
configs = locality.cluster_points(np.asarray(c["base_points"], dtype=float)[:, None], sep)
sampling = settings.sampling(cfg, "cluster")

results = [experiments.cluster_cosnet(settings.net(cfg, 1, c["cutoff"], n), configs, sep, c["plateau_from"], sampling)
           for n in c["widths"]]
results.append(experiments.cluster_gp(configs, sep, c["plateau_from"], cfg["fieldtheory"]["mass"], c["cutoff"],
                                      settings.sampling(cfg, "cluster", "gp_samples")))
quad = phi4.gauss_box(1, c["phi4_box_half_width"], c["phi4_quadrature_nodes"])
for width in c["phi4_widths"]:
    results.append(experiments.cluster_phi4(settings.net(cfg, 1, c["cutoff"], width), quad, c["phi4_coupling"], configs,
                                            sep, c["plateau_from"], settings.sampling(cfg, "cluster", "phi4_networks")))
curves = pd.concat([r[0] for r in results], ignore_index=True)
plateaus = pd.concat([r[1] for r in results], ignore_index=True)
io.write_table(plateaus, out.plateaus)
io.write_table(curves, out.curves)
log.info("plateaus:\n%s", plateaus.to_string())
