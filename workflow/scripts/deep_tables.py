"""The deep finite-width table, where the 1/n theory holds per (L, n), and the fitted O(1/n^2) terms."""

import pandas as pd

from nnqft import deep_summary, io, runlog

log = runlog.to_file(snakemake.log[0])  # noqa: F821
sigma = float(snakemake.params.settings["deep"]["breakdown_sigma"])  # noqa: F821
table = pd.concat([pd.read_csv(path) for path in snakemake.input.classes], ignore_index=True)  # noqa: F821
table.attrs["allow_nonfinite"] = ["exact", "z_exact"]  # NaN where no exact result exists
elements = pd.concat([pd.read_csv(path) for path in snakemake.input.elements], ignore_index=True)  # noqa: F821
io.write_table(table, snakemake.output.table)  # noqa: F821
io.write_table(elements, snakemake.output.elements)  # noqa: F821
io.write_table(deep_summary.agreement(table, sigma, elements), snakemake.output.agreement)  # noqa: F821
io.write_table(deep_summary.second_order_fits(table), snakemake.output.second_order)  # noqa: F821
log.info("%d rows from %d points", len(table), len(snakemake.input.classes))  # noqa: F821
