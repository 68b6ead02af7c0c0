"""Keyed, blocked, streaming generation of network ensembles into float64 moment sums.

Design
------
* The unit of randomness is the **block**: ``n_networks / n_blocks`` networks of one width.
  Its key is ``blocks.block_keys``' seed -> ensemble name -> width -> block, so a block's value
  never depends on which shard (Snakemake job, ``blocks.shard_blocks``) computes it or how many
  shards there are.
* A block is generated in vectorised **batches** whose size is set by a memory budget
  (``batch_elements``), never by the ensemble size; batch j of a block uses ``fold_in(block_key, j)``.
  The last batch is padded and masked, so each width compiles once.
* Outputs are sampled in float32 (configurable) and every product and sum is taken in float64.
* Besides the plain moments E[f_a1 ... f_an], each block also accumulates the Rao-Blackwell
  estimator: given the hidden layer, f is Gaussian with the network's empirical kernel
  Kh = sb^2 + (sw^2/N) h h^T (and mean mu1 sum_i h_i), so E[prod f | hidden] is a Wick sum
  (times E[s^n] for a shared output scale s, which is independent of the hidden layer).
"""

from __future__ import annotations

import functools
import logging
import time

import jax
import jax.numpy as jnp
import numpy as np

from nnqft import blocks, correlators, networks
from nnqft.networks import NetworkSpec

log = logging.getLogger(__name__)


def sweep_name(activation: str, d_in: int) -> str:
    """Stable name of P1's width sweep of one (activation, d_in); it keys the sweep's random streams."""
    return f"deviation/{activation}/d{d_in}"


def footprint(spec: NetworkSpec, width: int, n_points: int, orders) -> int:
    """Array elements one network occupies in a vectorised call: parameters, hidden layer, moments."""
    t_max = max(len(correlators.multisets(n_points, n)) for n in orders)
    return networks.n_normals(spec, width) + 2 * width * n_points + 4 * spec.d_out * t_max * max(orders)


@functools.lru_cache(maxsize=64)
def _per_network(spec: NetworkSpec, x_rows: tuple, width: int, orders: tuple, dtype: str):
    """(key, batch) -> {n: (plain, Rao-Blackwell)} per-network moments, each (batch, d_out, T_n).

    Cached on its (hashable) arguments: the same function object lets ``blocks`` reuse its
    compiled batch sums, so each width compiles once per process.
    """
    x = np.array(x_rows, dtype=np.float64)
    tuples = {n: correlators.multisets(len(x), n) for n in orders}
    means = spec.output_means
    with_mean = bool(np.any(means))

    def per_network(key, batch):
        h, f = networks.sample_forward(spec, width, x, batch, key=key, dtype=jnp.dtype(dtype))  # h: last hidden layer
        f = f.astype(jnp.float64)
        kh = spec.sb**2 + spec.sw**2 / width * jnp.einsum(
            "bnp,bnq->bpq", h, h, preferred_element_type=jnp.float64
        )
        hsum = h.astype(jnp.float64).sum(axis=1)  # (b, P)
        cond_mean = means[None, :, None] * hsum[:, None, :] if with_mean else None
        out = {}
        for n, t in tuples.items():
            plain = f[..., t].prod(axis=-1)  # (b, d_out, T)
            # A shared output scale s is independent of the hidden layer: E[prod f | h] carries E[s^n].
            rb = spec.scale_moment(n) * correlators.gaussian_moments(kh[:, None], t, cond_mean)
            out[n] = (plain, jnp.broadcast_to(rb, plain.shape))
        return out

    return per_network


def block_means(spec: NetworkSpec, x, width: int, sampling: blocks.Sampling, keys, orders=(2, 4, 6)):
    """Block means of plain and Rao-Blackwell moments for each key in ``keys``.

    Returns {n: (plain, rb)} with arrays (len(keys), d_out, T_n) in float64.
    """
    x = np.asarray(x, dtype=np.float64)
    batch = sampling.batch_size(footprint(spec, width, len(x), orders))
    per_network = _per_network(spec, tuple(map(tuple, x.tolist())), width, tuple(orders), sampling.dtype)
    return blocks.block_means(per_network, keys, sampling.block_size, batch)


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
