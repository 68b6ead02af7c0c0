"""True (parameter-space) against estimated variance reduction of the Rao-Blackwell estimator."""

import time

import pandas as pd

from nnqft import agreement, datasets, io, runlog

log = runlog.to_file(snakemake.log[0])  # noqa: F821
tables = []
for path in snakemake.input:  # noqa: F821
    ds = io.read_netcdf(path)
    activation, d_in = ds.attrs["activation"], int(ds.attrs["d_in"])
    start = time.perf_counter()
    table = agreement.estimator_variance_table(ds, datasets.network_spec(ds))
    log.info("%s d_in=%d: true variances at %d widths in %.1f s", activation, d_in, ds.sizes["width"],
             time.perf_counter() - start)
    tables.append(table.assign(activation=activation, d_in=d_in))

table = pd.concat(tables, ignore_index=True)
first = ["activation", "d_in"]
io.write_table(table[first + [c for c in table.columns if c not in first]], snakemake.output[0])  # noqa: F821
