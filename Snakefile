# nnqft: regenerate, check and extend the numerical results of the NN-QFT correspondence.
# Run with `snakemake --cores all` (default config), or add `--configfile config/ci.yaml`.
import os

from snakemake.utils import min_version

min_version("8.0")

# JAX's persistent compilation cache, shared by every job of this working directory: jobs that trace
# the same function (same width, inputs and batch) load its compiled code instead of compiling it
# again (seconds per width on a CPU). The compiled code is the same, so results are too.
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", os.path.abspath(".cache/jax"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.5")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/ensembles.smk"
include: "workflow/rules/theory.smk"
include: "workflow/rules/deviation.smk"
include: "workflow/rules/fieldtheory.smk"
include: "workflow/rules/symmetry.smk"
include: "workflow/rules/eft.smk"
include: "workflow/rules/deep.smk"
include: "workflow/rules/ntk.smk"
include: "workflow/rules/replication.smk"


rule all:
    input:
        deviation_targets(),
        exact_targets(),
        fieldtheory_targets(),
        symmetry_targets(),
        eft_targets(),
        deep_targets(),
        ntk_targets(),
        "results/tables/replication_summary.csv",
