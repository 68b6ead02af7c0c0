"""Count the cluster jobs a run submits, from the text of its dry run (`snakemake -n --profile profiles/slurm`).

A submission is a group job (one per "Group job" line, whatever it holds) or an ungrouped job with
outputs; a job without outputs (rule all) is done by the head node, and so is a localrule. Prints
`submitted <n>: <g> group jobs (<k> jobs in them) + <u> single jobs`.
"""

import re
import sys

RULE = re.compile(r"^(\s*)(local)?rule (\w+):$")


def count(dry_run: str) -> dict:
    """{"groups", "grouped", "single"}: group jobs, jobs inside them, submitted jobs outside them."""
    groups, jobs = 0, []   # jobs: [indented, local, has outputs] per printed job
    for line in dry_run.splitlines():
        if "] Group job " in line:
            groups += 1
        elif m := RULE.match(line):
            jobs.append([bool(m.group(1)), bool(m.group(2)), False])
        elif jobs and line.lstrip().startswith("output: "):
            jobs[-1][2] = True
    submitted = [indented for indented, local, outputs in jobs if outputs and not local]
    return dict(groups=groups, grouped=sum(submitted), single=len(submitted) - sum(submitted))


def main() -> None:
    c = count(sys.stdin.read())
    print(f"submitted {c['groups'] + c['single']}: {c['groups']} group jobs ({c['grouped']} jobs in them)"
          f" + {c['single']} single jobs")


if __name__ == "__main__":
    main()
