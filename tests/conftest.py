"""Shared fixtures: one run of the whole workflow under the ci config, used by every
end-to-end test module (running it once per module would double CI time)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def ci_run_dir(tmp_path_factory):
    """A scratch copy of the workflow after `snakemake --cores all` and `--report` on config/ci.yaml."""
    work = tmp_path_factory.mktemp("workflow")
    for item in ("Snakefile", "workflow", "config", "profiles"):
        src = ROOT / item
        (shutil.copytree if src.is_dir() else shutil.copy)(src, work / item)
    snakemake = [sys.executable, "-m", "snakemake", "--cores", "all", "--configfile", "config/ci.yaml"]
    subprocess.run(snakemake, cwd=work, check=True, capture_output=True, text=True)
    subprocess.run(snakemake + ["--report", "report.html"], cwd=work, check=True, capture_output=True, text=True)
    return work


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist's ``--dist loadgroup`` (``make test``), every test of the finished ci run is
    sent to one worker, so the session-scoped workflow run happens once while the other worker runs
    the unit tests."""
    for item in items:
        if "ci_run_dir" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("ci_run"))
