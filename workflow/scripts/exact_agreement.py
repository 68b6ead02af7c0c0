"""z-scores of every ensemble estimate against the exact values, and P3's cumulant scaling."""

import pandas as pd

from nnqft import agreement, io, runlog

log = runlog.to_file(snakemake.log[0])  # noqa: F821
summaries, scalings, zscores = [], [], []
for path in snakemake.input:  # noqa: F821
    ds = io.read_netcdf(path)
    key = dict(activation=ds.attrs["activation"], d_in=int(ds.attrs["d_in"]))
    summaries.append(agreement.zscore_summary(ds).assign(**key))
    scalings.append(agreement.cumulant_scaling(ds).assign(**key))
    zscores += [agreement.zscores(ds, n).assign(n=n, **key) for n in (4, 6)]

first = ["activation", "d_in"]
for frames, out in ((summaries, "agreement"), (scalings, "scaling"), (zscores, "zscores")):
    table = pd.concat(frames, ignore_index=True)
    io.write_table(table[first + [c for c in table.columns if c not in first]], snakemake.output[out])  # noqa: F821
