# phi^4 in d = 1 against the exact anharmonic oscillator (docs/physics.md sec. 12): exact
# diagonalisation, lattice HMC and HMC on the cos-net's parameters in the same box. Sampler rules
# write tables; the summary and figure rules only read them. Cross-key rules: nnqft.fieldtheory.aho_settings.

AHO_CATEGORY = "P3 - phi^4 beyond perturbation theory (d = 1)"


def aho_network_files(kind):
    return expand("results/aho/network_{parametrisation}_{kind}.csv",
                  parametrisation=config["aho"]["network"]["parametrisations"], kind=kind)


def aho_targets():
    return [
        "results/tables/aho.csv",
        "results/tables/aho_exact.csv",
        "results/tables/aho_lattice_samplers.csv",
        "results/tables/aho_network_samplers.csv",
        "results/figures/aho_propagators.png",
        "results/figures/aho_cost.png",
    ]


rule aho_all:
    # `snakemake aho_all` runs this stage alone.
    input:
        aho_targets(),


rule aho_exact:
    output:
        report("results/tables/aho_exact.csv", caption="../report/aho_exact_table.rst", category=AHO_CATEGORY),
    params:
        settings=settings_of("aho_exact"),
        code=code_of("aho_exact"),
    log:
        "logs/aho/exact.log",
    benchmark:
        "benchmarks/aho/exact.tsv"
    script:
        "../scripts/aho_exact.py"


rule aho_lattice:
    output:
        values="results/aho/lattice_values.csv",
        samplers=report("results/tables/aho_lattice_samplers.csv", caption="../report/aho_samplers_table.rst",
                        category=AHO_CATEGORY),
    params:
        settings=settings_of("aho_lattice"),
        code=code_of("aho_lattice"),
    log:
        "logs/aho/lattice.log",
    benchmark:
        "benchmarks/aho/lattice.tsv"
    script:
        "../scripts/aho_lattice.py"


rule aho_network:
    output:
        values="results/aho/network_{parametrisation}_values.csv",
        samplers="results/aho/network_{parametrisation}_samplers.csv",
    wildcard_constraints:
        parametrisation="uniform|alpha0",
    params:
        settings=settings_of("aho_network"),
        code=code_of("aho_network"),
    priority: PRIORITY_LONGEST
    log:
        "logs/aho/network_{parametrisation}.log",
    benchmark:
        "benchmarks/aho/network_{parametrisation}.tsv"
    script:
        "../scripts/aho_network.py"


rule aho_table:
    input:
        exact="results/tables/aho_exact.csv",
        lattice="results/aho/lattice_values.csv",
        network=aho_network_files("values"),
        network_samplers=aho_network_files("samplers"),
    output:
        table=report("results/tables/aho.csv", caption="../report/aho_table.rst", category=AHO_CATEGORY),
        network_samplers=report("results/tables/aho_network_samplers.csv", caption="../report/aho_samplers_table.rst",
                                category=AHO_CATEGORY),
    params:
        code=code_of("aho_table"),
    log:
        "logs/aho/table.log",
    script:
        "../scripts/aho_table.py"


rule aho_figures:
    input:
        table="results/tables/aho.csv",
        lattice_samplers="results/tables/aho_lattice_samplers.csv",
        network_samplers="results/tables/aho_network_samplers.csv",
    output:
        propagators=report("results/figures/aho_propagators.png", caption="../report/aho_propagators_figure.rst",
                           category=AHO_CATEGORY),
        cost=report("results/figures/aho_cost.png", caption="../report/aho_cost_figure.rst", category=AHO_CATEGORY),
    params:
        code=code_of("aho_figures"),
    log:
        "logs/aho/figures.log",
    script:
        "../scripts/aho_figures.py"
