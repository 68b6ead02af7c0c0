"""phi^4 by reweighting the free cos-net ensemble : Delta G2 and Delta G4_c against
first-order perturbation theory on the same box quadrature, and the Kish effective sample size."""

import pandas as pd

from nnqft import inputs, io, runlog
from nnqft.fieldtheory import experiments, phi4, settings

log = runlog.to_file(snakemake.log[0])  # noqa: F821
cfg = snakemake.params.settings  # noqa: F821 (the config part this rule reads)
out = snakemake.output  # noqa: F821
p = cfg["fieldtheory"]["phi4"]
sampling = settings.sampling(cfg, "phi4")

tables, ess = [], []
for d in p["d"]:
    net = settings.net(cfg, d, p["cutoff"], p["width"])
    quad = settings.phi4_box(cfg, d)
    fine = phi4.gauss_box(d, p["box_half_width"], 2 * p["quadrature_nodes"])
    err = experiments.phi4_quadrature_error(net, quad, fine, sampling)
    table, e = experiments.phi4_check(net, quad, inputs.points(p["points"], d), p["couplings"], sampling)
    e["quadrature_rel_error"] = err
    log.info("d=%d: int_V phi^4 relative quadrature error %.2e (%d vs %d nodes per axis)", d, err,
             p["quadrature_nodes"], 2 * p["quadrature_nodes"])
    log.info("d=%d: max |z| per coupling:\n%s", d, table.groupby(["lambda", "quantity"])["z"].apply(lambda z: z.abs().max()).to_string())
    tables.append(table.assign(perturbative=table["lambda"] <= p["perturbative_max"]))
    ess.append(e)
io.write_table(pd.concat(tables, ignore_index=True), out.table)
io.write_table(pd.concat(ess, ignore_index=True), out.ess)
