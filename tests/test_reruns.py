"""Config and library edits after a finished ci run schedule exactly the jobs that depend on them
(Snakemake's params trigger sees nnqft.params' settings and code digests)."""

import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
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


def dry_run(work: Path, name: str, edit=None, env=None) -> dict[str, int]:
    cfg = yaml.safe_load((work / "config" / "ci.yaml").read_text())
    if edit:
        edit(cfg)
    path = work / "config" / f"edited-{name}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    run = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--cores", "all", "--configfile", str(path)],
                         cwd=work, capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    return job_counts(run.stdout)


EDITS = {
    "unchanged": None,
    "seed": lambda c: c.update(seed=2),
    "erf_scale": lambda c: c["architectures"]["erf"].update(sw=1.1),
    "rg_key": lambda c: c["eft"]["rg"].update(asymptotic_min_cutoff=100),
    "cutoffs": lambda c: c["eft"].update(cutoffs={"erf": 50.0, "gauss": float("inf"), "relu": 100.0}),
    "background_chunks": lambda c: c["deviation"].update(background_chunks=5),
}


def _library_copy(root: Path, restyle_plots: bool) -> dict:
    """The environment of a run on a copy of the nnqft sources (plots.py edited or not)."""
    import nnqft

    package = Path(nnqft.__file__).parent
    shutil.copytree(package, root / "src" / "nnqft", ignore=shutil.ignore_patterns("__pycache__"))
    # nnqft.config finds the schema beside the package, two levels up.
    shutil.copytree(package.parents[1] / "workflow" / "schemas", root / "workflow" / "schemas")
    if restyle_plots:
        plots = root / "src" / "nnqft" / "plots.py"
        plots.write_text(plots.read_text() + "\n# a restyle\n")
    return dict(os.environ, PYTHONPATH=str(root / "src"))


@pytest.fixture(scope="module")
def jobs(ci_run_dir, tmp_path_factory) -> dict[str, dict[str, int]]:
    """{edit: {rule: jobs}} of a dry run after each edit, two at a time: after the ci run finishes these
    dry runs are all that is left of the suite, and each is one single-threaded Snakemake start."""
    runs = {name: (edit, None) for name, edit in EDITS.items()}
    runs["library_copy"] = (None, _library_copy(tmp_path_factory.mktemp("same"), restyle_plots=False))
    runs["library_restyle"] = (None, _library_copy(tmp_path_factory.mktemp("restyled"), restyle_plots=True))
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(dry_run, ci_run_dir, name, edit, env) for name, (edit, env) in runs.items()}
        return {name: future.result() for name, future in futures.items()}


def test_an_unchanged_config_reruns_nothing(jobs):
    assert jobs["unchanged"] == {}


def test_a_seed_edit_reruns_every_random_job_and_no_exact_one(jobs):
    seed = jobs["seed"]
    assert RANDOM_RULES <= set(seed)
    assert seed["ensemble_shard"] == 6 and seed["eft_ensemble"] == 3 * (2 + 2)
    assert "exact_correlators" not in seed  # exact values do not depend on the seed


def test_an_activation_scale_reruns_that_activation_only(jobs):
    erf = jobs["erf_scale"]
    assert erf["exact_correlators"] == 2 and erf["ensemble_shard"] == 2 and erf["correlators"] == 2
    assert erf["eft_ensemble"] == 2 + 2  # erf's train, test and replicates, not gauss's or relu's
    assert erf["eft_vertices"] == 1
    assert "broken_independence" in erf  # ci's independence stage uses erf


def test_a_table_key_reruns_that_table_and_what_reads_it(jobs):
    assert set(jobs["rg_key"]) == {"rg_running", "eft_figures", "replication_summary", "all"}
    # A fit cutoff is theory: it reruns that activation's Feynman integrals and their consumers, no ensemble.
    assert jobs["cutoffs"] == {"eft_vertices": 1, "eft_fits": 1, "eft_replicates": 1, "six_point": 1, "eft_figures": 1,
                               "replication_summary": 1, "all": 1}
    assert jobs["background_chunks"]["correlators"] == 6 and not RANDOM_RULES & set(jobs["background_chunks"])


def test_a_library_edit_reruns_the_jobs_that_import_it(jobs):
    assert jobs["library_copy"] == {}  # the same sources elsewhere: same digests
    assert set(jobs["library_restyle"]) == FIGURE_RULES | {"all"}
