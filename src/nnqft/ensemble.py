"""Keyed, blocked, streaming generation of network ensembles into float64 moment sums.

Design
------
* The unit of randomness is the **block**: ``n_networks / n_blocks`` networks of one width.
  Its key is ``blocks.block_keys``' seed -> ensemble name -> width -> block, so a block's value
  never depends on which shard (Snakemake job, ``blocks.shard_blocks``) computes it or how many
  shards there are.
* A block is generated in vectorised **batches** whose size is set by a memory budget
  (``batch_elements``), never by the ensemble size; batch j of a block uses ``fold_in(block_key, j)``,
  so the batch size fixes the random stream (``footprint`` must not change).
  The last batch is padded and masked, so each width compiles its forward pass once; the
  statistics do not depend on the width and compile once for a whole sweep (``_statistics``).
* Each batch is first run forward (``forward``: parameters, hidden layer, outputs; sampled in
  float32 by default), then its statistics are accumulated in float64 as matrix products of
  monomials (``nnqft.moment_sums``), never network by network.
* Besides the plain moments E[f_a1 ... f_an], each block also accumulates the Rao-Blackwell
  estimator: given the hidden layer, f is Gaussian with the network's empirical kernel
  Kh = sb^2 + (sw^2/N) h h^T (and mean mu1 sum_i h_i), so E[prod f | hidden] is a Wick sum
  (times E[s^n] for a shared output scale s, which is independent of the hidden layer).
  Up to ``EXACT_KERNEL_MAX_WIDTH`` the products h h^T are exact (float64); wider networks take them
  from a float32 matrix product (relative error ~1e-7, far below the sampling error; see
  ``python -m nnqft.bench --kernel-check``), which is several times faster than converting the
  hidden layer to float64.
"""

from __future__ import annotations

import functools
import logging
import time

import jax
import jax.numpy as jnp
import numpy as np

from nnqft import blocks, correlators, moment_sums, networks
from nnqft.networks import NetworkSpec

log = logging.getLogger(__name__)

# Widest network whose empirical kernel h h^T is summed in float64 (exactly, from float32 inputs).
# Wider ones use a float32 product: at width 1000 the float64 one costs more than the rest of the
# engine together, while its float32 rounding (~1e-7 relative) is far below any standard error.
EXACT_KERNEL_MAX_WIDTH = 256


def sweep_name(activation: str, d_in: int) -> str:
    """Stable name of P1's width sweep of one (activation, d_in); it keys the sweep's random streams."""
    return f"deviation/{activation}/d{d_in}"


def footprint(spec: NetworkSpec, width: int, n_points: int, orders) -> int:
    """Array elements budgeted per network of a vectorised call: parameters, hidden layer, moments.

    It sets the batch size, and batch j of a block uses the key fold_in(block_key, j): this formula
    fixes every ensemble's random stream, so it stays as it was written for the per-network engine
    (whose gathers took 4 d_out T max(orders) elements), an upper bound of today's use.
    """
    t_max = max(len(correlators.multisets(n_points, n)) for n in orders)
    return networks.n_normals(spec, width) + 2 * width * n_points + 4 * spec.d_out * t_max * max(orders)


def forward(spec: NetworkSpec, width: int, x: np.ndarray, key, batch: int, dtype):
    """Draw and run ``batch`` networks: outputs f (batch, d_out, P) in float64, last hidden layer h (batch, N, P)."""
    h, f = networks.sample_forward(spec, width, x, batch, key=key, dtype=dtype)
    return f.astype(jnp.float64), h


def empirical_kernel(spec: NetworkSpec, width: int, h, exact: bool):
    """Kh = sb^2 + (sw^2 / N) h h^T per network, (batch, P, P) float64.

    ``exact``: products and sums in float64 (float32 products are exact there); otherwise a float32
    matrix product on the (batch, P, N) layout, the fast one on CPU, converted to float64 after.
    """
    if exact:
        hh = jnp.einsum("bnp,bnq->bpq", h, h, preferred_element_type=jnp.float64)
    else:
        t = jnp.swapaxes(h, 1, 2)
        hh = jnp.einsum("bpn,bqn->bpq", t, t).astype(jnp.float64)
    return spec.sb**2 + spec.sw**2 / width * hh


