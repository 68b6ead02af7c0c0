"""m_n against width for every sweep (long table) and the fitted log-log slopes."""

import pandas as pd

from nnqft import deviation, io, runlog

log = runlog.to_file(snakemake.log[0])  # noqa: F821

tables, slopes = [], []
for path in snakemake.input:  # noqa: F821
    ds = io.read_netcdf(path)
    key = dict(activation=ds.attrs["activation"], d_in=int(ds.attrs["d_in"]))
    dev = deviation.deviation_table(ds)
    con = deviation.connected_table(ds)
    dev["quantity"] = "m" + dev["n"].astype(str)
    con["quantity"] = "G6c"
    both = pd.concat([dev, con], ignore_index=True).assign(**key)
    tables.append(both)
    for quantity, grp in both.groupby("quantity", sort=False):
        slopes += [dict(key, **row) for row in deviation.slope_rows(grp, quantity)]
    log.info("%s d_in=%d done", key["activation"], key["d_in"])

columns = ["activation", "d_in", "quantity", "estimator", "width", "m", "m_stderr", "background", "noise"]
io.write_table(pd.concat(tables, ignore_index=True)[columns], snakemake.output.deviation)  # noqa: F821
io.write_table(pd.DataFrame(slopes), snakemake.output.slopes)  # noqa: F821
