"""Throughput of the ensemble engine against a naive loop and against the machine's Gaussian RNG.

Run ``python -m nnqft.bench [--widths 2 20 1000] [--networks 100000] [--repeats 5] [--csv PATH]``.

What is measured (Erf-net, d_in = d_out = 1, sw = sb = 1, P1's six inputs, moment orders 2, 4, 6):

* ``compare`` (one subprocess per width): the engine (``ensemble.block_means``: float32 normals,
  float64 plain and Rao-Blackwell moment sums as matrix products, exactly as in production), the
  previous engine (``reference_per_network``: per-network gathers of every product and Wick sum,
  kept here as the baseline) and the forward pass alone (normals, hidden layer, outputs), on the
  same ``--networks`` in ``--blocks`` blocks. Each is compiled first; then ``--repeats`` rounds
  time each once, interleaved, and the medians are reported (the machine may be shared). The
  engine's parts against their bounds: the forward pass's normals/s over the RNG rate below, and
  the statistics (engine minus forward pass) in flop/s (``statistics_flops``: the kernel product
  and the Gram products) over the float64 matrix-product rate (``gemm``).
* ``naive``: the design of the authors' ``create_networks`` + ``n_point`` (docs/physics.md sec. 9,
  defect 5) with numpy/scipy in place of torch: one network per Python-loop iteration (its
  parameters drawn with numpy in float32, a forward pass with ``scipy.special.erf``), outputs
  appended with ``np.concatenate`` (the quadratic ``torch.cat`` growth is kept, but at the capped
  ensemble size ``--naive-networks`` its share is small: it is timed and reported), and at the end
  the full 6^n product tensors per network (46,656 entries for n = 6) averaged over 10 chunks, as
  their ``free_theory.py`` does. It computes plain moments only, no Rao-Blackwell sums, and skips
  torch's per-network module construction, so it does less work than either the engine or
  their code: the speed-up it gives is conservative.
* ``gemm``: float64 flop/s of a jitted ``--gemm-size`` square matrix product (the statistics' bound).
* ``rng-jax`` / ``rng-numpy``: standard normals/s of one large flat float32 draw,
  ``jax.random.normal`` with the engine's PRNG (philox4x32, jitted, compile excluded) and
  ``numpy.random.default_rng().standard_normal``. The engine's normals/s (networks/s x
  ``networks.n_normals``) as a fraction of the jax rate says how close it is to the RNG bound.

The float32 empirical kernel (``python -m nnqft.bench --kernel-check [NETWORKS]``, separate): one
Erf-net ensemble at width 1000 on P1's six inputs (default 10^6 networks in 100 blocks) with the
kernel products in float64 and in float32; prints, per order, the largest change of a moment
over its standard error.

Feynman-rule integrals (``python -m nnqft.bench --integrals``, a separate benchmark; the engine
cases above do not run): the integral workload of the default config with ``feynman.vertex_integrals``
(all five integrals, orders 4 and 6, propagator K - sb^2), timed in this process:
(a) RG, per activation erf/relu/gauss and d_in = 1, 2, 3 on P1's inputs, the 21 cutoffs 7 ... 1e5
of docs/physics.md sec. 5; (b) fits, d_in = 1, P1's six test inputs and the train inputs
(sqrt(2)/2 x test), at the fit cutoff (Gauss inf, Erf and ReLU 100).

Memory: every case runs in a fresh subprocess. "peak MiB" is that process's peak RSS
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``) at the end of the case; "delta MiB" is the peak's
growth over its value after imports (so it includes the warm-up and compilation).
"cpu/wall" is the process CPU time over the wall time of the timed part: up to the core count
when all cores work for the case; lower values on a loaded machine mean it lost CPU to others
(the header and footer print the load average).
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

from nnqft import blocks, correlators, ensemble, estimators, feynman, inputs, moment_sums, networks
from nnqft.blocks import Sampling

SPEC = networks.NetworkSpec("erf", d_in=1)
ORDERS = (2, 4, 6)
PRNG = "philox4x32"


def _x() -> np.ndarray:
    return inputs.paper_inputs("erf", 1)


def _load() -> str:
    """1/5/15-min load average: other processes on the machine slow every rate down."""
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# --------------------------------------------------------------------------- the engine


@functools.lru_cache(maxsize=16)
def reference_per_network(spec: networks.NetworkSpec, x_rows: tuple, width: int, orders: tuple, dtype: str):
    """The engine before the matrix-product statistics, kept here only as the bench's baseline:
    per network, gathers of every product f_a1 ... f_an on the index multisets and the Wick sums
    (``correlators.gaussian_moments``) of the empirical kernel; summed over networks by
    ``blocks.block_means``. Same random streams and batches as the engine."""
    x = np.array(x_rows, dtype=np.float64)
    tuples = {n: correlators.multisets(len(x), n) for n in orders}
    means = spec.output_means
    with_mean = bool(np.any(means))

    def per_network(key, batch):
        w0, b0, w1, b1 = networks.sample_params(spec, width, batch, key=key, dtype=jnp.dtype(dtype))
        h = networks.hidden(spec, w0, b0, x)
        f = networks.outputs(w1, b1, h).astype(jnp.float64)
        kh = spec.sb**2 + spec.sw**2 / width * jnp.einsum("bnp,bnq->bpq", h, h, preferred_element_type=jnp.float64)
        hsum = h.astype(jnp.float64).sum(axis=1)
        cond_mean = means[None, :, None] * hsum[:, None, :] if with_mean else None
        out = {}
        for n, t in tuples.items():
            plain = f[..., t].prod(axis=-1)
            rb = spec.scale_moment(n) * correlators.gaussian_moments(kh[:, None], t, cond_mean)
            out[n] = (plain, jnp.broadcast_to(rb, plain.shape))
        return out

    return per_network


def reference_block_means(spec: networks.NetworkSpec, x, width: int, sampling: Sampling, keys, orders=ORDERS):
    """``ensemble.block_means`` computed by ``reference_per_network``."""
    x = np.asarray(x, dtype=np.float64)
    batch = sampling.batch_size(ensemble.footprint(spec, width, len(x), orders))
    per_network = reference_per_network(spec, tuple(map(tuple, x.tolist())), width, tuple(orders), sampling.dtype)
    return blocks.block_means(per_network, keys, sampling.block_size, batch)


def statistics_flops(spec: networks.NetworkSpec, width: int, n_points: int, orders=ORDERS) -> int:
    """Floating-point operations per network of the engine's statistics: the kernel product
    h^T h (2 N P^2) and the Gram products of the monomials (plain ones per output row)."""
    plain, wick = ensemble.statistics_plans(n_points, tuple(orders), bool(np.any(spec.output_means)))
    return 2 * width * n_points**2 + spec.d_out * moment_sums.gram_flops(plain) + moment_sums.gram_flops(wick)


def compare_case(width: int, n: int, n_blocks: int, batch_elements: int, repeats: int) -> dict:
    """The engine, its per-network baseline and the forward pass alone on the same ensemble, interleaved.

    Each is compiled first (on one block); then ``repeats`` rounds time each once over all
    blocks. Returns medians of wall and CPU seconds, and the largest difference of the two engines'
    block means relative to the largest value of each statistic.
    """
    x = _x()
    plan = Sampling(seed=0, n_networks=n, n_blocks=n_blocks, batch_elements=batch_elements)
    keys = plan.block_keys("bench", width)
    batch = plan.batch_size(ensemble.footprint(SPEC, width, len(x), ORDERS))
    outputs = jax.jit(lambda key, b: ensemble.forward(SPEC, width, x, key, b, jnp.dtype(plan.dtype))[0].sum(),
                      static_argnums=1)
    runs = {"reference": lambda ks: reference_block_means(SPEC, x, width, plan, ks),
            "engine": lambda ks: ensemble.block_means(SPEC, x, width, plan, ks),
            "forward": lambda ks: blocks.block_means_of_sums(lambda k, _, b: outputs(k, b), ks, plan.block_size, batch)}
    t0 = time.perf_counter()
    for run in runs.values():
        run(keys[:1])
    warmup = time.perf_counter() - t0
    wall, cpu, last = {k: [] for k in runs}, {k: [] for k in runs}, {}
    for _ in range(repeats):
        for name, run in runs.items():
            t, c = time.perf_counter(), time.process_time()
            last[name] = run(keys)
            wall[name].append(time.perf_counter() - t)
            cpu[name].append(time.process_time() - c)
    diff = max(float(np.abs(last["engine"][k][i] - last["reference"][k][i]).max() / np.abs(last["reference"][k][i]).max())
               for k in ORDERS for i in (0, 1))
    out = {"warmup_s": warmup, "batch": batch, "repeats": repeats, "max_rel_diff": diff,
           "normals_per_network": networks.n_normals(SPEC, width),
           "statistics_flops": statistics_flops(SPEC, width, len(x)),
           "exact_kernel": width <= ensemble.EXACT_KERNEL_MAX_WIDTH}
    for name in runs:
        out[f"{name}_s"] = float(np.median(wall[name]))
        out[f"{name}_cpu_s"] = float(np.median(cpu[name]))
    return out


# --------------------------------------------------------------------------- the float32 kernel


def kernel_check(width: int, n: int, n_blocks: int, d_in: int = 1, activation: str = "erf") -> dict:
    """The same ensemble with the empirical kernel summed in float64 and by a float32 product.

    Returns, per order, the largest |difference| of a Rao-Blackwell moment over its standard
    error (from the float64 run's blocks), and of a plain moment (which the kernel does not enter).
    """
    sw, sb = networks.activation(activation).scales
    spec = networks.NetworkSpec(activation, d_in, sw=sw, sb=sb)
    x = inputs.paper_inputs(activation, d_in)
    plan = Sampling(seed=0, n_networks=n, n_blocks=n_blocks)
    keys = plan.block_keys("bench/kernel-check", width)
    t0 = time.perf_counter()
    exact = ensemble.block_means(spec, x, width, plan, keys, exact_kernel=True)
    t1 = time.perf_counter()
    fast = ensemble.block_means(spec, x, width, plan, keys, exact_kernel=False)
    t2 = time.perf_counter()
    out = {"width": width, "networks": n, "blocks": n_blocks, "inputs": len(x), "exact_s": t1 - t0, "float32_s": t2 - t1}
    for order in ORDERS:
        for i, name in enumerate(("plain", "rb")):
            mean, se = estimators.mean_and_stderr(exact[order][i], axis=0)
            diff = np.abs(fast[order][i].mean(axis=0) - mean)
            out[f"{name}{order}_max_diff_over_se"] = float((diff / se).max())
            out[f"{name}{order}_max_rel_diff"] = float((diff / np.abs(mean)).max())
    return out


# --------------------------------------------------------------------------- the naive loop


def naive_n_point(fss: np.ndarray, n: int) -> np.ndarray:
    """The full P^n tensor of products f(x_a1)...f(x_an) per network, (m, P, ..., P), like P1's n_point."""
    m, p = fss.shape
    out = fss.reshape((m, p) + (1,) * (n - 1))
    for k in range(1, n):
        out = out * fss.reshape((m,) + (1,) * k + (p,) + (1,) * (n - 1 - k))
    return out


def naive_ensemble(width: int, n: int, x: np.ndarray, rng) -> tuple[np.ndarray, float]:
    """One network per iteration, outputs appended by concatenation; returns (fss (n, P), concat s)."""
    from scipy.special import erf

    x = x.astype(np.float32)
    d_in, sw, sb = SPEC.d_in, np.float32(SPEC.sw), np.float32(SPEC.sb)
    fss, t_cat = None, 0.0
    for _ in range(n):
        w0 = sw / np.float32(math.sqrt(d_in)) * rng.standard_normal((width, d_in), dtype=np.float32)
        b0 = sb * rng.standard_normal(width, dtype=np.float32)
        w1 = sw / np.float32(math.sqrt(width)) * rng.standard_normal((1, width), dtype=np.float32)
        b1 = sb * rng.standard_normal(1, dtype=np.float32)
        fs = (erf(x @ w0.T + b0) @ w1.T + b1).reshape(1, -1)
        t = time.perf_counter()
        fss = fs if fss is None else np.concatenate((fss, fs))
        t_cat += time.perf_counter() - t
    return fss, t_cat


def naive_moments(fss: np.ndarray, chunks: int = 10) -> dict:
    """Per chunk and order, the mean over networks of the full product tensor (P1's free_theory.py)."""
    parts = np.array_split(fss, chunks)
    return {n: [naive_n_point(c, n).mean(axis=0) for c in parts] for n in ORDERS}


def naive_case(width: int, n: int) -> dict:
    x, rng = _x(), np.random.default_rng(0)
    naive_moments(naive_ensemble(width, 20, x, rng)[0], chunks=2)  # warm-up (imports, caches)
    t0, c0 = time.perf_counter(), time.process_time()
    fss, t_cat = naive_ensemble(width, n, x, rng)
    t1 = time.perf_counter()
    naive_moments(fss)
    t2 = time.perf_counter()
    return {"seconds": t2 - t0, "cpu_s": time.process_time() - c0, "loop_s": t1 - t0, "concat_s": t_cat,
            "moments_s": t2 - t1}


# --------------------------------------------------------------------------- the RNG bound


def rng_jax_case(n: int, repeats: int = 5) -> dict:
    draw = jax.jit(lambda k: jax.random.normal(k, (n,), jnp.float32))
    root = jax.random.key(0, impl=PRNG)
    draw(jax.random.fold_in(root, repeats)).block_until_ready()  # compile
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(repeats):
        draw(jax.random.fold_in(root, i)).block_until_ready()
    return {"seconds": time.perf_counter() - t0, "cpu_s": time.process_time() - c0, "normals": n * repeats}


def gemm_case(n: int, repeats: int = 5) -> dict:
    """float64 matrix-product rate: n x n by n x n, jitted (compile excluded); 2 n^3 flops each."""
    a = jax.random.normal(jax.random.key(0), (n, n), jnp.float64)
    prod = jax.jit(lambda a, b: a @ b)
    prod(a, a).block_until_ready()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(repeats):
        prod(a, a).block_until_ready()
    return {"seconds": time.perf_counter() - t0, "cpu_s": time.process_time() - c0, "flops": 2 * n**3 * repeats}


def rng_numpy_case(n: int, repeats: int = 5) -> dict:
    rng = np.random.default_rng(0)
    rng.standard_normal(1000, dtype=np.float32)
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(repeats):
        rng.standard_normal(n, dtype=np.float32)
    return {"seconds": time.perf_counter() - t0, "cpu_s": time.process_time() - c0, "normals": n * repeats}


# --------------------------------------------------------------------------- Feynman-rule integrals
# (``--integrals``: a separate benchmark of nnqft.feynman; nothing above uses it)

RG_CUTOFFS = (7, 10, 15, 20, 30, 40, 50, 70, 100, 200, 500, 1e3, 2e3, 5e3, 7e3, 1e4, 2e4, 4e4, 6e4,
              8e4, 1e5)
FIT_CUTOFF = {"gauss": np.inf, "erf": 100.0, "relu": 100.0}
ACTIVATIONS = ("erf", "relu", "gauss")


def _integral_spec(act: str, d_in: int) -> networks.NetworkSpec:
    sw, sb = networks.activation(act).scales  # the registry's defaults (P1: ReLU sb = 0)
    return networks.NetworkSpec(act, d_in, sw=sw, sb=sb)


def _timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def integral_cases(d_ins=(1, 2, 3), activations=ACTIVATIONS) -> list[dict]:
    """Time every vertex_integrals call of the default config's integral workload."""
    rows = []
    for act in activations:
        for d in d_ins:
            spec = _integral_spec(act, d)
            sec, ds = _timed(lambda: feynman.vertex_integrals(spec, inputs.paper_inputs(act, d), RG_CUTOFFS))
            rows.append({"part": "rg", "activation": act, "d_in": d, "inputs": ds.sizes["point"],
                         "cutoffs": ds.sizes["cutoff"], "nodes": ds.attrs["quadrature_nodes"], "seconds": sec})
    for act in activations:
        spec = _integral_spec(act, 1)
        for name in inputs.SPLITS:
            x = inputs.fit_inputs(act, name)
            sec, ds = _timed(lambda: feynman.vertex_integrals(spec, x, [FIT_CUTOFF[act]]))
            rows.append({"part": f"fit-{name}", "activation": act, "d_in": 1, "inputs": ds.sizes["point"],
                         "cutoffs": 1, "nodes": ds.attrs["quadrature_nodes"], "seconds": sec})
    return rows


def print_integrals(rows: list[dict]) -> None:
    print(f"{'part':<9}  {'act':<5}  {'d_in':>4}  {'inputs':>6}  {'cutoffs':>7}  {'nodes':>9}  {'seconds':>7}")
    for r in rows:
        print(f"{r['part']:<9}  {r['activation']:<5}  {r['d_in']:>4}  {r['inputs']:>6}  {r['cutoffs']:>7}  "
              f"{r['nodes']:>9}  {r['seconds']:>7.3f}")
    rg = sum(r["seconds"] for r in rows if r["part"] == "rg")
    fit = sum(r["seconds"] for r in rows if r["part"] != "rg")
    print(f"\n(a) RG, {len(RG_CUTOFFS)} cutoffs x d_in {sorted({r['d_in'] for r in rows if r['part'] == 'rg'})}"
          f" x {len({r['activation'] for r in rows})} activations: {rg:.2f} s | (b) fits (train + test, "
          f"orders 4 and 6): {fit:.2f} s | total {rg + fit:.2f} s")


def run_integrals(d_ins=(1, 2, 3)) -> list[dict]:
    print(header())
    print("nnqft.feynman.vertex_integrals: I4, I4_y2, J, K4, I6, propagator K - sb^2, BLAS limited to one "
          "thread inside (see feynman._one_blas_thread); wall-clock per call, in this process.")
    feynman.vertex_integrals(_integral_spec("erf", 1), inputs.paper_inputs("erf", 1), [1.0])  # imports, caches
    t0, c0 = time.perf_counter(), time.process_time()
    rows = integral_cases(d_ins)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print_integrals(rows)
    print(f"cpu/wall {cpu / wall:.2f} | peak RSS {_peak_mib():.0f} MiB | load avg at end {_load()}")
    return rows


# --------------------------------------------------------------------------- driver


def measure(kind: str, width: int, n: int, *, n_blocks: int = 10, batch_elements: int = 2**24,
            repeats: int = 5) -> dict:
    """Run one case in this process; add the peak RSS and its growth over the post-import value."""
    base = _peak_mib()
    if kind == "compare":
        r = compare_case(width, n, n_blocks, batch_elements, repeats)
    elif kind == "gemm":
        r = gemm_case(n)
    elif kind == "naive":
        r = naive_case(width, n)
    elif kind == "rng-jax":
        r = rng_jax_case(n)
    elif kind == "rng-numpy":
        r = rng_numpy_case(n)
    else:
        raise ValueError(f"unknown case {kind!r}")
    r.update(case=kind, width=width, networks=n, peak_mib=_peak_mib(), delta_mib=_peak_mib() - base)
    return r


def measure_in_subprocess(kind: str, width: int, n: int, args) -> dict:
    cmd = [sys.executable, "-m", "nnqft.bench", "--case", kind, "--width", str(width), "--n", str(n),
           "--blocks", str(args.blocks), "--batch-elements", str(args.batch_elements), "--repeats", str(args.repeats)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def header() -> str:
    devices = ", ".join(str(d) for d in jax.devices())
    import jaxlib

    return (f"nnqft.bench | jax {jax.__version__} (jaxlib {jaxlib.__version__})"
            f" | numpy {np.__version__} | backend {jax.default_backend()}: {devices}"
            f" | CPUs {os.cpu_count()} (usable {len(os.sched_getaffinity(0))}) | {platform.python_implementation()}"
            f" {platform.python_version()} on {platform.machine()} | load avg {_load()}")


def rows_for(results: list[dict], rng_rate: float, n_inputs: int) -> list[dict]:
    """One row per engine (the engine and its per-network baseline, from a "compare" case) and naive loop."""
    rows = []
    for r in results:
        cases = [("engine", "engine_s", "engine_cpu_s"), ("old", "reference_s", "reference_cpu_s")] \
            if r["case"] == "compare" else [(r["case"], "seconds", "cpu_s")]
        for case, sec, cpu in cases:
            rate = r["networks"] / r[sec]
            row = {"case": case, "width": r["width"], "networks": r["networks"], "seconds": r[sec],
                   "networks_per_s": rate, "neuron_evals_per_s": rate * r["width"] * n_inputs,
                   "normals_per_s": "", "rng_fraction": "", "peak_mib": r["peak_mib"], "delta_mib": r["delta_mib"],
                   "warmup_s": r.get("warmup_s", ""), "notes": ""}
            if r["case"] == "compare":
                row["normals_per_s"] = rate * r["normals_per_network"]
                row["rng_fraction"] = row["normals_per_s"] / rng_rate
                row["notes"] = (f"batch {r['batch']}, median of {r['repeats']}, cpu/wall {r[cpu] / r[sec]:.2f}")
            else:
                row["notes"] = (f"loop {r['loop_s']:.2f}s (concat {r['concat_s']:.3f}s), "
                                f"6^n moments {r['moments_s']:.2f}s, cpu/wall {r[cpu] / r[sec]:.2f}")
            rows.append(row)
    return rows


def bound_rows(results: list[dict], rng: dict, gemm: dict) -> list[dict]:
    """Per width: old and new networks/s, and each part of the engine against its bound.

    forward (normals, hidden layer, outputs): its normals/s over the RNG rate; statistics (the engine
    minus the forward pass alone): its flop rate over the float64 matrix-product rate. Speed-ups
    and fractions are given in wall time and in process CPU time (the fairer one on a machine
    shared with other processes: time lost to them is not counted).
    """
    rows = []
    for r in results:
        if r["case"] != "compare":
            continue
        n, row = r["networks"], {"width": r["width"]}
        for clock, suffix in (("wall", "_s"), ("cpu", "_cpu_s")):
            rng_rate = rng["normals"] / rng["seconds" if clock == "wall" else "cpu_s"]
            gemm_rate = gemm["flops"] / gemm["seconds" if clock == "wall" else "cpu_s"]
            engine, forward, ref = (r[k + suffix] for k in ("engine", "forward", "reference"))
            stats = max(engine - forward, 1e-12)
            row.update({f"{clock}_old_networks_per_s": n / ref, f"{clock}_new_networks_per_s": n / engine,
                        f"{clock}_speedup": ref / engine, f"{clock}_forward_us": 1e6 * forward / n,
                        f"{clock}_forward_rng_fraction": n * r["normals_per_network"] / forward / rng_rate,
                        f"{clock}_statistics_us": 1e6 * stats / n,
                        f"{clock}_statistics_gemm_fraction": n * r["statistics_flops"] / stats / gemm_rate})
        row.update(statistics_flops=r["statistics_flops"], kernel="float64" if r["exact_kernel"] else "float32",
                   max_rel_diff=r["max_rel_diff"])
        rows.append(row)
    return rows


def print_bounds(rows: list[dict]) -> None:
    print(f"{'width':>5}  {'clock':>5}  {'old net/s':>9}  {'new net/s':>9}  {'speed-up':>8}  {'fwd us':>7}  "
          f"{'fwd/RNG':>7}  {'stats us':>8}  {'flops':>6}  {'stats/GEMM':>10}  {'Kh':>7}  {'max rel diff':>12}")
    for r in rows:
        for c in ("wall", "cpu"):
            print(f"{r['width']:>5}  {c:>5}  {r[c + '_old_networks_per_s']:>9.3g}  {r[c + '_new_networks_per_s']:>9.3g}  "
                  f"{r[c + '_speedup']:>7.2f}x  {r[c + '_forward_us']:>7.2f}  {r[c + '_forward_rng_fraction']:>7.1%}  "
                  f"{r[c + '_statistics_us']:>8.2f}  {r['statistics_flops']:>6d}  "
                  f"{r[c + '_statistics_gemm_fraction']:>10.1%}  {r['kernel']:>7}  {r['max_rel_diff']:>12.2g}")


def _fmt(v, spec: str) -> str:
    return "" if v == "" else format(v, spec)


def print_table(rows: list[dict]) -> None:
    cols = [("case", "<6", "s"), ("width", ">5", "d"), ("networks", ">8", "d"), ("seconds", ">7", ".2f"),
            ("networks/s", ">10", ".3g"), ("neuron-evals/s", ">14", ".3g"), ("normals/s", ">9", ".3g"),
            ("of RNG", ">6", ".1%"), ("peak MiB", ">8", ".0f"), ("delta MiB", ">9", ".0f"),
            ("warm-up s", ">9", ".2f"), ("notes", "<", "s")]
    keys = ["case", "width", "networks", "seconds", "networks_per_s", "neuron_evals_per_s", "normals_per_s",
            "rng_fraction", "peak_mib", "delta_mib", "warmup_s", "notes"]
    print("  ".join(format(name, align) for name, align, _ in cols))
    for row in rows:
        print("  ".join(format(_fmt(row[k], f), align) for k, (_, align, f) in zip(keys, cols)))


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--widths", type=int, nargs="+", default=[2, 20, 1000])
    p.add_argument("--networks", type=int, default=10**5, help="engine networks per width")
    p.add_argument("--naive-networks", type=int, default=2 * 10**3, help="naive-loop networks per width (cap)")
    p.add_argument("--blocks", type=int, default=10, help="engine blocks per width (P1 used 10 chunks)")
    p.add_argument("--batch-elements", type=int, default=2**24, help="engine memory budget per batch")
    p.add_argument("--rng-normals", type=int, default=2**24, help="normals per RNG draw (5 draws)")
    p.add_argument("--gemm-size", type=int, default=1024, help="n of the n x n float64 matrix product (5 products)")
    p.add_argument("--repeats", type=int, default=5, help="interleaved timed rounds of old engine, engine, forward pass")
    p.add_argument("--kernel-check", type=int, nargs="?", const=10**6, metavar="NETWORKS",
                   help="instead: the float32 empirical kernel against the float64 one, Erf-net width 1000 "
                        "(the widest of --widths), P1's six inputs, NETWORKS (default 10^6) in 100 blocks")
    p.add_argument("--csv", metavar="PATH", help="also write the table as CSV")
    p.add_argument("--integrals", action="store_true",
                   help="instead: time the Feynman-rule integral workload of the default config (nnqft.feynman)")
    p.add_argument("--integrals-d-in", type=int, nargs="+", default=[1, 2, 3], metavar="D",
                   help="input dimensions of the RG part of --integrals")
    p.add_argument("--case", help=argparse.SUPPRESS)
    p.add_argument("--width", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--n", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.case:  # child process: one case, one JSON line
        print(json.dumps(measure(args.case, args.width, args.n, n_blocks=args.blocks,
                                 batch_elements=args.batch_elements, repeats=args.repeats)))
        return
    if args.kernel_check:
        print(header())
        print(json.dumps(kernel_check(max(args.widths), args.kernel_check, 100), indent=1))
        return
    if args.integrals:
        rows = run_integrals(tuple(args.integrals_d_in))
        if args.csv:
            _write_csv(rows, args.csv)
        return
    if args.networks % args.blocks:
        p.error(f"--networks must be a multiple of --blocks ({args.blocks})")

    print(header())
    print(f"Erf-net d_in=1, P1's {len(_x())} inputs, orders {ORDERS} (+ Rao-Blackwell in the engine); "
          f"each case in a fresh subprocess; rates exclude JIT compile / warm-up.")
    rng = {k: measure_in_subprocess(k, 0, args.rng_normals, args) for k in ("rng-jax", "rng-numpy")}
    rng_rate = rng["rng-jax"]["normals"] / rng["rng-jax"]["seconds"]
    jr, nr = rng["rng-jax"], rng["rng-numpy"]
    print(f"RNG bound: jax.random.normal ({PRNG}, float32, flat {args.rng_normals:,}) {rng_rate:.3g} normals/s"
          f" (cpu/wall {jr['cpu_s'] / jr['seconds']:.2f}) | numpy default_rng().standard_normal (float32) "
          f"{nr['normals'] / nr['seconds']:.3g} normals/s (cpu/wall {nr['cpu_s'] / nr['seconds']:.2f})\n")

    gemm = measure_in_subprocess("gemm", 0, args.gemm_size, args)
    gemm_rate = gemm["flops"] / gemm["seconds"]
    print(f"GEMM bound: float64 {args.gemm_size} x {args.gemm_size} matrix product (jitted) {gemm_rate:.3g} flop/s"
          f" (cpu/wall {gemm['cpu_s'] / gemm['seconds']:.2f})\n")

    results = []
    for w in args.widths:
        results.append(measure_in_subprocess("compare", w, args.networks, args))
        results.append(measure_in_subprocess("naive", w, args.naive_networks, args))
    rows = rows_for(results, rng_rate, len(_x()))
    print_table(rows)

    print(f"\nold engine (per-network gathers) against the engine, interleaved in one process per width, "
          f"medians of {args.repeats} rounds; fwd = normals + hidden layer + outputs alone, stats = engine - fwd:")
    bounds = bound_rows(results, rng["rng-jax"], gemm)
    print_bounds(bounds)

    print("\nspeed-up engine/naive (networks/s; engine also does Rao-Blackwell, naive does not):")
    for w in args.widths:
        e, nv = (next(r for r in rows if r["case"] == c and r["width"] == w) for c in ("engine", "naive"))
        print(f"  width {w:>5}: {e['networks_per_s']:.3g} / {nv['networks_per_s']:.3g} = "
              f"{e['networks_per_s'] / nv['networks_per_s']:.1f}x")
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"\npeak RSS: this driver {_peak_mib():.0f} MiB, largest case subprocess {children:.0f} MiB"
          f" | load avg at end {_load()}")

    if args.csv:
        _write_csv(rows, args.csv)
        _write_csv(bounds, args.csv.removesuffix(".csv") + "_bounds.csv")


def _write_csv(rows: list[dict], path) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
