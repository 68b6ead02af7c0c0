# nnqft: regenerate, check and extend the numerical results of the NN-QFT correspondence.
# Run with `snakemake --cores all` (default config), or add `--configfile config/ci.yaml`.
import hashlib
import os
import platform
from pathlib import Path

from snakemake.utils import min_version

min_version("8.0")

# JAX's persistent compilation cache, shared by every job of this working directory: jobs that trace
# the same function (same width, inputs and batch) load its compiled code instead of compiling it
# again (seconds per width on a CPU). The compiled code is the same, so results are too.
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", os.path.abspath(".cache/jax"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.5")
# glibc's malloc gives every buffer above 32 MiB its own fresh mmap, so each ensemble batch page-faults
# its memory in again, 4 KiB at a time (3 million faults in one default-config sweep job: a sixth of
# its CPU time, as system time). With this tunable malloc asks for transparent huge pages (2 MiB):
# measured 0.89x the wall time of that job and 0.86x of a paper-config one, the same bytes out.
# Other C libraries, and glibc before 2.35, ignore it; a value the user set is kept.
os.environ.setdefault("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1")
# Several jobs may share one GPU: JAX's default preallocation of 75% of its memory per process would
# make the second job fail, so each job allocates what it uses.
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")

# A Slurm job inherits the submitting shell's environment (sbatch --export=ALL), so this cache too.
# Compiled CPU code is specific to the instruction set it was compiled for: on a cluster node the
# cache is a subdirectory per CPU type, shared by the nodes of that type (the working directory is on
# a shared file system) and never loaded by others. A cache directory the user set is kept as is.
if "SLURM_JOB_ID" in os.environ and os.environ["JAX_COMPILATION_CACHE_DIR"] == os.path.abspath(".cache/jax"):
    _cpu = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else platform.processor()
    _flags = sorted({line for line in _cpu.splitlines() if line.startswith(("flags", "Features", "model name"))})
    _tag = platform.machine() + "-" + hashlib.sha256("\n".join(_flags).encode()).hexdigest()[:12]
    os.environ["JAX_COMPILATION_CACHE_DIR"] = os.path.abspath(f".cache/jax/{_tag}")


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
include: "workflow/rules/aho.smk"
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
        aho_targets(),
        ntk_targets(),
        "results/tables/replication_summary.csv",
