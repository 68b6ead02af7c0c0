# Config validation (once, before any job) and the helpers that give rules their params.
import nnqft.config
from nnqft.networks import ACTIVATIONS

# Raises nnqft.config.ConfigError naming the bad key; fills schema defaults.
# The --configfile files are checked on their own first: merged over config/config.yaml, a
# missing required key would silently take its default.
nnqft.config.validate_user_configfiles(workflow.overwrite_configfiles, workflow.config_settings.config)
nnqft.config.validate(config)

DEVIATION = config["deviation"]


wildcard_constraints:
    activation="|".join(ACTIVATIONS),
    d_in=r"[1-3]",
    shard=r"\d+",


def deviation_datasets():
    return expand(
        "results/correlators/{activation}_d{d_in}.nc",
        activation=DEVIATION["activations"],
        d_in=DEVIATION["d_in"],
    )


def deviation_figures():
    return expand(
        "results/figures/deviation_{activation}_d{d_in}.png",
        activation=DEVIATION["activations"],
        d_in=DEVIATION["d_in"],
    )


def deviation_targets():
    return deviation_figures() + [
        "results/tables/deviation.csv",
        "results/tables/deviation_slopes.csv",
    ]


def exact_targets():
    return [
        "results/tables/exact_vs_ensemble.csv",
        "results/tables/cumulant_scaling.csv",
        "results/tables/estimator_variance.csv",
        "results/figures/exact_vs_ensemble.png",
        "results/figures/cumulant_scaling.png",
        "results/tables/broken_independence.csv",
        "results/figures/broken_independence.png",
    ]


def shard_files(wildcards):
    return expand(
        "results/ensembles/{activation}_d{d_in}/shard{shard}.nc",
        activation=wildcards.activation,
        d_in=wildcards.d_in,
        shard=range(DEVIATION["shards"]),
    )


def ensemble_name(wildcards):
    """Stable name of a width sweep; it seeds the sweep's random streams via fold_in."""
    return f"deviation/{wildcards.activation}/d{wildcards.d_in}"
