# P2: symmetry via duality (science.md sec. 8; issue 6). Invariance of correlators under output
# rotations, input rotations and translations, with positive controls and their detection power;
# symmetry breaking during training. Ensemble and training rules write tables; cheap figure rules
# read them, so restyling a figure never reruns an ensemble.
# The section's cross-key rules are checked with the rest of the config in common.smk.

SYMMETRY_CATEGORY = "P2: symmetry via duality"
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


def _machine():
    return {key: config.get(key) for key in ("seed", "prng", "sampling_dtype", "batch_elements", "architectures")}


def symmetry_settings(wildcards):
    """The config an invariance suite depends on, so that editing it reruns the suite."""
    sym = config["symmetry"]
    shared = {key: sym[key] for key in ("widths", "n_networks", "n_blocks", "n_transforms", "random_contrasts",
                                        "detection_sigma", "ks_alpha", "controls")}
    return dict(shared, **_machine(), **{wildcards.part: sym[wildcards.part]})


def symmetry_power_settings(wildcards):
    sym = config["symmetry"]
    keys = ("n_blocks", "n_transforms", "random_contrasts", "detection_sigma", "controls", "power", "output_rotation", "input_rotation")
    return dict({key: sym[key] for key in keys}, **_machine())


def symmetry_training_settings(wildcards):
    return dict(config["symmetry"]["training"], **_machine())


def symmetry_thresholds(wildcards):
    sym = config["symmetry"]
    return {"detection_sigma": sym["detection_sigma"], "ks_alpha": sym["ks_alpha"]}


rule symmetry_all:
    # `snakemake symmetry_all` runs this stage alone.
    input:
        symmetry_targets(),


rule symmetry_invariance:
    output:
        table="results/symmetry/invariance_{part}.csv",
        zscores="results/symmetry/zscores_{part}.csv",
    params:
        settings=symmetry_settings,
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
        settings=symmetry_power_settings,
    log:
        "logs/symmetry/power.log",
    benchmark:
        "benchmarks/symmetry/power.tsv"
    script:
        "../scripts/symmetry_power.py"


rule symmetry_invariance_figure:
    input:
        table="results/tables/symmetry_invariance.csv",
        zscores="results/symmetry/zscores.csv",
        power="results/tables/symmetry_power.csv",
    output:
        report(
            "results/figures/symmetry_invariance.png",
            caption="../report/symmetry_invariance_figure.rst",
            category=SYMMETRY_CATEGORY,
        ),
    params:
        thresholds=symmetry_thresholds,
    log:
        "logs/symmetry/invariance_figure.log",
    script:
        "../scripts/symmetry_figure_invariance.py"


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
        settings=symmetry_training_settings,
    log:
        "logs/symmetry/training.log",
    benchmark:
        "benchmarks/symmetry/training.tsv"
    script:
        "../scripts/symmetry_training.py"


rule symmetry_training_figure:
    input:
        "results/tables/symmetry_training.csv",
    output:
        report(
            "results/figures/symmetry_training.png",
            caption="../report/symmetry_training_figure.rst",
            category=SYMMETRY_CATEGORY,
        ),
    log:
        "logs/symmetry/training_figure.log",
    script:
        "../scripts/symmetry_figure_training.py"
