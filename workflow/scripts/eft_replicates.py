"""Independent replicates of every EFT train ensemble: is the error of lambda_0 its sampling error?"""

import numpy as np
import pandas as pd

from nnqft import datasets, eft, feynman, io, runlog

log = runlog.to_file(snakemake.log[0])  # noqa: F821
cfg = snakemake.params.settings  # noqa: F821 (the config part this rule reads)
out = snakemake.output  # noqa: F821
rows = []
vertices = {}  # one Feynman-rule integral per activation: every replicate has the same inputs
for path in snakemake.input:  # noqa: F821
    ds = io.read_netcdf(path)
    activation, width = ds.attrs["activation"], int(ds["width"].values[0])
    if activation not in vertices:
        vertices[activation] = feynman.vertex_integrals(
            datasets.network_spec(ds), ds["x"].values, [cfg["eft"]["cutoffs"][activation]],
            propagator=cfg["eft"]["propagator"], orders=(4,)).isel(cutoff=0)
    obs = eft.observed_deviation(ds, 4, width)[0]
    measured = eft.fit(vertices[activation], "M1", obs)
    exact = eft.fit(vertices[activation], "M1", eft.Observation(eft.exact_deviation(ds), obs.cov))
    se = float(np.sqrt(measured.cov[0, 0]))
    rows.append(dict(activation=activation, width=width, replicate=int(ds.attrs["split"].removeprefix("replicate")),
                     lambda0=measured.couplings[0], lambda0_stderr=se, lambda0_exact_fit=exact.couplings[0],
                     z_exact=(measured.couplings[0] - exact.couplings[0]) / se, n_networks=int(ds.attrs["n_networks"])))
    log.info("%s: lambda_0 = %.5g +- %.2g (exact-data fit %.5g)", ds.attrs["ensemble"], measured.couplings[0], se,
             exact.couplings[0])
rows = pd.DataFrame(rows)
summaries = []
for (activation, width, n_networks), mine in rows.groupby(["activation", "width", "n_networks"], sort=False):
    check = eft.replicate_check(mine["lambda0"], mine["lambda0_stderr"], mine["lambda0_exact_fit"])
    summaries.append(dict(activation=activation, width=width, n_networks=n_networks, **check))
    log.info("%s: spread / error %.2f, relative bias %.3g (z %.1f), %.0f%% within 3 errors of the exact-data fit",
             activation, check["spread_to_stderr"], check["relative_bias"], check["z_bias"],
             100 * check["frac_within_3se"])
io.write_table(rows.drop(columns="n_networks"), out.table)
io.write_table(pd.DataFrame(summaries), out.summary)
