"""aho.csv: network and lattice values per regulator and extrapolated, beside the exact and first-order values."""

import pandas as pd

from nnqft import io, runlog
from nnqft.fieldtheory import aho_experiments

log = runlog.to_file(snakemake.log[0])  # noqa: F821
inp = snakemake.input  # noqa: F821
table = aho_experiments.summary_table(pd.read_csv(inp.exact), pd.read_csv(inp.lattice),
                                      [pd.read_csv(p) for p in inp.network])
samplers = pd.concat([pd.read_csv(p) for p in inp.network_samplers], ignore_index=True)
log.info("extrapolated |z| per method and coupling:\n%s",
         table[table["setting"] == "extrapolated"].groupby(["method", "lambda"])["z"].apply(lambda z: z.abs().max()))
io.write_table(table, snakemake.output.table)  # noqa: F821
io.write_table(samplers, snakemake.output.network_samplers)  # noqa: F821
