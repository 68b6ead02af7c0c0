"""P1's six-point prediction from the fitted lambda_0 (M1) on all 462 multisets of the test inputs."""

import pandas as pd

from nnqft import correlators, eft, io, runlog

log = runlog.to_file(snakemake.log[0])  # noqa: F821
inp = snakemake.input  # noqa: F821
fits = pd.read_csv(inp.fits)
tables, summaries = [], []
for test_path, vertices_path in zip(inp.test, inp.vertices_test):
    ds = io.read_netcdf(test_path)
    activation, width = ds.attrs["activation"], int(ds["width"].values[0])
    m1 = fits[(fits["activation"] == activation) & (fits["model"] == "M1")].iloc[0]
    vertices = eft.vertices_for(io.read_netcdf(vertices_path), ds, vertices_path)
    measured, _ = eft.observed_deviation(ds, 6, width)
    gp_kernel = correlators.symmetric_matrix(ds["G2_gp"].values, ds.sizes["point"])
    table = eft.six_point_table(vertices, gp_kernel, m1["lambda0"], measured, ds["G6_gp"].values,
                                ds["G6_exact"].values[0])
    summary = dict(activation=activation, width=width, lambda0=m1["lambda0"], n_multisets=len(table),
                   **eft.six_point_summary(table))
    log.info("%s: %s", activation, summary)
    tables.append(table.assign(activation=activation, width=width))
    summaries.append(summary)
io.write_table(pd.concat(tables, ignore_index=True), snakemake.output.table)  # noqa: F821
io.write_table(pd.DataFrame(summaries), snakemake.output.summary)  # noqa: F821
