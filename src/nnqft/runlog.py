"""Start-up of workflow jobs: progress to the rule's log file and to stderr, and a CPU thread
budget for JAX."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path


def to_file(path) -> logging.Logger:
    """Send INFO and above to ``path`` (the rule's log:) and to stderr; return the nnqft logger.

    Every workflow script calls this first, so it also holds JAX to the job's threads (Snakemake
    exports a job's ``threads`` as OMP_NUM_THREADS; see ``limit_jax_cpu_threads``).
    """
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
    handlers = [logging.FileHandler(path, mode="w"), logging.StreamHandler(sys.stderr)]
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    for h in handlers:
        h.setFormatter(fmt)
        root.addHandler(h)
    sys.excepthook = lambda *exc: root.critical("job failed", exc_info=exc)
    # JAX reports at INFO that it found no TPU library on every start: noise, not progress.
    logging.getLogger("jax._src.xla_bridge").setLevel(logging.WARNING)
    if os.environ.get("OMP_NUM_THREADS", "").isdigit():
        limit_jax_cpu_threads(int(os.environ["OMP_NUM_THREADS"]))
    return logging.getLogger("nnqft")


def limit_jax_cpu_threads(threads: int) -> None:
    """Start JAX's CPU backend with ``threads`` compute threads, if JAX is imported and not yet started.

    XLA sizes its CPU thread pool from the process's CPU affinity mask when the backend starts, and
    has no other setting. So the backend is started while this thread is pinned to ``threads`` CPUs,
    then every thread of the process gets the whole mask back (the OS still places the job anywhere).
    Why: with two jobs on two cores, each job's two-thread pool costs 15% (the ensemble engine) to
    3.5x (the symmetry suites at width 1000) more CPU than one thread, and the pool's float64 matrix
    products split their sums by thread count, so results changed in the last bit with the number of
    cores. Jobs that never import JAX (figures, tables) are left as they are.
    """
    if "jax" not in sys.modules or threads < 1 or not hasattr(os, "sched_setaffinity"):
        return
    import jax
    from jax._src import xla_bridge

    if xla_bridge.backends_are_initialized():
        logging.getLogger("nnqft").warning("JAX started before the job's thread budget was set: its CPU pool "
                                           "uses every core of the machine")
        return
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) <= threads:
        return
    start = os.getpid() % len(cpus)  # spread concurrent jobs over the cores while they are pinned
    os.sched_setaffinity(0, {cpus[(start + i) % len(cpus)] for i in range(threads)})
    try:
        jax.devices("cpu")
    finally:
        for tid in os.listdir("/proc/self/task"):
            try:
                os.sched_setaffinity(int(tid), cpus)
            except OSError:  # a thread that ended meanwhile
                pass
