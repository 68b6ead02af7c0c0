# P1's Wilsonian EFT (science.md sec. 4-6; issue 4): coupling fits on train inputs verified on
# test inputs and independent networks, running couplings over the cutoff, six-point prediction.
# Ensembles are separate (cached) rules; the Feynman-rule integrals take seconds and are computed
# where they are used; tables and figures are cheap.

EFT = config["eft"]
EFT_CATEGORY = "P1: EFT couplings"


wildcard_constraints:
    split="train|test",


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


def rg_datasets():
    return expand(
        "results/correlators/{activation}_d{d_in}.nc", activation=EFT["rg"]["activations"], d_in=DEVIATION["d_in"]
    )


def _eft_part(*keys):
    """A params function with the EFT keys (and machine settings) a rule depends on, so that editing
    one of them reruns exactly the rules that use it."""

    def settings(wildcards):
        machine = {key: config.get(key) for key in ("seed", "prng", "sampling_dtype", "batch_elements", "architectures")}
        return dict(machine, **{key: EFT[key] for key in keys})

    settings.__name__ = "eft_settings_" + "_".join(keys)
    return settings


eft_ensemble_settings = _eft_part("widths", "train_factor", "n_networks", "n_blocks")
eft_fit_settings = _eft_part("propagator", "cutoffs")
rg_settings = _eft_part("propagator", "rg")
eft_replicate_settings = _eft_part("activations", "widths", "train_factor", "n_networks", "n_blocks", "propagator",
                                   "cutoffs", "replicates")


rule eft_ensemble:
    output:
        "results/correlators/eft_{activation}_{split}.nc",
    params:
        settings=eft_ensemble_settings,
    log:
        "logs/eft/ensemble_{activation}_{split}.log",
    benchmark:
        "benchmarks/eft/ensemble_{activation}_{split}.tsv"
    script:
        "../scripts/eft_ensemble.py"


rule eft_fits:
    input:
        train=eft_datasets("train"),
        test=eft_datasets("test"),
    output:
        fits=report("results/tables/eft_fits.csv", caption="../report/eft_fits_table.rst", category=EFT_CATEGORY),
        predictions="results/tables/eft_predictions.csv",
    params:
        settings=eft_fit_settings,
    log:
        "logs/eft/fits.log",
    script:
        "../scripts/eft_fits.py"


rule eft_replicates:
    input:
        fits="results/tables/eft_fits.csv",
    output:
        table="results/tables/eft_replicates.csv",
        summary=report(
            "results/tables/eft_replicates_summary.csv", caption="../report/eft_replicates.rst", category=EFT_CATEGORY
        ),
        figure=report("results/figures/eft_replicates.png", caption="../report/eft_replicates.rst", category=EFT_CATEGORY),
    params:
        settings=eft_replicate_settings,
    log:
        "logs/eft/replicates.log",
    benchmark:
        "benchmarks/eft/replicates.tsv"
    script:
        "../scripts/eft_replicates.py"


rule six_point:
    input:
        fits="results/tables/eft_fits.csv",
        test=eft_datasets("test"),
    output:
        table=report("results/tables/six_pt.csv", caption="../report/six_pt_table.rst", category=EFT_CATEGORY),
        summary=report(
            "results/tables/six_pt_summary.csv", caption="../report/six_pt_summary.rst", category=EFT_CATEGORY
        ),
    params:
        settings=eft_fit_settings,
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
    params:
        settings=rg_settings,
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
    output:
        fits=report("results/figures/eft_fits.png", caption="../report/eft_fits_figure.rst", category=EFT_CATEGORY),
        rg=report("results/figures/rg_running.png", caption="../report/rg_figure.rst", category=EFT_CATEGORY),
        six_pt=report("results/figures/six_pt.png", caption="../report/six_pt_figure.rst", category=EFT_CATEGORY),
    log:
        "logs/eft/figures.log",
    script:
        "../scripts/eft_figures.py"
