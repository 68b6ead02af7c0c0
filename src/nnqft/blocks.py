"""Keyed streaming of per-network statistics into block means (the unit of error bars).

The engine under every ensemble (``nnqft.ensemble``, ``nnqft.fieldtheory``, ``nnqft.symmetry``). It owns
every random stream: ``stream(seed, prng, *path)`` folds the stable id of each name (and each integer)
of the path into the root key, so block b of an experiment has the key ``stream(seed, prng, name, width, b)``
and its batch j the key ``fold_in(block_key, j)``; auxiliary streams (transforms, input points) are other
paths of the same tree. No other module derives keys from the seed. The last batch is padded and masked, so each statistic compiles once and a block's value does
not depend on the batch size used to compute it in any other way than floating-point summation
order. Block means of any pytree of per-network statistics feed ``estimators.jackknife`` or
``estimators.mean_and_stderr``.
"""

from __future__ import annotations

import functools
import logging
import math
import time
import zlib
from dataclasses import dataclass, replace

import jax
import jax.numpy as jnp
import numpy as np

log = logging.getLogger(__name__)


def stable_id(name: str) -> int:
    """A process-independent 31-bit integer for a name (Python's hash() is salted per process)."""
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def root_key(seed: int, prng: str = "philox4x32"):
    return jax.random.key(seed, impl=prng)


def fold_path(key, *path):
    """Fold each part of ``path`` into ``key``: names by their stable id, integers as they are."""
    for part in path:
        key = jax.random.fold_in(key, stable_id(part) if isinstance(part, str) else int(part))
    return key


def stream(seed: int, prng: str, *path):
    """The key of the stream at ``path`` under the root key of ``seed``, e.g. (name, width, block)."""
    return fold_path(root_key(seed, prng), *path)


def block_keys(seed: int, prng: str, name: str, width: int, blocks) -> list:
    """Keys of the given blocks of experiment ``name`` at one width: seed -> name -> width -> block."""
    root = fold_path(root_key(seed, prng), name, width)
    return [jax.random.fold_in(root, b) for b in blocks]


def shard_blocks(n_blocks: int, n_shards: int, shard: int) -> range:
    """The contiguous block range of one shard (shards differ in size by at most one block)."""
    if not 0 <= shard < n_shards:
        raise ValueError(f"shard {shard} outside 0..{n_shards - 1}")
    edges = np.linspace(0, n_blocks, n_shards + 1).round().astype(int)
    return range(edges[shard], edges[shard + 1])


def block_size(n_networks: int, n_blocks: int) -> int:
    """Networks per block; the ensemble must split into n_blocks >= 2 equal blocks."""
    if n_blocks < 2 or n_networks < 1 or n_networks % n_blocks:
        raise ValueError(f"n_networks = {n_networks} must be a positive multiple of n_blocks = {n_blocks} >= 2")
    return n_networks // n_blocks


@dataclass(frozen=True)
class Sampling:
    """How one experiment's ensemble is generated: size, equal blocks, memory budget, random stream, dtype."""

    seed: int
    n_networks: int
    n_blocks: int
    batch_elements: int = 2**24
    prng: str = "philox4x32"
    dtype: str = "float32"

    def __post_init__(self):
        block_size(self.n_networks, self.n_blocks)  # raises unless the blocks are equal

    @property
    def block_size(self) -> int:
        return block_size(self.n_networks, self.n_blocks)

    def with_networks(self, n_networks: int) -> "Sampling":
        return replace(self, n_networks=n_networks)

    def batch_size(self, elements_per_network: int) -> int:
        """Networks per vectorised call: the memory budget divided by one network's footprint, with
        the batches of a block as equal as possible (the padded tail stays below one network per batch)."""
        budget = max(1, min(self.block_size, self.batch_elements // max(1, elements_per_network)))
        return math.ceil(self.block_size / math.ceil(self.block_size / budget))

    def stream(self, *path):
        """An auxiliary stream of this experiment's seed (transforms, random inputs, checks)."""
        return stream(self.seed, self.prng, *path)

    def block_keys(self, name: str, width: int, blocks=None) -> list:
        """Keys of the given blocks (default: all) of experiment ``name`` at one width."""
        return block_keys(self.seed, self.prng, name, width, range(self.n_blocks) if blocks is None else blocks)

    def run(self, per_network, name: str, width: int, elements_per_network: int):
        """Block means of ``per_network`` statistics over the whole ensemble (see ``run``)."""
        return run(per_network, seed=self.seed, name=name, width=width, n_networks=self.n_networks,
                   n_blocks=self.n_blocks, batch=self.batch_size(elements_per_network), prng=self.prng)


@functools.lru_cache(maxsize=64)
def masked_batch_sums(per_network):
    """Wrap ``per_network(key, batch) -> pytree of (batch, ...) arrays`` into a jitted
    ``(key, n_valid) -> pytree of float64 sums over the first n_valid networks``."""

    def sums(key, n_valid, batch):
        stats = per_network(key, batch)
        mask = (jnp.arange(batch) < n_valid).astype(jnp.float64)
        return jax.tree_util.tree_map(lambda s: jnp.tensordot(mask, s.astype(jnp.float64), axes=1), stats)

    return jax.jit(sums, static_argnums=2)


def block_means(per_network, keys, block_size: int, batch: int):
    """Block means of the statistics for each block key: pytree of arrays (len(keys), ...).

    ``per_network(key, batch)`` returns a pytree of per-network statistics with leading axis
    ``batch``; it is traced once. Batches of one block use ``fold_in(block_key, j)``.
    """
    return block_means_of_sums(masked_batch_sums(per_network), keys, block_size, batch)


def block_means_of_sums(fn, keys, block_size: int, batch: int):
    """Block means from a jitted ``fn(key, n_valid, batch)`` -> pytree of float64 sums over the
    first n_valid networks of a batch (for statistics that sum over networks themselves, e.g. as
    matrix products). Batches of one block use ``fold_in(block_key, j)``.
    """
    if block_size < 1 or batch < 1:
        raise ValueError(f"block_size = {block_size} and batch = {batch} must be >= 1")
    batch = min(batch, block_size)
    n_batches = math.ceil(block_size / batch)
    out = []
    for key in keys:
        total = None
        for j in range(n_batches):
            part = fn(jax.random.fold_in(key, j), min(batch, block_size - j * batch), batch)
            part = jax.tree_util.tree_map(np.asarray, part)
            total = part if total is None else jax.tree_util.tree_map(np.add, total, part)
        out.append(jax.tree_util.tree_map(lambda s: s / block_size, total))
    return jax.tree_util.tree_map(lambda *xs: np.stack(xs), *out)


def run(per_network, *, seed: int, name: str, width: int, n_networks: int, n_blocks: int,
        batch: int, prng: str = "philox4x32"):
    """Block means of an experiment: keys from (seed, name, width, block) as in the ensembles."""
    size = block_size(n_networks, n_blocks)
    keys = block_keys(seed, prng, name, width, range(n_blocks))
    start = time.perf_counter()
    means = block_means(per_network, keys, size, batch)
    log.info("%s N=%d: %d networks in %.1f s", name, width, n_networks, time.perf_counter() - start)
    return means
