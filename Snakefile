# nnqft: regenerate, check and extend the numerical results of the NN-QFT correspondence.
# Run with `snakemake --cores all` (default config), or add `--configfile config/ci.yaml`.
from snakemake.utils import min_version

min_version("8.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/ensembles.smk"
include: "workflow/rules/theory.smk"
include: "workflow/rules/deviation.smk"
include: "workflow/rules/fieldtheory.smk"
include: "workflow/rules/symmetry.smk"
include: "workflow/rules/eft.smk"
include: "workflow/rules/replication.smk"


rule all:
    input:
        deviation_targets(),
        exact_targets(),
        fieldtheory_targets(),
        symmetry_targets(),
        eft_targets(),
        "results/tables/replication_summary.csv",
