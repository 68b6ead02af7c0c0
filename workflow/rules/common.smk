# Config validation (once, before any job) and the helpers that give rules their params.
from pathlib import Path

import nnqft.config
import nnqft.params
from nnqft.networks import ACTIVATIONS

# Raises nnqft.config.ConfigError naming the bad key; fills schema defaults.
# The --configfile files are checked on their own first: merged over config/config.yaml, a
# missing required key would silently take its default.
nnqft.config.validate_user_configfiles(workflow.overwrite_configfiles, workflow.config_settings.config)
nnqft.config.validate(config)

SCRIPTS = Path(workflow.basedir) / "workflow" / "scripts"


def settings_of(rule_name):
    """The params function of a rule: the part of the config its script reads (nnqft.params.RULE_KEYS),
    so that Snakemake reruns the rule exactly when that part changes."""

    def settings(wildcards):
        return nnqft.params.settings(config, rule_name, dict(wildcards.items()))

    settings.__name__ = f"{rule_name}_settings"
    return settings


def code_of(script):
    """Digest of the nnqft modules a script imports: an edit of the library reruns the rules that run it."""
    return nnqft.params.code_digest(str(SCRIPTS / f"{script}.py"))


# Scheduling: among ready jobs Snakemake runs the higher `priority:` first, so the jobs that take
# minutes in the default config start at once and the many short ones fill the cores around them,
# instead of one long job running alone at the end (in the default run of 2026-11-29 the 12-minute
# symmetry job started at minute 43 of 56). None of these jobs has an input.
PRIORITY_LONGEST = 2  # 5-12 minutes per job
PRIORITY_LONG = 1  # 2-3 minutes per job


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


def deviation_figure_paths():
    """{(activation, d_in): figure path}: the one place these paths are spelled."""
    return {
        (activation, d_in): f"results/figures/deviation_{activation}_d{d_in}.png"
        for activation in DEVIATION["activations"]
        for d_in in DEVIATION["d_in"]
    }


def deviation_targets():
    return list(deviation_figure_paths().values()) + [
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
