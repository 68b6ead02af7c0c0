#!/usr/bin/env bash
# make test-slurm: the ci config run through profiles/slurm on a one-node Slurm cluster on this
# machine equals a local run of it, table for table and dataset for dataset.
#
#   1. .ci/slurm/setup.sh: Slurm with accounting on localhost (installs it on first use; needs root).
#   2. The local reference: `snakemake --cores all --configfile config/ci.yaml` in .cache/slurm-test/local.
#      Kept between runs: Snakemake reruns there only what a code or config change made stale.
#   3. The cluster run, from scratch in .cache/slurm-test/cluster, with the README's command
#      `snakemake --profile profiles/slurm --configfile config/ci.yaml`; its dry run first says how
#      many cluster jobs it will submit.
#   4. .ci/slurm/check.py: sacct shows that many jobs, all COMPLETED; outputs equal the local run's.
#
# PYTHON (default .venv/bin/python) is the interpreter with nnqft, Snakemake and the Slurm plugin.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
WORK=$ROOT/.cache/slurm-test
CI=(--configfile config/ci.yaml)

stamp() { date +%s; }
say() { echo "[test-slurm $(date +%T)] $*"; }
# A copy of the workflow (as `make golden` makes one): runs do not touch the working tree's results/.
workflow_copy() {
    mkdir -p "$1"
    rm -rf "$1/Snakefile" "$1/workflow" "$1/config" "$1/profiles"
    cp -rp Snakefile workflow config profiles "$1/"   # -p: a script's mtime decides whether its jobs rerun
}

t0=$(stamp)
.ci/slurm/setup.sh
t1=$(stamp)

say "local reference run (.cache/slurm-test/local)"
workflow_copy "$WORK/local"
(cd "$WORK/local" && "$PYTHON" -m snakemake --cores all "${CI[@]}" --quiet rules)
t2=$(stamp)

say "cluster run (.cache/slurm-test/cluster): snakemake --profile profiles/slurm ${CI[*]}"
rm -rf "$WORK/cluster"
workflow_copy "$WORK/cluster"
cd "$WORK/cluster"
expected=$("$PYTHON" -m snakemake --profile profiles/slurm "${CI[@]}" -n 2>&1 | "$PYTHON" "$ROOT/.ci/slurm/count_jobs.py")
say "the dry run: $expected"
since=$(date +%Y-%m-%dT%H:%M:%S)
"$PYTHON" -m snakemake --profile profiles/slurm "${CI[@]}"
t3=$(stamp)
cd "$ROOT"

say "Slurm's accounting and the comparison with the local run"
"$PYTHON" .ci/slurm/check.py "$WORK/local/results" "$WORK/cluster/results" --since "$since" \
    --expected "$(echo "$expected" | sed -E 's/^submitted ([0-9]+):.*/\1/')"
cache=$(find "$WORK/cluster/.cache/jax" -mindepth 1 -maxdepth 1 -type d -name "$(uname -m)-*" -printf '%f ')
[ -n "$cache" ] || { echo "FAIL: the cluster jobs wrote no JAX cache under .cache/jax/<cpu type>/" >&2; exit 1; }
say "cluster jobs cached compiled code in .cache/jax/$cache"
say "wall time: setup $((t1 - t0)) s, local run $((t2 - t1)) s, cluster run $((t3 - t2)) s, total $(($(stamp) - t0)) s"
