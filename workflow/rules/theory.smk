# Exact finite-width correlators from parameter space (P3's duality): the ground truth of
# every ensemble experiment, at zero statistical error.


rule exact_correlators:
    output:
        "results/exact/{activation}_d{d_in}.nc",
    params:
        settings=settings_of("exact_correlators"),
        code=code_of("exact_correlators"),
    log:
        "logs/exact/{activation}_d{d_in}.log",
    benchmark:
        "benchmarks/exact/{activation}_d{d_in}.tsv"
    script:
        "../scripts/exact_correlators.py"


rule exact_agreement:
    input:
        deviation_datasets(),
    output:
        agreement=report(
            "results/tables/exact_vs_ensemble.csv",
            caption="../report/exact_vs_ensemble.rst",
            category="P3 - exact finite-width correlators",
        ),
        scaling=report(
            "results/tables/cumulant_scaling.csv",
            caption="../report/cumulant_scaling_table.rst",
            category="P3 - exact finite-width correlators",
        ),
        zscores="results/tables/exact_zscores.csv",
    params:
        code=code_of("exact_agreement"),
    log:
        "logs/exact_agreement.log",
    script:
        "../scripts/exact_agreement.py"


rule estimator_variance:
    input:
        deviation_datasets(),
    output:
        report(
            "results/tables/estimator_variance.csv",
            caption="../report/estimator_variance.rst",
            category="P3 - exact finite-width correlators",
        ),
    params:
        code=code_of("estimator_variance"),
    log:
        "logs/estimator_variance.log",
    benchmark:
        "benchmarks/estimator_variance.tsv"
    script:
        "../scripts/estimator_variance.py"


rule exact_figures:
    input:
        zscores="results/tables/exact_zscores.csv",
        scaling="results/tables/cumulant_scaling.csv",
        independence="results/tables/broken_independence.csv",
    output:
        zscores=report(
            "results/figures/exact_vs_ensemble.png",
            caption="../report/exact_vs_ensemble_figure.rst",
            category="P3 - exact finite-width correlators",
        ),
        scaling=report(
            "results/figures/cumulant_scaling.png",
            caption="../report/cumulant_scaling_figure.rst",
            category="P3 - exact finite-width correlators",
        ),
        independence=report(
            "results/figures/broken_independence.png",
            caption="../report/broken_independence_figure.rst",
            category="P3 - exact finite-width correlators",
        ),
    params:
        code=code_of("exact_figures"),
    log:
        "logs/exact_figures.log",
    script:
        "../scripts/exact_figures.py"


rule broken_independence:
    output:
        table=report(
            "results/tables/broken_independence.csv",
            caption="../report/broken_independence_table.rst",
            category="P3 - exact finite-width correlators",
        ),
    params:
        settings=settings_of("broken_independence"),
        code=code_of("broken_independence"),
    log:
        "logs/broken_independence.log",
    benchmark:
        "benchmarks/broken_independence.tsv"
    script:
        "../scripts/broken_independence.py"
