# P3: field theories built from networks (science.md sec. 7; issue 5). Cos-net free scalar,
# phi^4 by deforming the parameter density, cluster decomposition, quartic vertices from
# connected correlators, Osterwalder-Schrader checks. Expensive ensemble rules write tables;
# cheap figure rules read them, so restyling a figure never reruns an ensemble.
# The section's cross-key rules are checked with the rest of the config in common.smk.

FIELDTHEORY_CATEGORY = "P3: field theories from networks"


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


def fieldtheory_settings(part):
    """A params function giving one experiment's config (and the seed), so that editing it reruns the rule."""

    def settings(wildcards):
        ft = config["fieldtheory"]
        shared = {key: ft[key] for key in ("mass", "parametrisation", "n_blocks")}
        return dict(shared, seed=config["seed"], prng=config.get("prng"), **{part: ft[part]})

    settings.__name__ = f"fieldtheory_settings_{part}"
    return settings


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
        settings=fieldtheory_settings("propagator"),
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
        settings=fieldtheory_settings("phi4"),
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
        settings=fieldtheory_settings("cluster"),
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
        settings=fieldtheory_settings("action"),
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
        settings=fieldtheory_settings("os"),
    log:
        "logs/fieldtheory/os.log",
    benchmark:
        "benchmarks/fieldtheory/os.tsv"
    script:
        "../scripts/fieldtheory_os.py"


rule fieldtheory_figure_propagator:
    input:
        propagator="results/tables/cosnet_propagator.csv",
        connected4="results/tables/cosnet_connected4.csv",
        variance="results/tables/cosnet_variance.csv",
    output:
        report(
            "results/figures/cosnet_propagator.png",
            caption="../report/fieldtheory_propagator_figure.rst",
            category=FIELDTHEORY_CATEGORY,
        ),
    log:
        "logs/fieldtheory/figure_propagator.log",
    script:
        "../scripts/fieldtheory_figure_propagator.py"


rule fieldtheory_figure_phi4:
    input:
        table="results/tables/phi4_first_order.csv",
        ess="results/tables/phi4_ess.csv",
    output:
        report(
            "results/figures/phi4_first_order.png",
            caption="../report/fieldtheory_phi4_figure.rst",
            category=FIELDTHEORY_CATEGORY,
        ),
    log:
        "logs/fieldtheory/figure_phi4.log",
    script:
        "../scripts/fieldtheory_figure_phi4.py"


rule fieldtheory_figure_cluster:
    input:
        plateaus="results/tables/cluster_decomposition.csv",
        curves="results/fieldtheory/cluster_curves.csv",
    output:
        report(
            "results/figures/cluster_decomposition.png",
            caption="../report/fieldtheory_cluster_figure.rst",
            category=FIELDTHEORY_CATEGORY,
        ),
    log:
        "logs/fieldtheory/figure_cluster.log",
    script:
        "../scripts/fieldtheory_figure_cluster.py"


rule fieldtheory_figure_action:
    input:
        vertex="results/tables/action_vertex.csv",
        summary="results/tables/action_summary.csv",
        conditioning="results/tables/action_conditioning.csv",
    output:
        report(
            "results/figures/action_vertex.png",
            caption="../report/fieldtheory_action_figure.rst",
            category=FIELDTHEORY_CATEGORY,
        ),
    log:
        "logs/fieldtheory/figure_action.log",
    script:
        "../scripts/fieldtheory_figure_action.py"


rule fieldtheory_figure_os:
    input:
        "results/tables/os_checks.csv",
    output:
        report(
            "results/figures/os_checks.png",
            caption="../report/fieldtheory_os_figure.rst",
            category=FIELDTHEORY_CATEGORY,
        ),
    log:
        "logs/fieldtheory/figure_os.log",
    script:
        "../scripts/fieldtheory_figure_os.py"
