"""Detection power of the positive controls against breaking strength and ensemble size."""

import pandas as pd

from nnqft import inputs, io, runlog
from nnqft.symmetry import invariance, settings

log = runlog.to_file(snakemake.log[0])  # noqa: F821
cfg = snakemake.params.settings  # noqa: F821 (the config part this rule reads)
sym = cfg["symmetry"]
pw = sym["power"]
plan = settings.plan(cfg)
out_x = inputs.points(sym["output_rotation"]["inputs"], len(sym["output_rotation"]["inputs"][0]))
parts = [
    invariance.power_suite("output_rotation", settings.spec(cfg, sym["output_rotation"]["activation"], out_x.shape[1], pw["d_out"]),
                           out_x, pw["width"], pw["mu"], pw["n_networks"], pw["replicates"], plan),
    invariance.power_suite("input_rotation", settings.spec(cfg, pw["activation"], pw["d_in"]),
                           inputs.points(sym["input_rotation"]["points"], pw["d_in"]), pw["width"], pw["mu"],
                           pw["n_networks"], pw["replicates"], plan),
]
table = pd.concat(parts, ignore_index=True)
log.info("power table: %d rows", len(table))
io.write_table(table, snakemake.output[0])  # noqa: F821
