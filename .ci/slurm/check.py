"""The checks of `make test-slurm`: the cluster run's outputs equal the local run's, and Slurm ran and
accounted every job the dry run said it would submit.

    python .ci/slurm/check.py LOCAL_RESULTS CLUSTER_RESULTS --since 2026-11-29T10:00:00 --expected 38

* Every table (`**/*.csv`) is byte-identical, or, where it reports wall-clock time (a column of
  seconds, an ESS/s in a text), equal in every cell but those (`nnqft.golden.compare_table` with
  rtol = 0: floats exactly equal).
* Every NetCDF dataset (`**/*.nc`: correlators, exact values, shards) holds the same variables with
  the same dtype, shape and bytes, and the same attributes, except `created` and `git_revision` (when and at which commit it was written).
* `sacct` lists the jobs submitted since `--since`: as many as expected, each COMPLETED.
Exits 1 naming every difference.
"""

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from nnqft import golden

# Dataset attributes that legitimately differ between two runs of the same code and config: the
# time of writing, and the commit (the kept local reference may predate a commit that changed no
# code it ran: Snakemake reruns whatever a code or config change made stale).
VOLATILE_ATTRS = {"created", "git_revision"}
SACCT_FIELDS = "JobIDRaw,Comment%60,State,AllocCPUS,AllocTRES%45,Elapsed"


def same_value(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def same_attrs(a: dict, b: dict, skip=frozenset()) -> list[str]:
    keys = (set(a) | set(b)) - skip
    return sorted(k for k in keys if k not in a or k not in b or not same_value(a[k], b[k]))


def dataset_differences(local: Path, cluster: Path) -> list[str]:
    """What differs between two NetCDF files, raw as stored (no CF decoding), except VOLATILE_ATTRS."""
    out = []
    with xr.open_dataset(local, engine="h5netcdf", decode_cf=False) as a, \
         xr.open_dataset(cluster, engine="h5netcdf", decode_cf=False) as b:
        names = set(a.variables) | set(b.variables)
        for name in sorted(names):
            if name not in a.variables or name not in b.variables:
                out.append(f"variable {name} only in one run")
                continue
            va, vb = a.variables[name], b.variables[name]
            if va.dims != vb.dims or not same_value(va.values, vb.values):
                out.append(f"variable {name}: values differ")
            if bad := same_attrs(va.attrs, vb.attrs):
                out.append(f"variable {name}: attributes {bad} differ")
        if bad := same_attrs(a.attrs, b.attrs, skip=VOLATILE_ATTRS):
            out.append(f"attributes {bad} differ")
    return out


def compare_results(local: Path, cluster: Path) -> tuple[list[str], int, int]:
    """(differences, tables compared, datasets compared) between two results/ directories."""
    problems, counts = [], {}
    for pattern in ("**/*.csv", "**/*.nc"):
        a = {p.relative_to(local) for p in local.glob(pattern)}
        b = {p.relative_to(cluster) for p in cluster.glob(pattern)}
        problems += [f"{p}: only in the local run" for p in sorted(a - b)]
        problems += [f"{p}: only in the cluster run" for p in sorted(b - a)]
        for rel in sorted(a & b):
            if rel.suffix == ".csv":
                if (local / rel).read_bytes() != (cluster / rel).read_bytes():
                    # the one legitimate difference: the wall-clock columns and rates of two runs
                    timed = golden.compare_table(str(rel), pd.read_csv(cluster / rel), pd.read_csv(local / rel), rtol=0.0)
                    problems += [f"{rel}: bytes differ beyond its wall-clock cells ({d.what})" for d in timed]
            else:
                problems += [f"{rel}: {d}" for d in dataset_differences(local / rel, cluster / rel)]
        counts[pattern] = len(a & b)
    return problems, counts["**/*.csv"], counts["**/*.nc"]


def slurm_jobs(since: str) -> list[dict]:
    """Every job Slurm accounted since `since` (sacct, allocations only)."""
    out = subprocess.run(["sacct", "-X", "--parsable2", "--noheader", "--starttime", since, "--endtime", "now",
                          f"--format={SACCT_FIELDS}"], capture_output=True, text=True, check=True).stdout
    names = [f.split("%")[0] for f in SACCT_FIELDS.split(",")]
    return [dict(zip(names, line.split("|"))) for line in out.splitlines() if line]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("local", type=Path)
    parser.add_argument("cluster", type=Path)
    parser.add_argument("--since", required=True, help="sacct --starttime of the cluster run")
    parser.add_argument("--expected", type=int, required=True, help="cluster jobs the dry run said it would submit")
    args = parser.parse_args(argv)

    jobs = slurm_jobs(args.since)
    print(f"sacct: {len(jobs)} jobs submitted through sbatch and accounted by Slurm since {args.since}:")
    print(" | ".join(f.split("%")[0] for f in SACCT_FIELDS.split(",")))
    for job in jobs:
        print(" | ".join(job.values()))
    problems = []
    if len(jobs) != args.expected:
        problems.append(f"sacct lists {len(jobs)} jobs, the dry run expected {args.expected}")
    problems += [f"Slurm job {j['JobIDRaw']} ({j['Comment']}) is {j['State']}" for j in jobs if j["State"] != "COMPLETED"]

    differences, n_tables, n_datasets = compare_results(args.local, args.cluster)
    problems += differences
    print(f"compared {n_tables} tables byte for byte (except wall-clock cells) and {n_datasets} datasets variable by variable "
          f"(bytes, dtype, shape, attributes except {sorted(VOLATILE_ATTRS)}) against the local run")
    if not n_tables or not n_datasets:
        problems.append("no tables or no datasets to compare")
    for p in problems:
        print("FAIL:", p)
    print("test-slurm:", "FAILED" if problems else "passed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
