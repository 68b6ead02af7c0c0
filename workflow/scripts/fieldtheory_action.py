"""Actions from connected correlators : the quartic vertex of the lattice phi^4
deformation and of a finite-N cos-net on sites of spacing h = f pi / Lambda, and conditioning."""

import numpy as np
import pandas as pd

from nnqft import io, runlog
from nnqft.fieldtheory import experiments, settings

log = runlog.to_file(snakemake.log[0])  # noqa: F821
cfg = snakemake.params.settings  # noqa: F821 (the config part this rule reads)
out = snakemake.output  # noqa: F821
a = cfg["fieldtheory"]["action"]
sampling = settings.sampling(cfg, "action")
spacing = a["spacing_factor"] * np.pi / a["cutoff"]

vertex, summary, conditioning = [], [], []
for d, n_sites in zip(a["d"], a["n_sites"]):
    conditioning.append(experiments.conditioning_table(d, cfg["fieldtheory"]["mass"], a["cutoff"],
                                                       a["conditioning_factors"], n_sites))
    v, s = experiments.action_phi4(settings.net(cfg, d, a["cutoff"], a["width"]), a["couplings"], spacing, n_sites, sampling)
    vertex.append(v)
    summary.append(s)
    v, s = experiments.action_cosnet(settings.net(cfg, d, a["cutoff"], a["cosnet_width"]), spacing, n_sites, sampling)
    vertex.append(v)
    summary.append(s)
summary = pd.concat(summary, ignore_index=True)
io.write_table(pd.concat(vertex, ignore_index=True), out.vertex)
io.write_table(summary, out.summary)
io.write_table(pd.concat(conditioning, ignore_index=True), out.conditioning)
log.info("vertex summary:\n%s", summary.to_string())
