"""lambda(Lambda) over the cutoffs for every activation and d_in; its slopes against the kernel-degree
prediction and P1's claim."""

import numpy as np
import pandas as pd

from nnqft import datasets, eft, feynman, io, rg, runlog

log = runlog.to_file(snakemake.log[0])  # noqa: F821
cfg = snakemake.params.settings  # noqa: F821 (the config part this rule reads)
settings = cfg["eft"]["rg"]
couplings, slopes, local_slopes = [], [], []
for path in snakemake.input:  # noqa: F821
    ds = io.read_netcdf(path)
    activation, d_in = ds.attrs["activation"], int(ds.attrs["d_in"])
    width = settings["widths"][activation]
    spec = datasets.network_spec(ds)
    # I_4 at every cutoff in one pass over nested boxes (about a second at d_in = 3).
    vertices = feynman.vertex_integrals(spec, ds["x"].values, sorted(settings["cutoffs"]),
                                        propagator=cfg["eft"]["propagator"], orders=(4,))
    running, log_factor = rg.running_coupling(vertices, eft.observed_deviation(ds, 4, width)[0])
    couplings.append(running.assign(activation=activation, d_in=d_in, width=width))
    local_slopes.append(rg.local_slopes(running).assign(activation=activation, d_in=d_in))
    row = dict(activation=activation, d_in=d_in, width=width, n_cutoffs=len(running),
               kernel_degree=rg.kernel_degree(spec, ds["x"].values, cfg["eft"]["propagator"]),
               predicted_slope=rg.predicted_slope(spec, ds["x"].values, cfg["eft"]["propagator"]), p1_claim_slope=-d_in,
               **rg.asymptotic_slope(running, log_factor, settings["asymptotic_min_cutoff"]),
               **rg.range_slope(running, log_factor))
    row.update(rg.verdicts(row), lambda_sign_changes=int(np.sum(np.diff(np.sign(running["lambda0"])) != 0)))
    slopes.append(row)
    log.info("%s d_in=%d: asymptotic slope %.7f +- %.2g, over all cutoffs %.5f +- %.2g (R^2 %.6f); "
             "kernel-degree prediction %g, P1 %d", activation, d_in, row["asymptotic_slope"],
             row["asymptotic_slope_stderr"], row["range_slope"], row["range_slope_stderr"], row["range_r_squared"],
             row["predicted_slope"], -d_in)
io.write_table(pd.concat(couplings, ignore_index=True), snakemake.output.couplings)  # noqa: F821
io.write_table(pd.DataFrame(slopes), snakemake.output.slopes)  # noqa: F821
io.write_table(pd.concat(local_slopes, ignore_index=True), snakemake.output.local_slopes)  # noqa: F821
