"""lambda(Lambda) over the cutoffs for every activation and d_in, its log-log slope against P1's claim."""

import numpy as np
import pandas as pd

from nnqft import config, eft, feynman, io, rg, runlog

log = runlog.to_file(snakemake.log[0])  # noqa: F821
cfg = snakemake.config  # noqa: F821
couplings, slopes = [], []
for path in snakemake.input:  # noqa: F821
    ds = io.read_netcdf(path)
    activation, d_in = ds.attrs["activation"], int(ds.attrs["d_in"])
    width = cfg["eft"]["rg"]["widths"][activation]
    spec = config.network_spec(cfg, activation, d_in)
    # I_4 at every cutoff in one pass over nested boxes (about a second at d_in = 3).
    vertices = feynman.vertex_integrals(spec, ds["x"].values, sorted(cfg["eft"]["rg"]["cutoffs"]),
                                        propagator=cfg["eft"]["propagator"], orders=(4,))
    running = rg.running_coupling(vertices, eft.observed_deviation(ds, 4, width)[0])
    couplings.append(running.assign(activation=activation, d_in=d_in, width=width))
    fit = rg.slope(running)
    predicted = rg.predicted_slope(spec, ds["x"].values, cfg["eft"]["propagator"])
    slopes.append(dict(
        activation=activation, d_in=d_in, width=width, n_cutoffs=len(running), **fit,
        kernel_degree=rg.kernel_degree(spec, ds["x"].values, cfg["eft"]["propagator"]),
        predicted_slope=predicted, z_predicted=(fit["slope"] - predicted) / fit["slope_stderr"],
        prediction_holds_asymptotically=bool(abs(fit["asymptotic_slope"] - predicted) < rg.ASYMPTOTIC_TOLERANCE),
        p1_claim_slope=-d_in, z_p1_claim=(fit["slope"] + d_in) / fit["slope_stderr"],
        p1_claim_holds=bool(abs(fit["slope"] + d_in) < 3 * fit["slope_stderr"]),
        p1_claim_holds_asymptotically=bool(abs(fit["asymptotic_slope"] + d_in) < rg.ASYMPTOTIC_TOLERANCE),
        lambda_sign_changes=int(np.sum(np.diff(np.sign(running["lambda0"])) != 0)),
    ))
    log.info("%s d_in=%d: slope %.4f +- %.2g (R^2 %.5f), asymptotic %.6f; kernel-degree prediction %.3g, P1 %d",
             activation, d_in, fit["slope"], fit["slope_stderr"], fit["r_squared"], fit["asymptotic_slope"],
             predicted, -d_in)
io.write_table(pd.concat(couplings, ignore_index=True), snakemake.output.couplings)  # noqa: F821
io.write_table(pd.DataFrame(slopes), snakemake.output.slopes)  # noqa: F821
