"""One point of the deep finite-width stage: ensembles, 1/n theory and exact values for every L and n."""

from nnqft import deep_experiments, io, runlog, settings

log = runlog.to_file(snakemake.log[0])  # noqa: F821 (snakemake is injected)
cfg = snakemake.params.settings  # noqa: F821 (the config part this rule reads)
name = snakemake.wildcards.point  # noqa: F821
deep = cfg["deep"]
p = deep["points"][name]  # the only point in this job's settings
point = deep_experiments.Point(p["activation"], p["init"], float(p["c_w"]), float(p["c_b"]), p["input_set"])
sampling = settings.sampling(cfg, deep["n_networks"], deep["n_blocks"])
table, elements = deep_experiments.measure_point(point, deep["depths"], deep["widths"], sampling, log=log)
for rows in (table, elements):
    rows.insert(0, "point", name)
io.write_table(table, snakemake.output.classes)  # noqa: F821
io.write_table(elements, snakemake.output.elements)  # noqa: F821
