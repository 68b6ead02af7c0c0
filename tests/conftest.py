"""Shared fixtures: one run of the whole workflow under the ci config, used by every end-to-end test
module (running it once per module would double CI time).

The run starts in the background as soon as collection shows that a selected test needs it, and the
tests that read it run last: the unit tests use one core while the workflow's jobs run meanwhile.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

# The tests share the cores with the ci workflow running in the background. OpenBLAS's default of one
# thread per core then spins waiting for a busy core: a neuron Monte Carlo's matrix products took 16x
# longer under load with 2 threads than with 1. One thread for the test process, as Snakemake gives
# each of the workflow's jobs; set before any test module imports numpy.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import jax  # noqa: E402  (after the environment above)

from nnqft import runlog  # noqa: E402

# JAX's CPU pool likewise: one thread, as each workflow job has (see nnqft.runlog).
runlog.limit_jax_cpu_threads(1)

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake", "--cores", "all", "--configfile", "config/ci.yaml"]
_CI_RUN: dict = {}


def _needs_ci_run(item) -> bool:
    return "ci_run_dir" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(config, items):
    """Tests of the finished ci run go last (stable order otherwise), so the background run has time."""
    items.sort(key=_needs_ci_run)


def pytest_collection_finish(session):
    if not any(_needs_ci_run(item) for item in session.items):
        return
    work = Path(tempfile.mkdtemp(prefix="nnqft-ci-run-"))
    for item in ("Snakefile", "workflow", "config", "profiles"):
        src = ROOT / item
        (shutil.copytree if src.is_dir() else shutil.copy)(src, work / item)
    log = open(work / "ci_run.log", "w")
    _CI_RUN.update(work=work, log=log, process=subprocess.Popen(SNAKEMAKE, cwd=work, stdout=log, stderr=subprocess.STDOUT))


def pytest_sessionfinish(session):
    if "process" in _CI_RUN:
        _CI_RUN["process"].kill()
        _CI_RUN["log"].close()
        shutil.rmtree(_CI_RUN["work"], ignore_errors=True)


@pytest.fixture(scope="session")
def ci_run_dir():
    """A scratch copy of the workflow after `snakemake --cores all` and `--report` on config/ci.yaml."""
    work, process = _CI_RUN["work"], _CI_RUN["process"]
    if process.wait() != 0:
        pytest.fail(f"the ci workflow run failed:\n{(work / 'ci_run.log').read_text()[-5000:]}")
    subprocess.run(SNAKEMAKE + ["--report", "report.html"], cwd=work, check=True, capture_output=True, text=True)
    return work
