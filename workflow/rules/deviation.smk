# P1's deviation experiments: m_n = |G - G_GP| / G_GP against width, and its log-log slopes.


rule deviation_tables:
    input:
        deviation_datasets(),
    output:
        deviation=report(
            "results/tables/deviation.csv",
            caption="../report/deviation_table.rst",
            category="P1: finite-width deviations",
        ),
        slopes=report(
            "results/tables/deviation_slopes.csv",
            caption="../report/deviation_slopes.rst",
            category="P1: finite-width deviations",
        ),
    log:
        "logs/deviation_tables.log",
    script:
        "../scripts/deviation_tables.py"


rule deviation_figure:
    input:
        "results/tables/deviation.csv",
    output:
        report(
            "results/figures/deviation_{activation}_d{d_in}.png",
            caption="../report/deviation_figure.rst",
            category="P1: finite-width deviations",
            subcategory="{activation}",
        ),
    log:
        "logs/deviation_figure_{activation}_d{d_in}.log",
    script:
        "../scripts/deviation_figure.py"
