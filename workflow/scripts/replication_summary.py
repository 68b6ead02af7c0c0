"""One verdict per testable claim of P1, P2, P3, from the tables it rests on."""

from pathlib import Path

import pandas as pd

from nnqft import io, replication, runlog

log = runlog.to_file(snakemake.log[0])  # noqa: F821
tables = {Path(p).name: pd.read_csv(p) for p in snakemake.input}  # noqa: F821
summary = replication.evaluate(replication.CLAIMS, tables)
for row in summary.itertuples():
    log.info("%-28s %-11s %s", row.claim, row.verdict, row.reason)
io.write_table(summary, snakemake.output[0])  # noqa: F821
