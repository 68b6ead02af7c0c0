"""Osterwalder-Schrader checks (issue 5.5): Euclidean invariance z-scores of G2, G4 and the
smallest eigenvalue of the reflection matrix G2(Theta x_i, x_j) for several cutoffs."""

import jax
import numpy as np
import pandas as pd

from nnqft import ensemble, io, runlog
from nnqft.fieldtheory import experiments, settings

log = runlog.to_file(snakemake.log[0])  # noqa: F821
cfg = snakemake.config  # noqa: F821
out = snakemake.output  # noqa: F821
o = cfg["fieldtheory"]["os"]
sampling = settings.sampling(cfg, "os")
root = ensemble.root_key(cfg["seed"], sampling.prng)

rows = []
for d in o["d"]:
    net = settings.net(cfg, d, o["cutoff"], o["width"])
    key = ensemble.block_key(root, f"fieldtheory/os/points/d{d}", 0, 0)
    pts = np.asarray(jax.random.uniform(key, (o["n_points"], d), minval=-1.0, maxval=1.0))
    rows.append(experiments.euclidean_invariance(net, pts, o["n_transforms"], sampling, o["translation_scale"]))
    times = np.asarray(o["reflection_times"], dtype=float)
    x = np.zeros((len(times), d))
    x[:, 0] = times
    if d > 1:  # transverse offsets, fixed by the seed
        tkey = ensemble.block_key(root, f"fieldtheory/os/reflection_points/d{d}", 0, 0)
        x[:, 1:] = np.asarray(jax.random.uniform(tkey, (len(times), d - 1), minval=-1.0, maxval=1.0))
    for cutoff in o["reflection_cutoffs"]:
        rows.append(experiments.reflection_positivity(settings.net(cfg, d, cutoff, o["width"]), x, sampling))
table = pd.concat(rows, ignore_index=True)
io.write_table(table, out[0])
inv = table[table["check"] != "reflection"]
log.info("Euclidean invariance: %d z-scores, max |z| %.2f, mean z^2 %.2f", len(inv), inv["z"].abs().max(), (inv["z"] ** 2).mean())
log.info("reflection:\n%s", table[table["check"] == "reflection"].to_string())
