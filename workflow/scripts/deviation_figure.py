"""P1's deviation figure for one (activation, d_in) from the deviation table."""

import pandas as pd

from nnqft import plots, runlog

runlog.to_file(snakemake.log[0])  # noqa: F821
wc = snakemake.wildcards  # noqa: F821
table = pd.read_csv(snakemake.input[0])  # noqa: F821
table = table[(table["activation"] == wc.activation) & (table["d_in"] == int(wc.d_in))]
dev = table[table["quantity"] != "G6c"].assign(n=lambda t: t["quantity"].str[1:].astype(int))
con = table[table["quantity"] == "G6c"]
fig = plots.deviation_figure(dev, con, title=f"{wc.activation}-net, $d_{{in}}$ = {wc.d_in}")
plots.save(fig, snakemake.output[0])  # noqa: F821
