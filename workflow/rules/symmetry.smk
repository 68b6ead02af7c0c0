# P2: symmetry via duality (docs/physics.md sec. 8). Invariance of correlators under output
# rotations, input rotations and translations, with positive controls and their detection power;
# symmetry breaking during training. Ensemble and training rules write tables; cheap figure rules
# read them, so restyling a figure never reruns an ensemble.
# The section's cross-key rules are checked with the rest of the config in common.smk.

SYMMETRY_CATEGORY = "P2 - symmetry via duality"
SYMMETRY_PARTS = ["output_rotation", "input_rotation", "translation"]


wildcard_constraints:
    part="|".join(SYMMETRY_PARTS),


def symmetry_targets():
    return [
        "results/tables/symmetry_invariance.csv",
        "results/tables/symmetry_power.csv",
        "results/tables/symmetry_training.csv",
        "results/tables/symmetry_training_effects.csv",
        "results/figures/symmetry_invariance.png",
        "results/figures/symmetry_training.png",
    ]


rule symmetry_all:
    # `snakemake symmetry_all` runs this stage alone.
    input:
        symmetry_targets(),


rule symmetry_invariance:
    output:
        table="results/symmetry/invariance_{part}.csv",
        zscores="results/symmetry/zscores_{part}.csv",
    params:
        settings=settings_of("symmetry_invariance"),
        code=code_of("symmetry_invariance"),
    priority: PRIORITY_LONGEST
    log:
        "logs/symmetry/invariance_{part}.log",
    benchmark:
        "benchmarks/symmetry/invariance_{part}.tsv"
    script:
        "../scripts/symmetry_invariance.py"


rule symmetry_invariance_table:
    input:
        tables=expand("results/symmetry/invariance_{part}.csv", part=SYMMETRY_PARTS),
        zscores=expand("results/symmetry/zscores_{part}.csv", part=SYMMETRY_PARTS),
    output:
        table=report(
            "results/tables/symmetry_invariance.csv",
            caption="../report/symmetry_invariance_table.rst",
            category=SYMMETRY_CATEGORY,
        ),
        zscores="results/symmetry/zscores.csv",
    params:
        code=code_of("symmetry_table"),
    log:
        "logs/symmetry/invariance_table.log",
    script:
        "../scripts/symmetry_table.py"


rule symmetry_power:
    output:
        report(
            "results/tables/symmetry_power.csv",
            caption="../report/symmetry_power_table.rst",
            category=SYMMETRY_CATEGORY,
        ),
    params:
        settings=settings_of("symmetry_power"),
        code=code_of("symmetry_power"),
    priority: PRIORITY_LONG
    log:
        "logs/symmetry/power.log",
    benchmark:
        "benchmarks/symmetry/power.tsv"
    script:
        "../scripts/symmetry_power.py"


rule symmetry_training:
    output:
        runs="results/symmetry/training_runs.csv",
        table=report(
            "results/tables/symmetry_training.csv",
            caption="../report/symmetry_training_table.rst",
            category=SYMMETRY_CATEGORY,
        ),
        effects=report(
            "results/tables/symmetry_training_effects.csv",
            caption="../report/symmetry_training_effects.rst",
            category=SYMMETRY_CATEGORY,
        ),
    params:
        settings=settings_of("symmetry_training"),
        code=code_of("symmetry_training"),
    priority: PRIORITY_LONG
    log:
        "logs/symmetry/training.log",
    benchmark:
        "benchmarks/symmetry/training.tsv"
    script:
        "../scripts/symmetry_training.py"


rule symmetry_figures:
    input:
        table="results/tables/symmetry_invariance.csv",
        zscores="results/symmetry/zscores.csv",
        power="results/tables/symmetry_power.csv",
        training="results/tables/symmetry_training.csv",
    output:
        invariance=report(
            "results/figures/symmetry_invariance.png",
            caption="../report/symmetry_invariance_figure.rst",
            category=SYMMETRY_CATEGORY,
        ),
        training=report(
            "results/figures/symmetry_training.png",
            caption="../report/symmetry_training_figure.rst",
            category=SYMMETRY_CATEGORY,
        ),
    params:
        settings=settings_of("symmetry_figures"),
        code=code_of("symmetry_figures"),
    log:
        "logs/symmetry/figures.log",
    script:
        "../scripts/symmetry_figures.py"
