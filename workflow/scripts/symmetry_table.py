"""Concatenate the invariance suites into results/tables/symmetry_invariance.csv."""

import pandas as pd

from nnqft import io, runlog

log = runlog.to_file(snakemake.log[0])  # noqa: F821
table = pd.concat([pd.read_csv(p) for p in snakemake.input.tables], ignore_index=True)  # noqa: F821
zscores = pd.concat([pd.read_csv(p) for p in snakemake.input.zscores], ignore_index=True)  # noqa: F821
null = table[table["expected"] == "consistent"]  # the invariance tests proper
log.info("%d rows; null rows meeting expectation: %d of %d; controls detected: %d of %d", len(table),
         int(null["passes"].astype(bool).sum()), len(null), int(table.loc[table["control"], "detected"].sum()),
         int(table["control"].sum()))
io.write_table(table, snakemake.output.table)  # noqa: F821
io.write_table(zscores, snakemake.output.zscores)  # noqa: F821
