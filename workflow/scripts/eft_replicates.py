"""Independent replicates of every EFT train ensemble: is the error of lambda_0 its sampling error?"""

import numpy as np
import pandas as pd

from nnqft import config, eft, feynman, inputs, io, plots, runlog

log = runlog.to_file(snakemake.log[0])  # noqa: F821
cfg = snakemake.config  # noqa: F821
out = snakemake.output  # noqa: F821
settings = cfg["eft"]
sampling = config.sampling(cfg, settings["n_networks"], settings["n_blocks"])
rows, summaries = [], []
for activation in settings["activations"]:
    width, spec = settings["widths"][activation], config.network_spec(cfg, activation, 1)
    x = inputs.fit_inputs(activation, "train", settings["train_factor"])
    vertices = feynman.vertex_integrals(spec, x, [settings["cutoffs"][activation]], propagator=settings["propagator"],
                                        orders=(4,)).isel(cutoff=0)
    exact_correlators = eft.exact_values(spec, x, width)  # shared by every replicate
    for r in range(settings["replicates"]):
        # Names differ from the fit ensembles' ("eft/<act>/train"): independent networks.
        ds = eft.fit_dataset(spec, x, width, sampling, f"eft/{activation}/replicate{r}", exact_correlators)
        obs = eft.observed_deviation(ds, 4, width)[0]
        measured = eft.fit(vertices, "M1", obs)
        exact = eft.fit(vertices, "M1", eft.Observation(eft.exact_deviation(ds), obs.cov))
        se = float(np.sqrt(measured.cov[0, 0]))
        rows.append(dict(activation=activation, width=width, replicate=r, lambda0=measured.couplings[0],
                         lambda0_stderr=se, lambda0_exact_fit=exact.couplings[0],
                         z_exact=(measured.couplings[0] - exact.couplings[0]) / se))
        log.info("%s replicate %d: lambda_0 = %.5g +- %.2g (exact-data fit %.5g)", activation, r,
                 measured.couplings[0], se, exact.couplings[0])
    mine = pd.DataFrame([row for row in rows if row["activation"] == activation])
    check = eft.replicate_check(mine["lambda0"], mine["lambda0_stderr"], mine["lambda0_exact_fit"])
    summaries.append(dict(activation=activation, width=width, n_networks=settings["n_networks"], **check))
    log.info("%s: spread / error %.2f, relative bias %.3g (z %.1f), %.0f%% within 3 errors of the exact-data fit",
             activation, check["spread_to_stderr"], check["relative_bias"], check["z_bias"],
             100 * check["frac_within_3se"])
rows, summaries = pd.DataFrame(rows), pd.DataFrame(summaries)
io.write_table(rows, out.table)
io.write_table(summaries, out.summary)
plots.save(plots.eft_replicates_figure(rows, summaries, pd.read_csv(snakemake.input.fits)), out.figure)  # noqa: F821
