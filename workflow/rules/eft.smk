# P1's Wilsonian EFT (docs/physics.md sec. 4-6): coupling fits on train inputs verified on
# test inputs and independent networks, running couplings over the cutoff, six-point prediction.
# Ensembles (fit, test and replicate) are separate cached jobs of one rule; the Feynman-rule integrals
# at the fit cutoff are a theory product of the config alone (one job per activation), joined with the
# ensembles by the fit, replicate and six-point rules; the running couplings integrate over their own
# cutoff sweep on the deviation datasets.

EFT = config["eft"]
EFT_CATEGORY = "P1 - EFT couplings"


wildcard_constraints:
    split=r"train|test|replicate\d+",


def eft_targets():
    return [
        "results/tables/eft_fits.csv",
        "results/figures/eft_fits.png",
        "results/tables/rg_slopes.csv",
        "results/figures/rg_running.png",
        "results/tables/six_pt.csv",
        "results/tables/six_pt_summary.csv",
        "results/figures/six_pt.png",
        "results/tables/eft_replicates_summary.csv",
        "results/figures/eft_replicates.png",
    ]


def eft_datasets(split):
    return expand("results/correlators/eft_{activation}_{split}.nc", activation=EFT["activations"], split=split)


def eft_replicate_datasets():
    """EFT["replicates"] further train ensembles per activation, activation-major."""
    return expand(
        "results/correlators/eft_{activation}_replicate{r}.nc",
        activation=EFT["activations"],
        r=range(EFT["replicates"]),
    )


def eft_vertices(split):
    return expand("results/feynman/eft_{activation}_{split}.nc", activation=EFT["activations"], split=split)


def rg_datasets():
    return expand(
        "results/correlators/{activation}_d{d_in}.nc", activation=EFT["rg"]["activations"], d_in=DEVIATION["d_in"]
    )


rule eft_ensemble:
    output:
        "results/correlators/eft_{activation}_{split}.nc",
    params:
        settings=settings_of("eft_ensemble"),
        code=code_of("eft_ensemble"),
    log:
        "logs/eft/ensemble_{activation}_{split}.log",
    benchmark:
        "benchmarks/eft/ensemble_{activation}_{split}.tsv"
    script:
        "../scripts/eft_ensemble.py"


rule eft_vertices:
    output:
        train="results/feynman/eft_{activation}_train.nc",
        test="results/feynman/eft_{activation}_test.nc",
    params:
        settings=settings_of("eft_vertices"),
        code=code_of("eft_vertices"),
    log:
        "logs/eft/vertices_{activation}.log",
    script:
        "../scripts/eft_vertices.py"


rule eft_fits:
    input:
        train=eft_datasets("train"),
        test=eft_datasets("test"),
        vertices_train=eft_vertices("train"),
        vertices_test=eft_vertices("test"),
    output:
        fits=report("results/tables/eft_fits.csv", caption="../report/eft_fits_table.rst", category=EFT_CATEGORY),
        predictions="results/tables/eft_predictions.csv",
    params:
        code=code_of("eft_fits"),
    log:
        "logs/eft/fits.log",
    script:
        "../scripts/eft_fits.py"


rule eft_replicates:
    input:
        replicates=eft_replicate_datasets(),
        vertices=eft_vertices("train"),
    output:
        table="results/tables/eft_replicates.csv",
        summary=report(
            "results/tables/eft_replicates_summary.csv", caption="../report/eft_replicates.rst", category=EFT_CATEGORY
        ),
    params:
        code=code_of("eft_replicates"),
    log:
        "logs/eft/replicates.log",
    script:
        "../scripts/eft_replicates.py"


rule six_point:
    input:
        fits="results/tables/eft_fits.csv",
        test=eft_datasets("test"),
        vertices_test=eft_vertices("test"),
    output:
        table=report("results/tables/six_pt.csv", caption="../report/six_pt_table.rst", category=EFT_CATEGORY),
        summary=report(
            "results/tables/six_pt_summary.csv", caption="../report/six_pt_summary.rst", category=EFT_CATEGORY
        ),
    params:
        code=code_of("six_point"),
    log:
        "logs/eft/six_point.log",
    script:
        "../scripts/six_point.py"


rule rg_running:
    input:
        rg_datasets(),
    output:
        couplings="results/tables/rg_couplings.csv",
        slopes=report("results/tables/rg_slopes.csv", caption="../report/rg_slopes_table.rst", category=EFT_CATEGORY),
        local_slopes="results/tables/rg_local_slopes.csv",
    params:
        settings=settings_of("rg_running"),
        code=code_of("rg_running"),
    log:
        "logs/eft/rg_running.log",
    script:
        "../scripts/rg_running.py"


rule eft_figures:
    input:
        fits="results/tables/eft_fits.csv",
        predictions="results/tables/eft_predictions.csv",
        rg_couplings="results/tables/rg_couplings.csv",
        rg_slopes="results/tables/rg_slopes.csv",
        six_pt="results/tables/six_pt.csv",
        replicates="results/tables/eft_replicates.csv",
        replicates_summary="results/tables/eft_replicates_summary.csv",
        rg_local_slopes="results/tables/rg_local_slopes.csv",
    output:
        fits=report("results/figures/eft_fits.png", caption="../report/eft_fits_figure.rst", category=EFT_CATEGORY),
        rg=report("results/figures/rg_running.png", caption="../report/rg_figure.rst", category=EFT_CATEGORY),
        six_pt=report("results/figures/six_pt.png", caption="../report/six_pt_figure.rst", category=EFT_CATEGORY),
        replicates=report(
            "results/figures/eft_replicates.png", caption="../report/eft_replicates.rst", category=EFT_CATEGORY
        ),
    params:
        code=code_of("eft_figures"),
    log:
        "logs/eft/figures.log",
    script:
        "../scripts/eft_figures.py"
