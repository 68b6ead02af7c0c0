"""profiles/slurm against the workflow, and the job count of .ci/slurm/count_jobs.py (the cluster run
itself is `make test-slurm`)."""

import importlib.util
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PROFILE = yaml.safe_load((ROOT / "profiles/slurm/config.yaml").read_text())


def workflow_rules() -> set[str]:
    return {m for f in (ROOT / "workflow/rules").glob("*.smk") for m in re.findall(r"^rule (\w+):", f.read_text(), re.M)}


def load_ci_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / f".ci/slurm/{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_run_comparison_ignores_wall_clock_cells_only(tmp_path):
    """check.py: two runs' tables may differ in their wall-clock cells (a seconds column, an ESS/s in a
    text), and in nothing else, down to the last bit of a float."""
    compare = load_ci_script("check").compare_results
    local, cluster = tmp_path / "local", tmp_path / "cluster"
    (local / "tables").mkdir(parents=True)
    (cluster / "tables").mkdir(parents=True)
    row = "case,value,theory_seconds,summary\nerf,0.1,{t},\"median ESS/s {r}\"\n"
    (local / "tables" / "t.csv").write_text(row.format(t=1.5, r=2.67))
    (cluster / "tables" / "t.csv").write_text(row.format(t=2.25, r=3.62))
    assert compare(local, cluster)[0] == []
    (cluster / "tables" / "t.csv").write_text(row.format(t=2.25, r=3.62).replace("0.1,", "0.10000000000000002,"))
    problems = compare(local, cluster)[0]
    assert len(problems) == 1 and "tables/t.csv" in problems[0] and "value" in problems[0]


def test_profile_names_only_rules_of_the_workflow():
    # A renamed rule would silently lose its resources or its group.
    rules = workflow_rules()
    assert {"ensemble_shard", "eft_ensemble", "correlators", "replication_summary"} <= rules
    assert set(PROFILE["set-resources"]) - rules == set()
    assert set(PROFILE["groups"]) - rules == set()


def test_profile_sets_no_key_of_the_default_profile():
    # profiles/default is loaded as the workflow profile and would override such a key.
    default = yaml.safe_load((ROOT / "profiles/default/config.yaml").read_text())
    assert set(default) & set(PROFILE) == set()


def test_every_group_merges_its_parts():
    # Without group-components, each connected part of a group would still be its own cluster job.
    assert set(PROFILE["groups"].values()) == set(PROFILE["group-components"])
    assert min(PROFILE["group-components"].values()) > 1


def test_gpus_only_for_the_ensemble_engine_and_one_per_group_job():
    gpu_rules = {rule for rule, res in PROFILE["set-resources"].items() if "gpu" in res}
    assert gpu_rules == {"ensemble_shard", "eft_ensemble", "broken_independence", "deep_point"}
    # A grouped GPU rule runs one job at a time in its group job, so that the group asks one GPU.
    assert PROFILE["resources"] == {"serial": 1} and PROFILE["set-resource-scopes"] == {"serial": "local"}
    for rule in gpu_rules & set(PROFILE["groups"]):
        assert PROFILE["set-resources"][rule]["serial"] == 1


DRY_RUN = """\
[Sun Nov 29 10:48:01 2026]
rule ensemble_shard:
    output: results/ensembles/erf_d1/shard0.nc
    jobid: 3
[Sun Nov 29 10:48:01 2026]
rule ensemble_shard:
    output: results/ensembles/erf_d2/shard0.nc
    jobid: 4
[Sun Nov 29 10:48:02 2026] Group job merge (jobs in lexicogr. order):

    [Sun Nov 29 10:48:02 2026]
    rule correlators:
        output: results/correlators/erf_d1.nc
    [Sun Nov 29 10:48:02 2026]
    rule exact_correlators:
        output: results/exact/erf_d1.nc
[Sun Nov 29 10:48:02 2026]
localrule tidy:
    output: results/tidy.txt
[Sun Nov 29 10:48:02 2026]
rule all:
    input: results/correlators/erf_d1.nc
    jobid: 0
"""


def test_count_jobs_counts_groups_once_and_skips_head_node_jobs():
    c = load_ci_script("count_jobs").count(DRY_RUN)
    # 2 shards + 1 group job (2 jobs inside); the localrule and rule all (no outputs) stay on the head.
    assert c == dict(groups=1, grouped=2, single=2)
