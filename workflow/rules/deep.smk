# Deep networks at finite width (docs/physics.md sec. 10): ensembles against PDLT's 1/n theory and the
# exact all-order values of deep linear nets and deep ReLU on a ray.
DEEP = config["deep"]
DEEP_CATEGORY = "Deep networks at finite width"


wildcard_constraints:
    point=r"[a-z0-9_]+",


def deep_targets():
    return [
        "results/tables/deep_finite_width.csv",
        "results/tables/deep_exact_elements.csv",
        "results/tables/deep_agreement.csv",
        "results/tables/deep_second_order.csv",
        "results/figures/deep_finite_width.png",
        "results/figures/deep_breakdown.png",
        "results/figures/deep_relu_product.png",
        "results/figures/deep_six_point.png",
        "results/figures/deep_exact_agreement.png",
    ]


rule deep_all:
    # `snakemake deep_all` runs this stage alone.
    input:
        deep_targets(),


rule deep_point:
    output:
        classes="results/deep/{point}.csv",
        elements="results/deep/elements/{point}.csv",
    params:
        settings=settings_of("deep_point"),
        code=code_of("deep_point"),
    priority: PRIORITY_LONG
    log:
        "logs/deep/{point}.log",
    benchmark:
        "benchmarks/deep/{point}.tsv"
    script:
        "../scripts/deep_point.py"


rule deep_tables:
    input:
        classes=expand("results/deep/{point}.csv", point=DEEP["points"]),
        elements=expand("results/deep/elements/{point}.csv", point=DEEP["points"]),
    output:
        table=report("results/tables/deep_finite_width.csv", caption="../report/deep_finite_width_table.rst",
                     category=DEEP_CATEGORY),
        elements=report("results/tables/deep_exact_elements.csv", caption="../report/deep_exact_elements_table.rst",
                        category=DEEP_CATEGORY),
        agreement=report("results/tables/deep_agreement.csv", caption="../report/deep_agreement_table.rst",
                         category=DEEP_CATEGORY),
        second_order=report("results/tables/deep_second_order.csv", caption="../report/deep_second_order_table.rst",
                            category=DEEP_CATEGORY),
    params:
        settings=settings_of("deep_tables"),
        code=code_of("deep_tables"),
    log:
        "logs/deep_tables.log",
    script:
        "../scripts/deep_tables.py"


rule deep_figures:
    input:
        table="results/tables/deep_finite_width.csv",
        agreement="results/tables/deep_agreement.csv",
        elements="results/tables/deep_exact_elements.csv",
    output:
        finite_width=report("results/figures/deep_finite_width.png", caption="../report/deep_finite_width_figure.rst",
                            category=DEEP_CATEGORY),
        breakdown=report("results/figures/deep_breakdown.png", caption="../report/deep_breakdown_figure.rst",
                         category=DEEP_CATEGORY),
        relu_product=report("results/figures/deep_relu_product.png", caption="../report/deep_relu_product_figure.rst",
                            category=DEEP_CATEGORY),
        six_point=report("results/figures/deep_six_point.png", caption="../report/deep_six_point_figure.rst",
                         category=DEEP_CATEGORY),
        exact_agreement=report("results/figures/deep_exact_agreement.png",
                               caption="../report/deep_exact_agreement_figure.rst", category=DEEP_CATEGORY),
    params:
        code=code_of("deep_figures"),
    log:
        "logs/deep_figures.log",
    script:
        "../scripts/deep_figures.py"
