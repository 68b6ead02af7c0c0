"""P2's symmetry breaking during training: every (target, k, mu, seed) at once under vmap."""

import time

from nnqft import io, runlog
from nnqft.symmetry import settings, training

log = runlog.to_file(snakemake.log[0])  # noqa: F821
cfg = snakemake.params.settings  # noqa: F821 (the config part this rule reads)
data = settings.training_data(cfg)
setup, grid = settings.training_setup(cfg), settings.training_grid(cfg)
log.info("%s: %d train / %d test, d_in = %d; %d runs", data.name, len(data.x_train), len(data.x_test), data.d_in,
         len(grid.table()))
start = time.perf_counter()
runs = training.train(data, setup, grid, key=settings.training_key(cfg))
log.info("trained in %.1f s", time.perf_counter() - start)
summary = training.summarize(runs).assign(dataset=data.name)
effects = training.effects(runs).assign(dataset=data.name)
for row in effects.itertuples():
    log.info("%s, %s: delta = %+.4f +- %.4f (t = %.2f): %s", row.target, row.region, row.delta_mean, row.delta_sem, row.t, row.effect)
io.write_table(runs.assign(dataset=data.name), snakemake.output.runs)  # noqa: F821
io.write_table(summary, snakemake.output.table)  # noqa: F821
io.write_table(effects, snakemake.output.effects)  # noqa: F821
