# P1's deviation experiments: m_n = |G - G_GP| / G_GP against width, and its log-log slopes.
DEVIATION_CATEGORY = "P1 - finite-width deviations"


def deviation_figure_outputs():
    """One report figure per (activation, d_in), named by that pair, all drawn by one job."""
    return {
        f"{activation}_d{d_in}": report(
            path,
            caption="../report/deviation_figure.rst",
            category=DEVIATION_CATEGORY,
            subcategory=activation,
        )
        for (activation, d_in), path in deviation_figure_paths().items()
    }


rule deviation_tables:
    input:
        deviation_datasets(),
    output:
        deviation=report(
            "results/tables/deviation.csv",
            caption="../report/deviation_table.rst",
            category=DEVIATION_CATEGORY,
        ),
        slopes=report(
            "results/tables/deviation_slopes.csv",
            caption="../report/deviation_slopes.rst",
            category=DEVIATION_CATEGORY,
        ),
    params:
        code=code_of("deviation_tables"),
    log:
        "logs/deviation_tables.log",
    script:
        "../scripts/deviation_tables.py"


rule deviation_figures:
    input:
        "results/tables/deviation.csv",
    output:
        **deviation_figure_outputs(),
    params:
        code=code_of("deviation_figures"),
    log:
        "logs/deviation_figures.log",
    script:
        "../scripts/deviation_figures.py"
