"""Independent replicates of every EFT train ensemble: is the error of lambda_0 its sampling error?"""

import numpy as np
import pandas as pd

from nnqft import eft, io, runlog

log = runlog.to_file(snakemake.log[0])  # noqa: F821
inp, out = snakemake.input, snakemake.output  # noqa: F821
# The train-input integrals of each activation (replicates are measured on the train inputs).
vertices = {ds.attrs["activation"]: (path, ds) for path, ds in ((p, io.read_netcdf(p)) for p in inp.vertices)}
rows = []
for path in inp.replicates:
    ds = io.read_netcdf(path)
    activation, width = ds.attrs["activation"], int(ds["width"].values[0])
    vertices_path, vertices_ds = vertices[activation]
    vertex = eft.vertices_for(vertices_ds, ds, vertices_path)
    obs = eft.observed_deviation(ds, 4, width)[0]
    measured = eft.fit(vertex, "M1", obs)
    exact = eft.fit(vertex, "M1", eft.Observation(eft.exact_deviation(ds), obs.cov))
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
