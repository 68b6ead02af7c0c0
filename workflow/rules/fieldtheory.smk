# P3: field theories built from networks (docs/physics.md sec. 7). Cos-net free scalar,
# phi^4 by deforming the parameter density, cluster decomposition, quartic vertices from
# connected correlators, Osterwalder-Schrader checks. Expensive ensemble rules write tables;
# cheap figure rules read them, so restyling a figure never reruns an ensemble.
# The section's cross-key rules are checked with the rest of the config in common.smk.

FIELDTHEORY_CATEGORY = "P3 - field theories from networks"


def fieldtheory_tables():
    return [
        "results/tables/cosnet_propagator.csv",
        "results/tables/cosnet_connected4.csv",
        "results/tables/cosnet_variance.csv",
        "results/tables/cosnet_variance_ratio.csv",
        "results/tables/phi4_first_order.csv",
        "results/tables/phi4_ess.csv",
        "results/tables/cluster_decomposition.csv",
        "results/tables/action_vertex.csv",
        "results/tables/action_summary.csv",
        "results/tables/action_conditioning.csv",
        "results/tables/os_checks.csv",
    ]


def fieldtheory_figures():
    return expand(
        "results/figures/{name}.png",
        name=["cosnet_propagator", "phi4_first_order", "cluster_decomposition", "action_vertex", "os_checks"],
    )


def fieldtheory_targets():
    return fieldtheory_tables() + fieldtheory_figures()


rule fieldtheory_all:
    # `snakemake fieldtheory_all` runs this stage alone.
    input:
        fieldtheory_targets(),


rule fieldtheory_propagator:
    output:
        propagator=report(
            "results/tables/cosnet_propagator.csv",
            caption="../report/fieldtheory_propagator_table.rst",
            category=FIELDTHEORY_CATEGORY,
        ),
        connected4=report(
            "results/tables/cosnet_connected4.csv",
            caption="../report/fieldtheory_connected4_table.rst",
            category=FIELDTHEORY_CATEGORY,
        ),
        variance=report(
            "results/tables/cosnet_variance.csv",
            caption="../report/fieldtheory_variance_table.rst",
            category=FIELDTHEORY_CATEGORY,
        ),
        ratio=report(
            "results/tables/cosnet_variance_ratio.csv",
            caption="../report/fieldtheory_variance_table.rst",
            category=FIELDTHEORY_CATEGORY,
        ),
    params:
        settings=settings_of("fieldtheory_propagator"),
        code=code_of("fieldtheory_propagator"),
    priority: PRIORITY_LONG
    log:
        "logs/fieldtheory/propagator.log",
    benchmark:
        "benchmarks/fieldtheory/propagator.tsv"
    script:
        "../scripts/fieldtheory_propagator.py"


rule fieldtheory_phi4:
    output:
        table=report(
            "results/tables/phi4_first_order.csv",
            caption="../report/fieldtheory_phi4_table.rst",
            category=FIELDTHEORY_CATEGORY,
        ),
        ess=report(
            "results/tables/phi4_ess.csv",
            caption="../report/fieldtheory_phi4_table.rst",
            category=FIELDTHEORY_CATEGORY,
        ),
    params:
        settings=settings_of("fieldtheory_phi4"),
        code=code_of("fieldtheory_phi4"),
    priority: PRIORITY_LONG
    log:
        "logs/fieldtheory/phi4.log",
    benchmark:
        "benchmarks/fieldtheory/phi4.tsv"
    script:
        "../scripts/fieldtheory_phi4.py"


rule fieldtheory_cluster:
    output:
        plateaus=report(
            "results/tables/cluster_decomposition.csv",
            caption="../report/fieldtheory_cluster_table.rst",
            category=FIELDTHEORY_CATEGORY,
        ),
        curves="results/fieldtheory/cluster_curves.csv",
    params:
        settings=settings_of("fieldtheory_cluster"),
        code=code_of("fieldtheory_cluster"),
    priority: PRIORITY_LONGEST
    log:
        "logs/fieldtheory/cluster.log",
    benchmark:
        "benchmarks/fieldtheory/cluster.tsv"
    script:
        "../scripts/fieldtheory_cluster.py"


rule fieldtheory_action:
    output:
        vertex=report(
            "results/tables/action_vertex.csv",
            caption="../report/fieldtheory_action_table.rst",
            category=FIELDTHEORY_CATEGORY,
        ),
        summary=report(
            "results/tables/action_summary.csv",
            caption="../report/fieldtheory_action_table.rst",
            category=FIELDTHEORY_CATEGORY,
        ),
        conditioning=report(
            "results/tables/action_conditioning.csv",
            caption="../report/fieldtheory_action_table.rst",
            category=FIELDTHEORY_CATEGORY,
        ),
    params:
        settings=settings_of("fieldtheory_action"),
        code=code_of("fieldtheory_action"),
    log:
        "logs/fieldtheory/action.log",
    benchmark:
        "benchmarks/fieldtheory/action.tsv"
    script:
        "../scripts/fieldtheory_action.py"


rule fieldtheory_os:
    output:
        report(
            "results/tables/os_checks.csv",
            caption="../report/fieldtheory_os_table.rst",
            category=FIELDTHEORY_CATEGORY,
        ),
    params:
        settings=settings_of("fieldtheory_os"),
        code=code_of("fieldtheory_os"),
    log:
        "logs/fieldtheory/os.log",
    benchmark:
        "benchmarks/fieldtheory/os.tsv"
    script:
        "../scripts/fieldtheory_os.py"


rule fieldtheory_figures:
    input:
        propagator="results/tables/cosnet_propagator.csv",
        connected4="results/tables/cosnet_connected4.csv",
        variance="results/tables/cosnet_variance.csv",
        phi4="results/tables/phi4_first_order.csv",
        phi4_ess="results/tables/phi4_ess.csv",
        plateaus="results/tables/cluster_decomposition.csv",
        curves="results/fieldtheory/cluster_curves.csv",
        vertex="results/tables/action_vertex.csv",
        vertex_summary="results/tables/action_summary.csv",
        conditioning="results/tables/action_conditioning.csv",
        os="results/tables/os_checks.csv",
    output:
        propagator=report(
            "results/figures/cosnet_propagator.png",
            caption="../report/fieldtheory_propagator_figure.rst",
            category=FIELDTHEORY_CATEGORY,
        ),
        phi4=report(
            "results/figures/phi4_first_order.png",
            caption="../report/fieldtheory_phi4_figure.rst",
            category=FIELDTHEORY_CATEGORY,
        ),
        cluster=report(
            "results/figures/cluster_decomposition.png",
            caption="../report/fieldtheory_cluster_figure.rst",
            category=FIELDTHEORY_CATEGORY,
        ),
        action=report(
            "results/figures/action_vertex.png",
            caption="../report/fieldtheory_action_figure.rst",
            category=FIELDTHEORY_CATEGORY,
        ),
        os=report(
            "results/figures/os_checks.png",
            caption="../report/fieldtheory_os_figure.rst",
            category=FIELDTHEORY_CATEGORY,
        ),
    params:
        settings=settings_of("fieldtheory_figures"),
        code=code_of("fieldtheory_figures"),
    log:
        "logs/fieldtheory/figures.log",
    script:
        "../scripts/fieldtheory_figures.py"