def _pairs(n: int, with_mean: bool) -> list[int]:
    """Numbers of Wick pairs in the conditional moment of order n: all with a mean, else n/2 only."""
    if with_mean:
        return list(range(n // 2 + 1))
    return [n // 2] if n % 2 == 0 else []  # odd moments of a zero-mean Gaussian vanish


@functools.lru_cache(maxsize=16)
def statistics_plans(n_points: int, orders: tuple, with_mean: bool):
    """The monomial-sum plans of the plain moments (variables f) and of the Wick sums (Kh entries, then m)."""
    plain = moment_sums.plan({n: moment_sums.moment_terms(n_points, n) for n in orders})
    wick = moment_sums.plan({(n, k): moment_sums.wick_terms(n_points, n, k)
                             for n in orders for k in _pairs(n, with_mean)})
    return plain, wick


def rao_blackwell_variables(spec: NetworkSpec, width: int, h, exact_kernel: bool):
    """Per-network variables of the Wick sums: Kh_ab (a <= b, ``moment_sums.kernel_variables``), then,
    with output means, the hidden-unit sums sum_i h_i(x_a). (batch, V) float64 from ``h`` (batch, N, P)."""
    rows, cols = moment_sums.kernel_variables(h.shape[-1]).T
    v = empirical_kernel(spec, width, h, exact_kernel)[:, rows, cols]
    if np.any(spec.output_means):  # the conditional mean of output o is mu_o sum_i h_i(x)
        v = jnp.concatenate([v, h.sum(axis=1, dtype=jnp.float64)], axis=-1)
    return v


def accumulate(f, v, mask, orders: tuple, means: tuple, scale_moments: tuple) -> dict:
    """Masked float64 sums over a batch of plain and Rao-Blackwell moments: {n: (plain, rb)}, (d_out, T_n) each.

    ``f`` (batch, d_out, P) outputs, ``v`` (batch, V) ``rao_blackwell_variables``, ``mask`` (batch,) 1 for
    valid networks; ``means`` the output means mu_o (all 0: no mean), ``scale_moments`` E[s^n] per order.
    Nothing here depends on the width, so one compiled statistics serves every width of a sweep.
    """
    n_points = f.shape[-1]
    with_mean = any(means)
    mu = np.asarray(means, dtype=np.float64)
    plain_plan, wick_plan = statistics_plans(n_points, orders, with_mean)
    plain = moment_sums.sums(plain_plan, jnp.swapaxes(f, 0, 1), mask)  # output rows as the leading axis
    wick = moment_sums.sums(wick_plan, v, mask)
    out = {}
    for n, scale in zip(orders, scale_moments):
        rb = jnp.zeros_like(plain[n])
        for k in _pairs(n, with_mean):
            # the n - 2k unpaired slots each carry the output's mean mu_o
            rb = rb + (mu[:, None] ** (n - 2 * k) if with_mean else 1.0) * wick[(n, k)]
        # A shared output scale s is independent of the hidden layer: E[prod f | h] carries E[s^n].
        out[n] = (plain[n], scale * rb)
    return out


@functools.lru_cache(maxsize=16)
def _statistics(orders: tuple, means: tuple, scale_moments: tuple):
    """Jitted ``(f, v, n_valid) -> accumulate(...)``, shared by every width, input set and activation with
    the same orders, output means and scale moments: it compiles once per array shape (in-process), and
    JAX's persistent cache shares that compilation between jobs (the statistics were most of each
    width's compile time)."""

    @jax.jit
    def statistics(f, v, n_valid):
        mask = (jnp.arange(f.shape[0]) < n_valid).astype(jnp.float64)
        return accumulate(f, v, mask, orders, means, scale_moments)

    return statistics


@functools.lru_cache(maxsize=64)
def _batch_sums(spec: NetworkSpec, x_rows: tuple, width: int, orders: tuple, dtype: str, exact_kernel: bool):
    """(key, n_valid, batch) -> {n: (plain, rb)} float64 sums over the batch's first n_valid networks.

    The forward pass, the kernel variables and the statistics are separate jitted calls: compiled
    together, XLA recomputes the cheap elementwise part of the forward pass (normals, erf) inside
    the consumers, in code whose float32 rounding differs in the last bit from the forward pass on
    its own, so the moments would depend on how the statistics are computed. Cached on its
    (hashable) arguments, so each width compiles its forward pass once per process.
    """
    x = np.array(x_rows, dtype=np.float64)
    run_forward = jax.jit(lambda key, batch: forward(spec, width, x, key, batch, jnp.dtype(dtype)), static_argnums=1)
    variables = jax.jit(lambda h: rao_blackwell_variables(spec, width, h, exact_kernel))
    statistics = _statistics(orders, tuple(spec.output_means.tolist()), tuple(spec.scale_moment(n) for n in orders))

    def sums(key, n_valid, batch):
        f, h = run_forward(key, batch)
        return statistics(f, variables(h), n_valid)

    return sums


def block_means(spec: NetworkSpec, x, width: int, sampling: blocks.Sampling, keys, orders=(2, 4, 6), *,
                exact_kernel: bool | None = None):
    """Block means of plain and Rao-Blackwell moments for each key in ``keys``.

    Returns {n: (plain, rb)} with arrays (len(keys), d_out, T_n) in float64. ``exact_kernel``
    overrides the width rule of ``EXACT_KERNEL_MAX_WIDTH`` (to measure the float32 kernel's effect).
    """
    x = np.asarray(x, dtype=np.float64)
    batch = sampling.batch_size(footprint(spec, width, len(x), orders))
    if exact_kernel is None:
        exact_kernel = width <= EXACT_KERNEL_MAX_WIDTH
    sums = _batch_sums(spec, tuple(map(tuple, x.tolist())), width, tuple(orders), sampling.dtype, exact_kernel)
    return blocks.block_means_of_sums(sums, keys, sampling.block_size, batch)


def run_shard(spec: NetworkSpec, x, widths, sampling: blocks.Sampling, *, ensemble: str, blocks: range,
              orders=(2, 4, 6)):
    """Block means for every width over the given blocks (keys from ``sampling.seed``).

    Returns {n: (plain, rb)} with arrays (len(widths), len(blocks), d_out, T_n).
    """
    per_width = []
    for width in widths:
        start = time.perf_counter()
        keys = sampling.block_keys(ensemble, width, blocks)
        per_width.append(block_means(spec, x, width, sampling, keys, orders))
        elapsed = time.perf_counter() - start
        n_net = len(blocks) * sampling.block_size
        log.info("%s N=%d: %d networks in %.1f s (%.3g networks/s)", ensemble, width, n_net, elapsed,
                 n_net / max(elapsed, 1e-9))
    return {n: tuple(np.stack([w[n][i] for w in per_width]) for i in (0, 1)) for n in orders}
