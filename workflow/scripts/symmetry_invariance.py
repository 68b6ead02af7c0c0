"""One invariance suite of P2 (wildcard part: output_rotation, input_rotation or translation)."""

from nnqft import inputs, io, runlog
from nnqft.symmetry import invariance, settings

log = runlog.to_file(snakemake.log[0])  # noqa: F821
cfg = snakemake.params.settings  # noqa: F821 (the config part this rule reads)
sym = cfg["symmetry"]
part = snakemake.wildcards.part  # noqa: F821
plan = settings.plan(cfg)

if part == "output_rotation":
    out = sym["output_rotation"]
    x = inputs.points(out["inputs"], len(out["inputs"][0]))
    specs = [settings.spec(cfg, out["activation"], x.shape[1], d_out) for d_out in out["d_out"]]
    table, zscores = invariance.output_rotation_suite(specs, x, plan)
elif part == "input_rotation":
    inp = sym["input_rotation"]
    specs = [settings.spec(cfg, act, d) for act in inp["activations"] for d in inp["d_in"]]
    table, zscores = invariance.input_rotation_suite(specs, {d: inputs.points(inp["points"], d) for d in inp["d_in"]}, plan)
elif part == "translation":
    tr = sym["translation"]
    specs = [settings.spec(cfg, tr["activation"], d) for d in tr["d_in"]]
    table, zscores = invariance.translation_suite(specs, {d: inputs.points(tr["points"], d) for d in tr["d_in"]},
                                                  float(tr["scale"]), plan)
else:
    raise ValueError(f"unknown invariance suite {part!r}")

log.info("%s: %d rows, %d detected, %d of %d expected outcomes met", part, len(table), int(table["detected"].sum()),
         int(table["passes"].eq(True).sum()), int(table["passes"].notna().sum()))
io.write_table(table, snakemake.output.table)  # noqa: F821
io.write_table(zscores, snakemake.output.zscores)  # noqa: F821
