"""P1's deviation figure of every (activation, d_in) from the deviation table (one job: figures are cheap,
start-up is not)."""

import pandas as pd

from nnqft import plots, runlog

runlog.to_file(snakemake.log[0])  # noqa: F821
table = pd.read_csv(snakemake.input[0])  # noqa: F821
for (activation, d_in), sweep in table.groupby(["activation", "d_in"]):
    dev = sweep[sweep["quantity"] != "G6c"].assign(n=lambda t: t["quantity"].str[1:].astype(int))
    con = sweep[sweep["quantity"] == "G6c"]
    fig = plots.deviation_figure(dev, con, title=f"{activation}-net, $d_{{in}}$ = {d_in}")
    plots.save(fig, snakemake.output[f"{activation}_d{d_in}"])  # noqa: F821
