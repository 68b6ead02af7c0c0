"""A workflow job's JAX CPU pool has the job's threads (runlog.limit_jax_cpu_threads), so its
float64 matrix products give the same bits on any number of cores."""

import os
import subprocess
import sys

import numpy as np
import pytest

GEMM = """
import sys
import numpy as np
import jax, jax.numpy as jnp
from nnqft import runlog
if sys.argv[2] == "limit":
    runlog.limit_jax_cpu_threads(1)
x = np.random.default_rng(0).standard_normal((20000, 56))
np.save(sys.argv[1], np.asarray(jax.jit(lambda a: jnp.einsum("bl,br->lr", a, a))(x)))
"""


def _gram(tmp_path, name: str, mode: str, prefix=()) -> np.ndarray:
    out = tmp_path / f"{name}.npy"
    subprocess.run([*prefix, sys.executable, "-c", GEMM, str(out), mode], check=True, env=os.environ.copy())
    return np.load(out)


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="one CPU: every pool has one thread")
def test_a_limited_pool_computes_like_a_process_on_one_core(tmp_path):
    one_core = _gram(tmp_path, "one_core", "plain", prefix=("taskset", "-c", str(min(os.sched_getaffinity(0)))))
    limited = _gram(tmp_path, "limited", "limit")
    # Without the limit the pool has a thread per core and splits these sums differently (on the
    # project's 2-core machines the result then differs from one_core's by ~1e-11).
    assert np.array_equal(limited, one_core)


def test_the_limit_gives_every_thread_the_whole_affinity_mask_back():
    code = ("import os, jax\nfrom nnqft import runlog\nfrom jax._src import xla_bridge\n"
            "runlog.limit_jax_cpu_threads(1)\n"
            "assert xla_bridge.backends_are_initialized()\n"
            "full = os.sched_getaffinity(0)\n"
            "assert all(os.sched_getaffinity(int(t)) == full for t in os.listdir('/proc/self/task'))\n"
            "print(len(full))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert int(run.stdout) == len(os.sched_getaffinity(0))


def test_jobs_without_jax_do_not_import_it(tmp_path):
    code = (f"import sys\nfrom nnqft import runlog\nrunlog.to_file({str(tmp_path / 'job.log')!r})\n"
            "assert 'jax' not in sys.modules")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert run.returncode == 0, run.stderr
