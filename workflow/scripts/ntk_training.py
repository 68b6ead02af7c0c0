"""Ensembles trained by full-batch gradient descent at every width, beside kernel regression with the NTK."""

import numpy as np

from nnqft import deep, io, ntk, ntk_settings, ntk_training, runlog, settings

log = runlog.to_file(snakemake.log[0])  # noqa: F821 (snakemake is injected)
cfg = snakemake.params.settings  # noqa: F821 (the config part this rule reads)
tr = cfg["ntk"]["training"]
name, depth = tr["activation"], int(tr["depth"])
sw, sb = float(tr["sw"]), float(tr["sb"])
x_train, y_train, x_test = (np.asarray(tr[k], dtype=np.float64) for k in ("x_train", "y_train", "x_test"))
steps = ntk_settings.recorded_steps(tr["steps"])
x_all = np.concatenate([x_train, x_test])
theta = ntk.analytic_ntk(x_all, name, sw, sb, depth)[-1]
kernel = deep.nngp_kernels(x_all, name, sw**2, sb**2, depth)[-1]
eta = ntk_training.learning_rate(theta[: len(x_train), : len(x_train)], float(tr["lr_fraction"]))
mean, var = ntk_training.prediction(theta, kernel, y_train, eta, steps)
means = []
sizes = ntk_settings.networks_per_width(tr["widths"], tr["n_networks"], tr["n_blocks"], "ntk.training")
for width, n_networks in zip(tr["widths"], sizes):
    sampling = settings.sampling(cfg, n_networks, tr["n_blocks"])
    means.append(ntk_training.run(name, sw, sb, depth, width, x_train, y_train, x_test, eta, steps, sampling,
                                  f"ntk/training/{name}/L{depth}"))
    log.info("n=%d: %d networks trained", width, n_networks)
attrs = dict(io.provenance(cfg, "ntk_training"), activation=name, depth=depth, sw=sw, sb=sb, learning_rate=eta)
ds = ntk_training.training_dataset(means, tr["widths"], tr["n_networks"], steps, mean, var, theta, attrs)
io.write_netcdf(ds, snakemake.output.dataset)  # noqa: F821
table = ntk_training.training_rows(ds)
io.write_table(table, snakemake.output.table)  # noqa: F821
io.write_table(ntk_training.training_slopes(table), snakemake.output.slopes)  # noqa: F821
