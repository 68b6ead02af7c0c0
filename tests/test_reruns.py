"""Config and library edits after a finished ci run schedule exactly the jobs that depend on them
(Snakemake's params trigger sees nnqft.params' settings and code digests)."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow

RANDOM_RULES = {"ensemble_shard", "eft_ensemble", "broken_independence", "fieldtheory_propagator", "fieldtheory_phi4",
                "fieldtheory_cluster", "fieldtheory_action", "fieldtheory_os", "symmetry_invariance", "symmetry_power",
                "symmetry_training"}
FIGURE_RULES = {"deviation_figures", "exact_figures", "eft_figures", "fieldtheory_figures", "symmetry_figures",
                "deep_figures", "ntk_figures", "aho_figures"}


def job_counts(stdout: str) -> dict[str, int]:
    """{rule: jobs} from the "Job stats" table of a dry run ({} when nothing is to be done)."""
    if "Job stats" not in stdout:
        assert "Nothing to be done" in stdout, stdout[-2000:]
        return {}
    table = stdout.split("Job stats:")[1].split("total")[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", table, re.M)}


def dry_run(work: Path, edit=None, env=None) -> dict[str, int]:
    cfg = yaml.safe_load((work / "config" / "ci.yaml").read_text())
    if edit:
        edit(cfg)
    path = work / "config" / "edited.yaml"
    path.write_text(yaml.safe_dump(cfg))
    run = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--cores", "all", "--configfile", str(path)],
                         cwd=work, capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    return job_counts(run.stdout)


def test_an_unchanged_config_reruns_nothing(ci_run_dir):
    assert dry_run(ci_run_dir) == {}


def test_a_seed_edit_reruns_every_random_job_and_no_exact_one(ci_run_dir):
    jobs = dry_run(ci_run_dir, lambda c: c.update(seed=2))
    assert RANDOM_RULES <= set(jobs)
    assert jobs["ensemble_shard"] == 6 and jobs["eft_ensemble"] == 3 * (2 + 2)
    assert "exact_correlators" not in jobs  # exact values do not depend on the seed


def test_an_activation_scale_reruns_that_activation_only(ci_run_dir):
    jobs = dry_run(ci_run_dir, lambda c: c["architectures"]["erf"].update(sw=1.1))
    assert jobs["exact_correlators"] == 2 and jobs["ensemble_shard"] == 2 and jobs["correlators"] == 2
    assert jobs["eft_ensemble"] == 2 + 2  # erf's train, test and replicates, not gauss's or relu's
    assert jobs["eft_vertices"] == 1
    assert "broken_independence" in jobs  # ci's independence stage uses erf


def test_a_table_key_reruns_that_table_and_what_reads_it(ci_run_dir):
    jobs = dry_run(ci_run_dir, lambda c: c["eft"]["rg"].update(asymptotic_min_cutoff=100))
    assert set(jobs) == {"rg_running", "eft_figures", "replication_summary", "all"}
    # A fit cutoff is theory: it reruns that activation's Feynman integrals and their consumers, no ensemble.
    jobs = dry_run(ci_run_dir, lambda c: c["eft"].update(cutoffs={"erf": 50.0, "gauss": float("inf"), "relu": 100.0}))
    assert jobs == {"eft_vertices": 1, "eft_fits": 1, "eft_replicates": 1, "six_point": 1, "eft_figures": 1,
                    "replication_summary": 1, "all": 1}
    jobs = dry_run(ci_run_dir, lambda c: c["deviation"].update(background_chunks=5))
    assert jobs["correlators"] == 6 and not RANDOM_RULES & set(jobs)


def test_a_library_edit_reruns_the_jobs_that_import_it(ci_run_dir, tmp_path):
    import nnqft

    src = tmp_path / "src"
    package = Path(nnqft.__file__).parent
    shutil.copytree(package, src / "nnqft", ignore=shutil.ignore_patterns("__pycache__"))
    # nnqft.config finds the schema beside the package, two levels up.
    shutil.copytree(package.parents[1] / "workflow" / "schemas", tmp_path / "workflow" / "schemas")
    env = dict(os.environ, PYTHONPATH=str(src))
    assert dry_run(ci_run_dir, env=env) == {}  # the same sources elsewhere: same digests
    plots = src / "nnqft" / "plots.py"
    plots.write_text(plots.read_text() + "\n# a restyle\n")
    assert set(dry_run(ci_run_dir, env=env)) == FIGURE_RULES | {"all"}
