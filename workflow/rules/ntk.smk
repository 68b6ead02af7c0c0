# The neural tangent kernel (docs/physics.md sec. 11): empirical NTK ensembles of deep MLPs against the
# analytic NTK, and ensembles trained by gradient descent against kernel regression with it.
NTK = config["ntk"]
NTK_CATEGORY = "Neural tangent kernel"


wildcard_constraints:
    depth=r"\d+",


def ntk_targets():
    return [
        "results/tables/ntk_kernel.csv",
        "results/tables/ntk_fluctuations.csv",
        "results/tables/ntk_slopes.csv",
        "results/tables/ntk_training.csv",
        "results/tables/ntk_training_slopes.csv",
        "results/figures/ntk_fluctuations.png",
        "results/figures/ntk_training.png",
    ]


rule ntk_all:
    # `snakemake ntk_all` runs this stage alone.
    input:
        ntk_targets(),


rule ntk_ensemble:
    output:
        "results/ntk/{activation}_L{depth}.nc",
    params:
        settings=settings_of("ntk_ensemble"),
        code=code_of("ntk_ensemble"),
    log:
        "logs/ntk/{activation}_L{depth}.log",
    benchmark:
        "benchmarks/ntk/{activation}_L{depth}.tsv"
    script:
        "../scripts/ntk_ensemble.py"


rule ntk_tables:
    input:
        expand("results/ntk/{activation}_L{depth}.nc", activation=NTK["activations"], depth=NTK["depths"]),
    output:
        kernel=report("results/tables/ntk_kernel.csv", caption="../report/ntk_kernel_table.rst",
                      category=NTK_CATEGORY),
        fluctuations=report("results/tables/ntk_fluctuations.csv", caption="../report/ntk_fluctuations_table.rst",
                            category=NTK_CATEGORY),
        slopes=report("results/tables/ntk_slopes.csv", caption="../report/ntk_slopes_table.rst",
                      category=NTK_CATEGORY),
    params:
        code=code_of("ntk_tables"),
    log:
        "logs/ntk_tables.log",
    script:
        "../scripts/ntk_tables.py"


rule ntk_training:
    output:
        dataset="results/ntk/training.nc",
        table=report("results/tables/ntk_training.csv", caption="../report/ntk_training_table.rst",
                     category=NTK_CATEGORY),
        slopes=report("results/tables/ntk_training_slopes.csv", caption="../report/ntk_training_slopes_table.rst",
                      category=NTK_CATEGORY),
    params:
        settings=settings_of("ntk_training"),
        code=code_of("ntk_training"),
    priority: PRIORITY_LONG
    log:
        "logs/ntk_training.log",
    benchmark:
        "benchmarks/ntk_training.tsv"
    script:
        "../scripts/ntk_training.py"


rule ntk_figures:
    input:
        fluctuations="results/tables/ntk_fluctuations.csv",
        training="results/tables/ntk_training.csv",
    output:
        fluctuations=report("results/figures/ntk_fluctuations.png", caption="../report/ntk_fluctuations_figure.rst",
                            category=NTK_CATEGORY),
        training=report("results/figures/ntk_training.png", caption="../report/ntk_training_figure.rst",
                        category=NTK_CATEGORY),
    params:
        code=code_of("ntk_figures"),
    log:
        "logs/ntk_figures.log",
    script:
        "../scripts/ntk_figures.py"
